"""CMG's real-data protocol in one command: pretrain, then zero-shot transfer both ways, with
the same-modality and random-encoder baselines, over seeds.

    python tools/benchmarks/cmg_basicmotions.py                    # BasicMotions, seeds 0 1 2
    python tools/benchmarks/cmg_basicmotions.py --dataset hapt     # UCI HAPT, subject split

Per seed S (every run seeded with S):

1. pretrain ``configs/cmg/<dataset>_pretrain.py`` on the paired accelerometer / gyroscope
   series (labels unused; TEST never seen);
2. ``<dataset>_acc2gyro.py``: the head learns from accelerometer codes ('train'), is selected
   on the accelerometer's 'val' (no gyroscope label is used), and is tested once on TEST for
   both modalities: ``acc2acc`` (same modality) and ``acc2gyro`` (zero-shot);
3. ``<dataset>_gyro2acc.py``: the reverse (``gyro2gyro``, ``gyro2acc``);
4. both directions again with ``model.pretrained=None``: the same pipeline on a random,
   un-pretrained encoder and codebook (``acc2gyro_random``, ``gyro2acc_random``, and the
   same-modality ``acc2acc_random``, ``gyro2gyro_random``).

Results go to ``<work-dir>/results.json`` and ``.csv`` (atomically, per seed; ``--reuse`` skips
finished seeds), then a table with mean and min over seeds, then one line per seed::

    seed=S acc2gyro=... gyro2acc=... acc2acc=... gyro2gyro=...
        acc2gyro_random=... gyro2acc_random=...      (on one line)

All numbers are TEST accuracies.
"""
import argparse
import csv
import io
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

DATASETS = ('basicmotions', 'hapt')
KEYS = ('acc2gyro', 'gyro2acc', 'acc2acc', 'gyro2gyro', 'acc2gyro_random', 'gyro2acc_random',
        'acc2acc_random', 'gyro2gyro_random')
LINE_KEYS = KEYS[:6]


def finished_run(work_dir, max_epochs, tested):
    """``(metrics, last checkpoint)`` of a run that already completed in ``work_dir`` (its final
    epoch saved and, when it has a test split, tested), else None: lets ``--reuse`` resume an
    interrupted seed without redoing its finished runs."""
    import json
    try:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            last = f.read().strip()
    except FileNotFoundError:
        return None
    if osp.basename(last) != f'epoch_{max_epochs}.pth' or not osp.isfile(last):
        return None
    if not tested:
        return {}, last
    try:
        with open(osp.join(work_dir, 'test_metrics.json')) as f:
            return json.load(f)['metrics'], last
    except (FileNotFoundError, KeyError, ValueError):
        return None


