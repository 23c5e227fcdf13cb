"""Run the meteo cascade on images: one JSON line per image.

    python tools/meteo/infer.py IMAGE_OR_DIR [IMAGE_OR_DIR ...] --gate CKPT [--elements CKPT]
        [--gate-config CONFIG] [--elements-config CONFIG] [--out results.jsonl]
        [--batch-size 16]

Stage 1 (the gate) decides whether each image is a weather chart, with the threshold that was
calibrated on validation and saved in the checkpoint. Stage 2 (``--elements``, the CNN-RNN
element recogniser) then names the elements of every chart the gate passed: the decision of
the checkpoint's decoding (beam search by default, or the parallel head at its per-label
thresholds), each with the parallel head's probability (``score``) and its share of the beam
pool (``beam``):

    {"path": "a.png", "is_meteo": true, "gate_score": 0.97, "gate_threshold": 0.51,
     "elements": [{"id": "pressure", "score": 0.99, "beam": 1.0}, ...],
     "element_decoding": "beam"}

Images the gate rejects get no ``elements``. Folders are searched recursively for image files.
An image that cannot be read gets ``{"path": ..., "error": "..."}`` and the run goes on. Each
model's config is read from its checkpoint (mmengine stores it there) unless given; of its
test pipeline only the deterministic resizing is applied (the augmentations are for training
and evaluation). A progress bar runs on stderr and a summary table ends the run; the JSON lines
go to stdout or, written atomically, to ``--out``.
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
    parser.add_argument('--elements', help='element recogniser checkpoint (stage 2)')
    parser.add_argument('--elements-config',
                        help='elements config (default: the one in the checkpoint)')
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


def load_stage(checkpoint, config=None, option='--gate-config'):
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
            raise ConfigError(f'{checkpoint} carries no config; pass it with {option}')
        cfg = Config.fromstring(text, '.py')
    model = init_model(cfg, checkpoint)
    pipeline = cfg.test_dataloader.dataset.get('pipeline', [])
    resize = [TRANSFORMS.build(t) for t in pipeline if t.get('type') == 'TorchVisionTransform']
    return model, resize


def element_names(model):
    """The element ids of an elements model, in its label order (from the checkpoint's
    dataset meta; indices as strings when the checkpoint has none)."""
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    return list(classes) if classes else [str(i) for i in range(model.head.num_labels)]


@torch.no_grad()
def predict(model, tensors):
    data = model.data_preprocessor(dict(inputs=torch.stack(tensors)), False)
    return model.predict(data['inputs'])


@torch.no_grad()
def run_cascade(gate, elements, paths, batch_size, emit, progress, task):
    """Read every image once, resize it for each stage, run the gate on batches and the
    elements model on the charts among them; ``emit`` one record per image, in input order."""
    from PIL import Image

    from vtt.datasets.meteo_charts import image_to_tensor, run_pipeline
    (gate_model, gate_resize) = gate
    threshold = float(gate_model.head.threshold)
    names = element_names(elements[0]) if elements else None
    decoding = elements[0].head.decode if elements else None
    counts = dict(images=len(paths), charts=0, other=0, unreadable=0)
    batch = []  # (index into records, gate tensor, elements tensor or None)
    records = []

    def flush():
        # the batch's images through the stages, then every pending record (errors included)
        charts = []
        gate_out = predict(gate_model, [b[1] for b in batch]) if batch else []
        for (index, _, element_tensor), out in zip(batch, gate_out):
            score, is_meteo = float(out['pred_score']), bool(out['pred_label'])
            counts['charts' if is_meteo else 'other'] += 1
            records[index].update(is_meteo=is_meteo, gate_score=round(score, 6),
                                  gate_threshold=round(threshold, 6))
            if is_meteo and elements:
                charts.append((index, element_tensor))
        if charts:
            for (index, _), out in zip(charts, predict(elements[0], [c[1] for c in charts])):
                chosen = out['pred_label'].bool().tolist()
                found = [dict(id=names[j], score=round(float(out['pred_score'][j]), 6),
                              beam=round(float(out['beam_score'][j]), 6))
                         for j in range(len(names)) if chosen[j]]
                records[index].update(
                    elements=sorted(found, key=lambda e: -e['score']),
                    element_decoding=decoding)
        for record in records:
            emit(record)
        progress.advance(task, len(records))
        batch.clear()
        records.clear()

    for path in paths:
        records.append(dict(path=path))
        try:
            with Image.open(path) as image:
                image = image.convert('RGB')
            gate_tensor = image_to_tensor(run_pipeline(gate_resize, dict(img=image))['img'])
            element_tensor = image_to_tensor(
                run_pipeline(elements[1], dict(img=image))['img']) if elements else None
        except Exception as error:  # any decoding failure: report the file and go on
            counts['unreadable'] += 1
            records[-1]['error'] = f'{type(error).__name__}: {error}'
            continue
        batch.append((len(records) - 1, gate_tensor, element_tensor))
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
        gate = load_stage(args.gate, args.gate_config)
        elements = (load_stage(args.elements, args.elements_config, '--elements-config')
                    if args.elements else None)
        if elements and not hasattr(elements[0].head, 'beam_search'):
            raise ConfigError(f'{args.elements} is not an element recogniser (its head is '
                              f'{type(elements[0].head).__name__}, not CNNRNNLabelHead)')
        lines = []
        start = time.perf_counter()
        console = Console(stderr=True)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task('gate + elements' if elements else 'gate', total=len(paths))
            counts = run_cascade(gate, elements, paths, args.batch_size,
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
