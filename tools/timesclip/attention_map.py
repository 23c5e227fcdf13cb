"""Which variates does TimesCLIP look at? The variate-selection attention as heat maps.

    python tools/timesclip/attention_map.py CONFIG CHECKPOINT [--split test] [--out DIR]
        [--batch-size 128]

Runs the model on one split and averages its variate-selection weights ``[V, V]`` (row i: how
much variate i attends to each variate, averaged over heads; rows sum to 1) over all samples
and over the samples of each class (by their TRUE label). Writes ``attention_map.png`` (the
mean map, then one per class, with the variate names), and ``attention_map.json`` (the
matrices, the variate names, samples per class) to DIR (default: next to the checkpoint),
atomically. A table of the most attended variates (column means of the mean map) ends the
run. Needs a model with variate selection.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
import torch  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', default='test', choices=('train', 'val', 'test'))
    parser.add_argument('--out', help='output folder (default: the checkpoint\'s folder)')
    parser.add_argument('--batch-size', type=int, default=128)
    return parser.parse_args(argv)


@torch.no_grad()
def collect(model, dataset, batch_size):
    """``attention [N, V, V]`` and ``labels [N]`` (None without labels) over ``dataset``."""
    from torch.utils.data import DataLoader, default_collate
    maps, labels = [], []
    for batch in DataLoader(dataset, batch_size=batch_size, collate_fn=default_collate):
        data = model.data_preprocessor(batch, False)
        maps.append(model.variate_attention(data['inputs']).float().cpu())
        if 'label' in batch['data_samples']:
            labels.append(torch.as_tensor(batch['data_samples']['label']))
    return torch.cat(maps), (torch.cat(labels) if labels else None)


def plot(maps, titles, names, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from vtt.visualization.figure_io import save_figure
    cols = min(len(maps), 3)
    rows = (len(maps) + cols - 1) // cols
    size = max(3.2, 0.32 * len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols * 1.25, size * rows * 1.15),
                             squeeze=False)
    vmax = max(float(m.max()) for m in maps)
    for ax in axes.flat[len(maps):]:
        ax.axis('off')
    for ax, matrix, title in zip(axes.flat, maps, titles):
        image = ax.imshow(matrix, cmap='viridis', vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_xlabel('attended variate', fontsize=8)
        ax.set_ylabel('query variate', fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)  # one scale for every map
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    with user_errors():
        from rich.console import Console
        from rich.table import Table

        from vtt.apis import init_model
        from vtt.registry import DATASETS
        from vtt.utils.cli import load_config
        from vtt.utils.errors import ConfigError
        from vtt.utils.io import dump_json_atomic
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
        cfg = load_config(args.config)
        model = init_model(cfg, args.checkpoint)
        if not hasattr(model, 'variate_attention'):
            raise ConfigError(f'{type(model).__name__} has no variate-selection attention; '
                              'attention_map.py is for TimesCLIP models')
        dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
        maps, labels = collect(model, dataset, args.batch_size)
        meta = getattr(dataset, 'metainfo', {}) or {}
        num_variates = maps.shape[-1]
        names = list(meta.get('variates') or [f'v{i}' for i in range(num_variates)])
        classes = list(meta.get('classes') or [])
        matrices, titles, counts = [maps.mean(0)], [f'all {args.split} ({len(maps)})'], {}
        if labels is not None and classes:
            for index, name in enumerate(classes):
                chosen = labels == index
                counts[name] = int(chosen.sum())
                if counts[name]:
                    matrices.append(maps[chosen].mean(0))
                    titles.append(f'class {name} ({counts[name]})')
        out = args.out or osp.dirname(osp.abspath(args.checkpoint))
        plot([m.numpy() for m in matrices], titles, names, osp.join(out, 'attention_map.png'))
        dump_json_atomic(dict(split=args.split, variates=names, titles=titles,
                              samples_per_class=counts,
                              matrices=[m.tolist() for m in matrices]),
                         osp.join(out, 'attention_map.json'))
        console = Console()
        table = Table(title=f'Most attended variates ({args.split}, mean over queries)')
        table.add_column('variate')
        table.add_column('attention', justify='right')
        received = matrices[0].mean(0)
        for index in received.argsort(descending=True).tolist():
            table.add_row(names[index], f'{float(received[index]):.3f}')
        console.print(table)
        console.print(f'written: {osp.join(out, "attention_map.png")} and .json')


if __name__ == '__main__':
    main()
