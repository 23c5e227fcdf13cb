"""How early can a series be classified? Train and test one model per observed length.

    python tools/timesclip/early_curve.py CONFIG --steps 4 6 8 12 18 24 37
        [--work-dir DIR] [--max-epochs N] [--seed 42] [--reuse] [--cfg-options ...]

For every length S the config is trained on the first S steps of every series (the datasets'
``num_steps`` key, or ``max_length`` for UCR/UEA data; ``--length-key`` names another), with
its own checkpoint selection on VALIDATION, and the selected checkpoint is evaluated ONCE on
the test split. The runs are independent: each length gets a fresh model from the config and
its own work dir ``DIR/steps_S``; nothing learned at one length is reused at another, and the
test split is looked at once per length, after that length's training. Works for any vtt
classification config whose datasets take such a key (TimesCLIP, TimeMAE's classifier ...).

Writes ``early_curve.csv``, ``early_curve.json`` and ``early_curve.png`` (macro-F1 and
accuracy against the observed fraction S / full length) to DIR, atomically, and ends with a
table and one line per length::

    steps=S fraction=0.324 macro_f1=0.xxx accuracy=0.xxx seconds=N

``--reuse`` takes a length's ``test_metrics.json`` from an earlier run of the same DIR
instead of training it again (e.g. after an interruption).
"""
import argparse
import copy
import csv
import io
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
from vtt.utils.errors import ConfigError  # noqa: E402

LENGTH_KEYS = ('num_steps', 'max_length')


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a classification config')
    parser.add_argument('--steps', type=int, nargs='+', required=True,
                        help='observed lengths (first S steps)')
    parser.add_argument('--work-dir', help='default: work_dirs/early_curve_<config name>')
    parser.add_argument('--max-epochs', type=int, help='override train_cfg.max_epochs')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--length-key', help=f'dataset key of the length (default: the first '
                        f'of {LENGTH_KEYS} the datasets have)')
    parser.add_argument('--reuse', action='store_true',
                        help="reuse a length's test_metrics.json from an earlier run")
    parser.add_argument('--verbose', action='store_true', help="show the runs' own logs")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings for every run')
    args = parser.parse_args(argv)
    if min(args.steps) < 1:
        parser.error('--steps must be positive')
    args.steps = sorted(set(args.steps))
    return args


def length_key(cfg, wanted=None):
    """The dataset key that sets the observed length, checked on all three splits."""
    datasets = [cfg[f'{s}_dataloader']['dataset'] for s in ('train', 'val', 'test')
                if cfg.get(f'{s}_dataloader')]
    candidates = [wanted] if wanted else list(LENGTH_KEYS)
    for key in candidates:
        if all(key in d for d in datasets):
            return key
    raise ConfigError(
        f'the datasets of this config have no length key ({", ".join(candidates)}) in all of '
        f'train/val/test; pass --length-key, or add e.g. num_steps=None to the dataset configs')


def full_length(cfg, key):
    """Steps of the complete series (the training split built without a length limit)."""
    from vtt.registry import DATASETS
    dataset = dict(cfg.train_dataloader.dataset)
    dataset[key] = None
    built = DATASETS.build(dataset)
    return int(built[0]['inputs'].shape[-1])


def run_config(base, key, steps, args, work_dir):
    from vtt.apis.train import configure_run
    cfg = copy.deepcopy(base)
    for split in ('train', 'val', 'test'):
        if cfg.get(f'{split}_dataloader'):
            cfg[f'{split}_dataloader'].dataset[key] = steps
    return configure_run(cfg, work_dir, args.seed, args.max_epochs, quiet=not args.verbose)


def metric(metrics, name):
    """``metrics[<prefix>/name]`` (e.g. ``cls/macro_f1``)."""
    for key, value in metrics.items():
        if key == name or key.endswith('/' + name):
            return float(value)
    raise KeyError(f'the test metrics have no {name!r} ({sorted(metrics)}); early_curve.py '
                   f'needs a classification metric such as SingleLabelMetric')


def train_and_test(cfg):
    from mmengine.runner import Runner

    from vtt.apis.train import test_best_checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    test_best_checkpoint(runner, print_table=False)
    with open(osp.join(cfg.work_dir, 'test_metrics.json'), encoding='utf-8') as handle:
        return json.load(handle)['metrics']


def plot(rows, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from vtt.visualization.figure_io import save_figure
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    fractions = [r['fraction'] for r in rows]
    ax.plot(fractions, [r['macro_f1'] for r in rows], 'o-', label='macro-F1')
    ax.plot(fractions, [r['accuracy'] for r in rows], 's--', label='accuracy')
    for r in rows:
        ax.annotate(f"{r['steps']}", (r['fraction'], r['macro_f1']), textcoords='offset points',
                    xytext=(0, 6), ha='center', fontsize=8)
    ax.set_xlabel('observed fraction of the series (numbers: steps)')
    ax.set_ylabel('TEST score')
    ax.set_xlim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    save_figure(fig, path)


def write_tables(rows, work_dir):
    from vtt.utils.io import atomic_open, dump_json_atomic
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(osp.join(work_dir, 'early_curve.csv'), 'w', newline='') as handle:
        handle.write(buffer.getvalue())
    dump_json_atomic(rows, osp.join(work_dir, 'early_curve.json'), indent=2)


def main(argv=None):
    args = parse_args(argv)
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import load_config, user_errors
    register_all_modules(init_default_scope=False)
    with user_errors():
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table
        base = load_config(args.config)
        if args.cfg_options:
            base.merge_from_dict(args.cfg_options)
        key = length_key(base, args.length_key)
        total = full_length(base, key)
        too_long = [s for s in args.steps if s > total]
        if too_long:
            raise ConfigError(f'--steps {too_long} exceed the series length {total}')
        name = osp.splitext(osp.basename(args.config))[0]
        work_dir = args.work_dir or osp.join('work_dirs', f'early_curve_{name}')
        console = Console(stderr=True)
        rows = []
        with Progress(console=console) as progress:
            task = progress.add_task('early curve', total=len(args.steps))
            for steps in args.steps:
                run_dir = osp.join(work_dir, f'steps_{steps}')
                done = osp.join(run_dir, 'test_metrics.json')
                start = time.perf_counter()
                if args.reuse and osp.isfile(done):
                    with open(done, encoding='utf-8') as handle:
                        metrics = json.load(handle)['metrics']
                else:
                    progress.update(task, description=f'{steps} of {total} steps')
                    metrics = train_and_test(run_config(base, key, steps, args, run_dir))
                rows.append(dict(steps=steps, fraction=round(steps / total, 4),
                                 macro_f1=round(metric(metrics, 'macro_f1'), 4),
                                 accuracy=round(metric(metrics, 'accuracy'), 4),
                                 seconds=round(time.perf_counter() - start, 1)))
                write_tables(rows, work_dir)  # partial results survive an interruption
                progress.advance(task)
        plot(rows, osp.join(work_dir, 'early_curve.png'), f'{name}: early classification')
        table = Table(title=f'Early classification, {name} (TEST, one run per length)')
        for column in ('steps', 'fraction', 'macro_f1', 'accuracy', 'seconds'):
            table.add_column(column, justify='right')
        for row in rows:
            table.add_row(*(str(row[c]) for c in ('steps', 'fraction', 'macro_f1', 'accuracy',
                                                   'seconds')))
        console.print(table)
        console.print(f'written: {osp.join(work_dir, "early_curve.csv")}, .json, .png')
        for row in rows:
            print(' '.join(f'{k}={v}' for k, v in row.items()), flush=True)


if __name__ == '__main__':
    main()