def run_config(config, work_dir, seed, options=None, max_epochs=None, reuse=False):
    """Train (and test, when the config has a test split) one config; returns the test
    metrics (empty for pretraining) and the work dir's last checkpoint. With ``reuse``, a run
    that already finished in ``work_dir`` is read back instead of trained again."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from vtt.apis.train import configure_run, test_best_checkpoint
    cfg = Config.fromfile(osp.join(ROOT, config))
    if options:
        cfg.merge_from_dict(options)
    configure_run(cfg, work_dir, seed, max_epochs)
    if reuse:
        done = finished_run(work_dir, cfg.train_cfg.max_epochs, bool(cfg.get('test_dataloader')))
        if done is not None:
            return done
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = {}
    if cfg.get('test_dataloader'):
        metrics = test_best_checkpoint(runner, print_table=False)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    return metrics, last


def run_seed(dataset, seed, args):
    base = osp.join(args.work_dir, f'seed{seed}')
    _, checkpoint = run_config(f'configs/cmg/{dataset}_pretrain.py', osp.join(base, 'pretrain'),
                               seed, args.cfg_options, max_epochs=args.pretrain_epochs,
                               reuse=args.reuse)
    out = {}
    for source, target in (('acc', 'gyro'), ('gyro', 'acc')):
        config = f'configs/cmg/{dataset}_{source}2{target}.py'
        for tag, pretrained in (('', checkpoint), ('_random', None)):
            metrics, _ = run_config(config, osp.join(base, f'{source}2{target}{tag}'), seed,
                                    {'model.pretrained': pretrained}, args.downstream_epochs,
                                    reuse=args.reuse)
            out[f'{source}2{target}{tag}'] = float(metrics[f'{target}/accuracy'])
            out[f'{source}2{source}{tag}'] = float(metrics[f'{source}/accuracy'])
    out['pretrain_checkpoint'] = osp.relpath(checkpoint, args.work_dir)
    return out


def write_results(rows, work_dir):
    from vtt.utils.io import atomic_open, dump_json_atomic
    dump_json_atomic(rows, osp.join(work_dir, 'results.json'))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=['dataset', 'seed', *KEYS, 'seconds'],
                            extrasaction='ignore')
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(osp.join(work_dir, 'results.csv'), 'w') as f:
        f.write(text.getvalue())


def summarise(rows):
    """``{key: (mean, min)}`` over the seeds of ``rows``."""
    import numpy as np
    return {k: (float(np.mean([r[k] for r in rows])), float(np.min([r[k] for r in rows])))
            for k in KEYS}


def print_table(rows, dataset):
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f'CMG zero-shot transfer, {dataset} (TEST accuracy)')
    table.add_column('direction')
    table.add_column('pretrained', justify='right')
    table.add_column('random encoder', justify='right')
    table.add_column('same modality', justify='right')
    summary = summarise(rows)

    def cell(key):
        mean, low = summary[key]
        return f'{mean:.3f} (min {low:.3f})'

    for source, target in (('acc', 'gyro'), ('gyro', 'acc')):
        table.add_row(f'{source} -> {target}', cell(f'{source}2{target}'),
                      cell(f'{source}2{target}_random'), cell(f'{source}2{source}'))
    Console(stderr=True).print(table)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', choices=DATASETS, default='basicmotions')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/cmg_<dataset>')
    parser.add_argument('--pretrain-epochs', type=int, default=None,
                        help="override the pretraining config's max_epochs")
    parser.add_argument('--downstream-epochs', type=int, default=None,
                        help="override the downstream configs' max_epochs")
    parser.add_argument('--reuse', action='store_true',
                        help='keep the seeds already in <work-dir>/results.json and the '
                        'finished runs of an interrupted seed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='overrides of the pretraining config, e.g. model.club=None (an '
                        'ablation: use its own --work-dir)')
    args = parser.parse_args(argv)
    args.work_dir = args.work_dir or osp.join('work_dirs', f'cmg_{args.dataset}')
    return args


def main(argv=None):
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import Progress

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    os.makedirs(args.work_dir, exist_ok=True)
    rows = []
    if args.reuse and osp.isfile(osp.join(args.work_dir, 'results.json')):
        import json
        with open(osp.join(args.work_dir, 'results.json')) as f:
            rows = [r for r in json.load(f) if r['dataset'] == args.dataset]
    done = {r['seed'] for r in rows}
    console = Console(stderr=True)
    with user_errors(), Progress(console=console) as progress:
        task = progress.add_task(f'CMG {args.dataset}', total=len(args.seeds))
        for seed in args.seeds:
            if seed not in done:
                progress.update(task, description=f'CMG {args.dataset} seed {seed}')
                start = time.perf_counter()
                row = dict(dataset=args.dataset, seed=seed, **run_seed(args.dataset, seed, args))
                row['seconds'] = round(time.perf_counter() - start, 1)
                rows.append(row)
                write_results(rows, args.work_dir)  # finished seeds survive an interruption
                console.print(f'seed {seed}: ' + ' '.join(f'{k}={row[k]:.3f}'
                                                          for k in LINE_KEYS))
            progress.advance(task)
    rows = [r for r in rows if r['seed'] in args.seeds]
    print_table(rows, args.dataset)
    for r in sorted(rows, key=lambda r: r['seed']):
        print(f"seed={r['seed']} " + ' '.join(f'{k}={r[k]:.3f}' for k in LINE_KEYS), flush=True)


if __name__ == '__main__':
    main()
