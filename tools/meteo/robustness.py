"""How a trained gate holds up at other resolutions and JPEG qualities.

    python tools/meteo/robustness.py CONFIG CHECKPOINT [--sizes 160x120 320x240 640x480]
        [--jpeg 90 50 20] [--split test] [--out DIR]

For every condition the config's evaluation split is re-read with its own pipeline, changed in
one way: the final ``Resize`` goes to the condition's size (WIDTHxHEIGHT), or every image is
re-encoded as JPEG at the condition's quality (``JpegCompress``, right before the resize). The
checkpoint's calibrated threshold is applied throughout. Prints a rich table (AUC, F1,
precision, recall, EER per condition; ``reference`` is the config's own pipeline) and writes it
to ``DIR/robustness.json`` and ``.csv`` (default: next to the checkpoint).
"""
import argparse
import copy
import csv
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
from vtt.utils.cli import user_errors  # noqa: E402
from vtt.utils.errors import ConfigError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--sizes', nargs='*', default=['160x120', '320x240', '640x480'],
                        help='input sizes WIDTHxHEIGHT')
    parser.add_argument('--jpeg', nargs='*', type=int, default=[90, 50, 20],
                        help='JPEG qualities')
    parser.add_argument('--split', default='test', choices=['val', 'test'])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--out', help='folder for robustness.json/.csv')
    return parser.parse_args(argv)


def parse_size(text):
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise ConfigError(f'--sizes takes WIDTHxHEIGHT, e.g. 320x240; got {text!r}') from None
    return width, height


def conditions(pipeline, sizes, qualities):
    """``(name, pipeline)`` per condition; the config's last transform must be the Resize."""
    last = pipeline[-1] if pipeline else {}
    if last.get('type') != 'TorchVisionTransform' or last.get('transform') != 'Resize':
        raise ConfigError('the evaluation pipeline must end with TorchVisionTransform('
                          "transform='Resize') for the robustness conditions")
    yield 'reference', pipeline
    for width, height in sizes:
        changed = copy.deepcopy(pipeline)
        changed[-1]['size'] = (height, width)
        yield f'size {width}x{height}', changed
    for quality in qualities:
        changed = [t for t in copy.deepcopy(pipeline) if t.get('type') != 'JpegCompress']
        changed.insert(len(changed) - 1,
                       dict(type='JpegCompress', quality=(quality, quality), prob=1.0))
        yield f'jpeg q{quality}', changed


def evaluate(model, dataset, batch_size):
    import torch
    from rich.progress import track
    from torch.utils.data import DataLoader, default_collate

    from vtt.registry import METRICS
    metric = METRICS.build(dict(type='BinaryClsMetric'))
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=default_collate)
    with torch.no_grad():
        for batch in track(loader, description=f'{len(dataset)} images', transient=True):
            data = model.data_preprocessor(batch, False)
            metric.process(None, model.predict(data['inputs'], data['data_samples']))
    return metric.evaluate(len(dataset))


def main(argv=None):
    args = parse_args(argv)
    with user_errors():
        from rich.console import Console
        from rich.table import Table

        from vtt.apis import init_model
        from vtt.registry import DATASETS
        from vtt.utils.cli import load_config
        from vtt.utils.io import atomic_open, dump_json_atomic
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
        cfg = load_config(args.config)
        model = init_model(cfg, args.checkpoint)
        dataset_cfg = cfg[f'{args.split}_dataloader']['dataset']
        rows = []
        for name, pipeline in conditions(list(dataset_cfg.get('pipeline', [])),
                                         [parse_size(s) for s in args.sizes], args.jpeg):
            dataset = DATASETS.build(dict(copy.deepcopy(dataset_cfg), pipeline=pipeline))
            metrics = evaluate(model, dataset, args.batch_size)
            row = dict(condition=name, images=len(dataset),
                       **{k.split('/')[-1]: v for k, v in metrics.items()
                          if k.split('/')[-1] in ('auc', 'f1', 'precision', 'recall', 'eer')})
            rows.append(row)
            print(' '.join(f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}'
                           for k, v in row.items()), flush=True)
        table = Table(title=f'Gate robustness ({args.split}, threshold '
                            f'{float(model.head.threshold):.3f})')
        for column in rows[0]:
            table.add_column(column, justify='left' if column == 'condition' else 'right')
        for row in rows:
            table.add_row(*(f'{v:.3f}' if isinstance(v, float) else str(v)
                            for v in row.values()))
        Console().print(table)
        out = args.out or osp.dirname(osp.abspath(args.checkpoint))
        dump_json_atomic(dict(checkpoint=args.checkpoint, split=args.split, rows=rows),
                         osp.join(out, 'robustness.json'))
        with atomic_open(osp.join(out, 'robustness.csv'), 'w', newline='') as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f'written to {osp.join(out, "robustness.json")} and .csv')


if __name__ == '__main__':
    main()
