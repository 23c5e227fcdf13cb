"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

After training, the best checkpoint (by the monitored validation metric) is evaluated on the
test split and the metrics are printed and saved (skip with ``--no-test``).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
from mmengine.runner import Runner  # noqa: E402

from vtt.utils.cli import add_runner_args, apply_runner_args, load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a vtt model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the latest checkpoint in the work dir (no value or "auto") or from '
        'the given checkpoint file')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a CUDA GPU)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log to TensorBoard (event files under the run\'s vis_data/)')
    parser.add_argument('--no-test', action='store_true',
                        help='do not evaluate the best checkpoint on the test split afterwards')
    add_runner_args(parser)
    return parser.parse_args(argv)


def merge_args(cfg, args):
    """Fold the command-line options into the config."""
    from vtt.utils.amp import check_amp_available

    if args.amp:
        check_amp_available()
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.tensorboard:
        backends = list(cfg.visualizer.get('vis_backends', []))
        if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
            backends.append(dict(type='TensorboardVisBackend'))
        cfg.visualizer.vis_backends = backends
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        ckpt = cfg.default_hooks.get('checkpoint')
        if ckpt is not None:
            ckpt.pop('save_best', None)
        cfg.param_scheduler = [s for s in ([cfg.param_scheduler] if isinstance(
            cfg.param_scheduler, dict) else cfg.param_scheduler or [])
                               if s.get('type') != 'ReduceOnPlateauLR'] or None
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                            if 'EarlyStopping' not in h.get('type', '')]
        hooks = cfg.get('default_hooks') or {}
        for name, hook in list(hooks.items()):
            if hook is not None and 'EarlyStopping' in str(hook.get('type', '')):
                hooks[name] = None
    apply_runner_args(cfg, args)
    from vtt.utils.faults import FAULT_POINT_ENV
    if os.environ.get(FAULT_POINT_ENV):  # fault-injection tests only (vtt.utils.faults)
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='FaultPointHook')]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors

    register_all_modules(init_default_scope=False)
    with user_errors():
        cfg = load_config(args.config)
        cfg = merge_args(cfg, args)
        runner = Runner.from_cfg(cfg)
        from vtt.utils.summary import parameter_counts
        counts = parameter_counts(runner.model)
        runner.logger.info(f'Parameters: {counts["total"] / 1e6:.2f}M total, '
                           f'{counts["trainable"] / 1e6:.2f}M trainable '
                           f'({100 * counts["trainable"] / max(counts["total"], 1):.1f}%)')
        runner.train()
        if not args.no_test and cfg.get('test_dataloader') is not None:
            from vtt.apis.train import test_best_checkpoint
            test_best_checkpoint(runner)


if __name__ == '__main__':
    main()
