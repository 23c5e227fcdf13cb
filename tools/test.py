"""Evaluate a checkpoint on the test split: ``python tools/test.py CONFIG CHECKPOINT``.

Prints a table of the metrics, writes them as JSON with ``--out``, and (for classification)
saves the confusion matrix as PNG and JSON in the work dir.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a vtt checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for logs and outputs (default: '
                        './work_dirs/<config name>)')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=32')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='job launcher (pytorch = started by torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmengine.dist import is_main_process

    from vtt.utils import register_all_modules
    from vtt.utils.cli import user_errors
    from vtt.utils.io import dump_json_atomic
    from vtt.utils.summary import print_metrics, scalar_metrics

    register_all_modules(init_default_scope=False)
    with user_errors():
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
        cfg = Config.fromfile(args.config)
        cfg.launcher = args.launcher
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        if args.work_dir is not None:
            cfg.work_dir = args.work_dir
        elif cfg.get('work_dir', None) is None:
            cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
        cfg.load_from = args.checkpoint
        cfg.resume = False
        if args.launcher == 'pytorch':
            from vtt.utils import init_cpu_distributed
            init_cpu_distributed(cfg)
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
        if is_main_process():
            classes = getattr(runner.test_dataloader.dataset, 'metainfo', {}).get('classes')
            print_metrics(metrics, title=f'Test metrics ({osp.basename(args.checkpoint)})',
                          classes=classes)
            if args.out:
                dump_json_atomic(dict(checkpoint=args.checkpoint,
                                      metrics=scalar_metrics(metrics),
                                      confusion_matrix=next((v for k, v in metrics.items()
                                                             if k.endswith('confusion_matrix')),
                                                            None)), args.out)
                print(f'metrics written to {args.out}')


if __name__ == '__main__':
    main()
