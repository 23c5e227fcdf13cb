"""The yield seed's ablation grid E1-E5, offline, on the SYNTHETIC yield demo data.

    python tools/benchmarks/timesclip_yield_grid.py [--seed 42] [--max-epochs 20]
        [--work-dir work_dirs/yield_grid]

Every ablation config (``configs/timesclip/yield_full.py`` E1, ``yield_no_contrastive.py`` E2,
``yield_no_variate_selection.py`` E3, ``yield_clip_text_only.py`` E4,
``yield_scratch_transformer.py`` E5) is run with what it switches on or off unchanged, and with
``yield_demo.py``'s offline substitutes: the synthetic yield data, small RANDOMLY INITIALISED
CLIP towers in place of the pretrained ones (E5's from-scratch transformer is kept as it is),
the demo's embedding size, learning rate and epochs. Each run selects its checkpoint on
validation RMSE and is tested once. Next to them, a classical anchor on the SAME split: ridge
regression on the flattened first-12-step series (regularisation by cross-validation on the
training split). Ends with a table and one line per row::

    run=E1 rmse=... mae=... r2=... mape=... seconds=N

The towers are random, so the grid compares the pipeline's parts, not CLIP's features.
"""
import argparse
import copy
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
GRID = (('E1', 'yield_full.py'), ('E2', 'yield_no_contrastive.py'),
        ('E3', 'yield_no_variate_selection.py'), ('E4', 'yield_clip_text_only.py'),
        ('E5', 'yield_scratch_transformer.py'))
METRICS = ('rmse', 'mae', 'r2', 'mape')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--max-epochs', type=int, help="default: yield_demo.py's")
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'yield_grid'))
    parser.add_argument('--runs', nargs='+', default=[g[0] for g in GRID],
                        choices=[g[0] for g in GRID])
    parser.add_argument('--verbose', action='store_true')
    return parser.parse_args(argv)


def offline_config(ablation, demo, args, work_dir):
    """``ablation``'s switches with ``demo``'s data, tiny towers and schedule."""
    from vtt.apis.train import configure_run
    cfg = copy.deepcopy(demo)
    model, demo_model = cfg.model, demo.model
    for key in ('vision_encoder', 'renderer', 'text_encoder', 'contrastive_loss',
                'variate_selection'):
        wanted = ablation.model.get(key)
        if wanted is None:
            model[key] = None
        elif demo_model.get(key) is not None and wanted['type'] == demo_model[key]['type']:
            model[key] = copy.deepcopy(demo_model[key])  # the offline substitute
        else:
            model[key] = copy.deepcopy(wanted)  # e.g. E5's own from-scratch encoder
    return configure_run(cfg, work_dir, args.seed, args.max_epochs, quiet=not args.verbose)


def run_timesclip(cfg):
    from mmengine.runner import Runner

    from vtt.apis.train import test_best_checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = test_best_checkpoint(runner, print_table=False)
    return {name: float(metrics[f'regression/{name}']) for name in METRICS}


def run_ridge(demo):
    import numpy as np
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import (
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_error,
        r2_score,
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from vtt.registry import DATASETS
    train = DATASETS.build(demo.train_dataloader.dataset)
    test = DATASETS.build(demo.test_dataloader.dataset)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 4, 15)))
    model.fit(train.data.flatten(1).numpy(), train.targets.numpy())
    pred, gt = model.predict(test.data.flatten(1).numpy()), test.targets.numpy()
    return dict(rmse=float(np.sqrt(mean_squared_error(gt, pred))),
                mae=float(mean_absolute_error(gt, pred)), r2=float(r2_score(gt, pred)),
                mape=float(mean_absolute_percentage_error(gt, pred)))


def main(argv=None):
    args = parse_args(argv)
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    with user_errors():
        from mmengine.config import Config
        from rich.console import Console
        from rich.table import Table

        from vtt.utils.io import dump_json_atomic
        demo = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', 'yield_demo.py'))
        console = Console(stderr=True)
        rows = []
        for run, name in GRID:
            if run not in args.runs:
                continue
            console.print(f'[bold]{run}[/bold] ({name}, offline substitutes)')
            ablation = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', name))
            start = time.perf_counter()
            cfg = offline_config(ablation, demo, args, osp.join(args.work_dir, run))
            rows.append(dict(run=run, config=name, **run_timesclip(cfg),
                             seconds=round(time.perf_counter() - start, 1)))
        start = time.perf_counter()
        rows.append(dict(run='ridge', config='ridge on the flattened series', **run_ridge(demo),
                         seconds=round(time.perf_counter() - start, 1)))
        dump_json_atomic(rows, osp.join(args.work_dir, 'yield_grid.json'), indent=2)
        table = Table(title='Yield grid on SYNTHETIC data (TEST, random-init towers)')
        for column in ('run', 'config', *METRICS, 'seconds'):
            table.add_column(column, justify='left' if column == 'config' else 'right')
        for row in rows:
            table.add_row(row['run'], row['config'], *(f'{row[m]:.4f}' for m in METRICS),
                          str(row['seconds']))
        console.print(table)
        for row in rows:
            print(f"run={row['run']} " + ' '.join(f'{m}={row[m]:.4f}' for m in METRICS)
                  + f" seconds={row['seconds']}", flush=True)


if __name__ == '__main__':
    main()
