"""Run the meteo cascade on images: one JSON line per image.

    python tools/meteo/infer.py IMAGE_OR_DIR [IMAGE_OR_DIR ...] --gate CKPT
        [--gate-config CONFIG] [--out results.jsonl] [--batch-size 16]

Stage 1 (the gate) decides whether each image is a weather chart, with the threshold that was
calibrated on validation and saved in the checkpoint:

    {"path": "a.png", "is_meteo": true, "gate_score": 0.97, "gate_threshold": 0.51}

Folders are searched recursively for image files. An image that cannot be read gets
``{"path": ..., "error": "..."}`` and the run goes on. The model's config is read from the
checkpoint (mmengine stores it there) unless ``--gate-config`` is given; of its test pipeline
only the deterministic resizing is applied (the augmentations are for training and
evaluation). A progress bar runs on stderr and a summary table ends the run; the JSON lines go
to stdout or, written atomically, to ``--out``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
import torch  # noqa: E402

from vtt.utils.cli import user_errors  # noqa: E402
from vtt.utils.errors import ConfigError  # noqa: E402

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.gif', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--gate', required=True, help='gate checkpoint')
    parser.add_argument('--gate-config', help='gate config (default: the one in the checkpoint)')
    parser.add_argument('--out', help='write the JSON lines here instead of stdout')
    parser.add_argument('--batch-size', type=int, default=16)
    return parser.parse_args(argv)


def find_images(inputs):
    paths = []
    for item in inputs:
        if osp.isdir(item):
            for folder, _, files in sorted(os.walk(item)):
                paths += [osp.join(folder, f) for f in sorted(files)
                          if f.lower().endswith(IMAGE_EXTENSIONS)]
        elif osp.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f'no such image or folder: {item}')
    return paths


def load_stage(checkpoint, config=None):
    """The model of a stage checkpoint and the deterministic transforms of its test pipeline."""
    from mmengine.config import Config

    from vtt.apis import init_model
    from vtt.registry import TRANSFORMS
    from vtt.utils.compat import safe_torch_load
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    if config is not None:
        cfg = Config.fromfile(config)
    else:
        text = (safe_torch_load(checkpoint).get('meta') or {}).get('cfg')
        if not text:
            raise ConfigError(f'{checkpoint} carries no config; pass it with --gate-config')
        cfg = Config.fromstring(text, '.py')
    model = init_model(cfg, checkpoint)
    pipeline = cfg.test_dataloader.dataset.get('pipeline', [])
    resize = [TRANSFORMS.build(t) for t in pipeline if t.get('type') == 'TorchVisionTransform']
    return model, resize


@torch.no_grad()
def run_gate(model, resize, paths, batch_size, emit, progress, task):
    from PIL import Image

    from vtt.datasets.meteo_charts import image_to_tensor, run_pipeline
    threshold = float(model.head.threshold)
    counts = dict(images=len(paths), charts=0, other=0, unreadable=0)
    batch, names = [], []

    def flush():
        if not batch:
            return
        data = model.data_preprocessor(dict(inputs=torch.stack(batch)), False)
        for name, record in zip(names, model.predict(data['inputs'])):
            score = float(record['pred_score'])
            is_meteo = bool(record['pred_label'])
            counts['charts' if is_meteo else 'other'] += 1
            emit(dict(path=name, is_meteo=is_meteo, gate_score=round(score, 6),
                      gate_threshold=round(threshold, 6)))
        progress.advance(task, len(batch))
        batch.clear()
        names.clear()

    for path in paths:
        try:
            with Image.open(path) as image:
                resized = run_pipeline(resize, dict(img=image.convert('RGB')))['img']
            tensor = image_to_tensor(resized)
        except Exception as error:  # any decoding failure: report the file and go on
            counts['unreadable'] += 1
            emit(dict(path=path, error=f'{type(error).__name__}: {error}'))
            progress.advance(task, 1)
            continue
        batch.append(tensor)
        names.append(path)
        if len(batch) == batch_size:
            flush()
    flush()
    return counts


def main(argv=None):
    args = parse_args(argv)
    with user_errors():
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table

        from vtt.utils.io import atomic_open
        paths = find_images(args.inputs)
        if not paths:
            raise FileNotFoundError(f'no image files ({", ".join(IMAGE_EXTENSIONS)}) in '
                                    f'{args.inputs}')
        model, resize = load_stage(args.gate, args.gate_config)
        lines = []
        start = time.perf_counter()
        console = Console(stderr=True)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task('gate', total=len(paths))
            counts = run_gate(model, resize, paths, args.batch_size,
                              lambda record: lines.append(json.dumps(record, ensure_ascii=False)),
                              progress, task)
        if args.out:
            with atomic_open(args.out, 'w', encoding='utf-8') as handle:
                handle.write('\n'.join(lines) + '\n')
        else:
            print('\n'.join(lines), flush=True)
        table = Table(title='Meteo cascade')
        for key in ('images', 'charts', 'other', 'unreadable'):
            table.add_column(key, justify='right')
        table.add_column('seconds', justify='right')
        table.add_row(*(str(counts[k]) for k in ('images', 'charts', 'other', 'unreadable')),
                      f'{time.perf_counter() - start:.1f}')
        console.print(table)
        if args.out:
            console.print(f'{len(lines)} lines written to {args.out}')


if __name__ == '__main__':
    main()
