"""Seconds per CMG pretraining step at the official AVE shapes.

    python tools/benchmarks/cmg_step.py                     # float32, 3 timed steps
    python tools/benchmarks/cmg_step.py --steps 5 --threads 2

Builds ``configs/cmg/ave_audio_video.py`` (the official encoder and decoder sizes: audio 128-d
per step, video 7 x 7 x 512 maps per step, T = 10, 400 codes, Cross-CPC K = 1, CLUB with 5
estimator steps) and runs full training steps (forward, the 5 CLUB steps, backward, clipping,
Adam) on random inputs of batch 80, as mmengine's training loop does
(``model.train_step(data, optim_wrapper)``). One warm-up step is not timed. Prints one line::

    seconds_per_step=... steps=N batch=80 threads=T dtype=float32

The official code's step (float64, Python loops over codes in its EMA and dead-code handling)
takes 205.6 s on a 2-core CPU of the kind CI uses (58.1 s in float32).
"""
import argparse
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=osp.join(ROOT, 'configs/cmg/ave_audio_video.py'))
    parser.add_argument('--steps', type=int, default=3, help='timed steps')
    parser.add_argument('--batch', type=int, default=80)
    parser.add_argument('--time-steps', type=int, default=10, help='T')
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from vtt.registry import MODELS
    from vtt.setup_env import register_all_modules
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    b, t = args.batch, args.time_steps
    data = dict(inputs=dict(audio=torch.randn(b, 128, t),
                            video=torch.relu(torch.randn(b, t, 512, 7, 7))),
                data_samples=None)
    model.train_step(data, optim_wrapper)  # warm-up (allocations, CLUB optimizer)
    start = time.perf_counter()
    for _ in range(args.steps):
        log = model.train_step(data, optim_wrapper)
    seconds = (time.perf_counter() - start) / args.steps
    assert all(torch.isfinite(v).all() for v in log.values()), log
    print(f'seconds_per_step={seconds:.2f} steps={args.steps} batch={b} '
          f'threads={torch.get_num_threads()} dtype=float32', flush=True)


if __name__ == '__main__':
    main()
