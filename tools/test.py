"""Evaluate a checkpoint on the test split: ``python tools/test.py CONFIG CHECKPOINT``.

Prints a table of the metrics, writes them as JSON with ``--out``, and (for classification)
saves the confusion matrix as PNG and JSON in the work dir.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
from mmengine.runner import Runner  # noqa: E402

from vtt.utils.cli import add_runner_args, apply_runner_args, load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a vtt checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.dist import is_main_process

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    from vtt.utils.io import dump_json_atomic
    from vtt.utils.summary import print_metrics, scalar_metrics

    register_all_modules(init_default_scope=False)
    with user_errors():
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
        cfg = load_config(args.config)
        apply_runner_args(cfg, args)
        cfg.load_from = args.checkpoint
        cfg.resume = False
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
        if is_main_process():
            classes = getattr(runner.test_dataloader.dataset, 'metainfo', {}).get('classes')
            print_metrics(metrics, title=f'Test metrics ({osp.basename(args.checkpoint)})',
                          classes=classes)
            record = dict(checkpoint=args.checkpoint, metrics=scalar_metrics(metrics),
                          confusion_matrix=next((v for k, v in metrics.items()
                                                 if k.endswith('confusion_matrix')), None))
            for out in filter(None, (osp.join(cfg.work_dir, 'test_metrics.json'), args.out)):
                dump_json_atomic(record, out)
                print(f'metrics written to {out}')


if __name__ == '__main__':
    main()
