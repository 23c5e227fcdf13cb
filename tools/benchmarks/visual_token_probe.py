"""How much the product classifier's visual tokens can tell apart the charts its text cannot.

    python tools/benchmarks/visual_token_probe.py configs/meteo/products_gemma3_270m_qlora.py
    python tools/benchmarks/visual_token_probe.py CONFIG --sizes 224 448 --grids 1 2 4

With ground-truth elements, the product classifier's prompt is the same for two charts whose
element sets are the same: for an element set that occurs with more than one product (in the
demo data: pressure + front, and height + temperature + wind) only the image can decide. This
probe takes exactly those charts (train, val and test splits of the config, through its
pipelines), encodes them with the config's frozen visual encoder at each ``--sizes`` input
size, average-pools the feature map to each ``--grids`` grid (the visual tokens the LM would
get, before the projector), and reports the cross-validated accuracy of a logistic regression
on the concatenated tokens (``--folds`` stratified folds, averaged over ``--seeds``), next to
the chance level (always guessing the most frequent product of the chart's element set).

It is a linear proxy: the LM sees the same tokens through a trained MLP and attention, and
could do better or worse; an accuracy near chance says the tokens hardly carry what tells the
products apart. Features are computed once per size; a run over the demo data takes a few
minutes on 2 CPU cores.
"""
import argparse
import os.path as osp
import sys
from collections import Counter, defaultdict

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a product classifier config with model.visual')
    parser.add_argument('--sizes', type=int, nargs='+', default=[224, 448],
                        help='encoder input sizes (default 224 448)')
    parser.add_argument('--grids', type=int, nargs='+', default=[2, 4],
                        help='pooled grids, g -> g x g tokens (default 2 4)')
    parser.add_argument('--folds', type=int, default=5)
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--C', type=float, default=0.01,
                        help='inverse L2 strength of the logistic regression')
    return parser.parse_args(argv)


def ambiguous_charts(cfg):
    """Images, products and element sets of the charts whose element set occurs with more
    than one product (all splits of the config)."""
    import torch

    from vtt.registry import DATASETS
    datasets = [DATASETS.build(loader.dataset) for loader in
                (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader)]
    products_of = defaultdict(set)
    for ds in datasets:
        for i, record in enumerate(ds.charts.records):
            products_of[frozenset(ds.elements[i])].add(record['product'])
    images, products, sets = [], [], []
    for ds in datasets:
        for i, record in enumerate(ds.charts.records):
            key = frozenset(ds.elements[i])
            if len(products_of[key]) > 1:
                images.append(ds[i]['inputs'].float())
                products.append(record['product'])
                sets.append(key)
    if not images:
        raise SystemExit('no element set of this data occurs with more than one product: '
                         'the text alone decides every chart')
    return torch.stack(images), products, sets


def chance_level(products, sets):
    by_set = defaultdict(Counter)
    for product, key in zip(products, sets):
        by_set[key][product] += 1
    return sum(c.most_common(1)[0][1] for c in by_set.values()) / len(products)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import torch
    import torch.nn.functional as F
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from vtt.registry import MODELS
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import load_config
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config)
    visual = cfg.model.get('visual')
    if not visual:
        raise SystemExit(f'{args.config}: model.visual is not set (a text-only LM with '
                         'visual tokens is what this probe is about)')
    images, products, sets = ambiguous_charts(cfg)
    labels = np.array(products)
    console = Console()
    console.print(f'{len(labels)} charts whose element set fits several products '
                  f'({len(set(sets))} element sets, {len(set(products))} products)')
    table = Table(title=f'Linear probe of the visual tokens ({args.folds}-fold CV x '
                        f'{args.seeds} seeds)')
    for column in ('input size', 'tokens', 'CV accuracy', 'chance'):
        table.add_column(column, justify='right')
    chance = chance_level(products, sets)
    for size in args.sizes:
        encoder = MODELS.build(dict(visual['encoder'], image_size=size, frozen=True)).eval()
        with torch.no_grad():
            feats = torch.cat([encoder(images[i:i + 8]) for i in
                               track(range(0, len(images), 8), f'encoding at {size} px',
                                     console=console)])
        for grid in args.grids:
            x = F.adaptive_avg_pool2d(feats, grid).flatten(1).numpy()
            scores = [cross_val_score(
                make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=3000)),
                x, labels, cv=StratifiedKFold(args.folds, shuffle=True, random_state=seed)).mean()
                for seed in range(args.seeds)]
            table.add_row(str(size), f'{grid} x {grid}', f'{np.mean(scores):.3f}',
                          f'{chance:.3f}')
    console.print(table)


if __name__ == '__main__':
    main()
