"""Run the meteo cascade on images: one JSON line per image.

    python tools/meteo/infer.py IMAGE_OR_DIR [IMAGE_OR_DIR ...] --gate CKPT [--elements CKPT]
        [--products CKPT_OR_DIR [--vocab labels.yaml] [--top-k 5]]
        [--gate-config CONFIG] [--elements-config CONFIG] [--products-config CONFIG]
        [--out results.jsonl] [--batch-size 16]

Stage 1 (the gate) decides whether each image is a weather chart, with the threshold that was
calibrated on validation and saved in the checkpoint. Stage 2 (``--elements``, the CNN-RNN
element recogniser) then names the elements of every chart the gate passed: the decision of
the checkpoint's decoding (beam search by default, or the parallel head at its per-label
thresholds), each with the parallel head's probability (``score``) and its share of the beam
pool (``beam``). Stage 3 (``--products``, the Gemma 3 product classifier; a checkpoint or its
work directory) ranks the products whose required elements were mostly detected, with a
probability each at the temperature fitted on validation:

    {"path": "a.png", "is_meteo": true, "gate_score": 0.97, "gate_threshold": 0.51,
     "elements": [{"id": "pressure", "score": 0.99, "beam": 1.0}, ...],
     "element_decoding": "beam", "candidates": ["surface_pressure", "surface_analysis"],
     "products": [{"id": "surface_pressure", "name": "...", "prob": 0.93,
                   "log_likelihood": -0.41}, ...],
     "product": "surface_pressure", "product_temperature": 0.36}

Images the gate rejects get no ``elements``. Folders are searched recursively for image files.
An image that cannot be read gets ``{"path": ..., "error": "..."}`` and the run goes on. Each
model's config is read from its checkpoint (mmengine stores it there) unless given; of its
test pipeline only the deterministic resizing is applied (the augmentations are for training
and evaluation). A progress bar runs on stderr and a summary table ends the run; the JSON lines
go to stdout or, written atomically, to ``--out``. The same from Python:
:class:`vtt.apis.MeteoCascade`.
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

from vtt.apis.meteo_cascade import MeteoCascade  # noqa: E402
from vtt.utils.cli import user_errors  # noqa: E402

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.gif', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--gate', required=True, help='gate checkpoint')
    parser.add_argument('--gate-config', help='gate config (default: the one in the checkpoint)')
    parser.add_argument('--elements', help='element recogniser checkpoint (stage 2)')
    parser.add_argument('--elements-config',
                        help='elements config (default: the one in the checkpoint)')
    parser.add_argument('--products', help='product classifier checkpoint or work directory '
                        '(stage 3; needs --elements)')
    parser.add_argument('--products-config',
                        help='products config (default: the one in the checkpoint)')
    parser.add_argument('--vocab', help="labels.yaml of the products (default: the checkpoint's)")
    parser.add_argument('--top-k', type=int, default=5, help='products reported per chart')
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
        cascade = MeteoCascade(args.gate, args.elements, args.products, args.gate_config,
                               args.elements_config, args.products_config, args.vocab,
                               args.top_k)
        stages = ['gate'] + ['elements'] * bool(args.elements) + ['products'] * bool(
            args.products)
        lines, counts = [], {}
        start = time.perf_counter()
        console = Console(stderr=True)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(' + '.join(stages), total=len(paths))
            for record in cascade.run(paths, args.batch_size, counts=counts,
                                      on_batch=lambda n: progress.advance(task, n)):
                lines.append(json.dumps(record, ensure_ascii=False))
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
