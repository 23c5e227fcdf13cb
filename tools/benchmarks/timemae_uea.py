"""The TimeMAE protocol on UEA datasets and HAR: pretrain -> linear probe -> fine-tune -> test.

    python tools/benchmarks/timemae_uea.py BasicMotions JapaneseVowels [--scratch]
    python tools/benchmarks/timemae_uea.py HAR

For every named dataset (any UEA/UCR classification set aeon bundles, one in --data-root, or
``HAR``: UCI-HAR windows built from the raw HAPT recordings, with the configs
``configs/timemae/har_*.py`` and their subject split):
self-supervised pretraining on the TRAIN file, then a linear probe (frozen encoder) and full
fine-tuning, each selecting its checkpoint on a validation split carved from TRAIN, and each
tested once on the TEST file. ``--scratch`` also fine-tunes the same model from random
initialisation, to show what pretraining adds. The configs of
``configs/timemae/basicmotions_*.py`` are the templates; the number of variates and classes
come from the data. Those templates were tuned on BasicMotions and JapaneseVowels only: for any
other set use the data-aware default protocol of ``tools/benchmarks/ucr_suite.py --methods
timemae NAME`` (the tool says so when it runs a set without configs of its own). Prints a table
and, last, one line per dataset::

    NAME acc=0.xxx macro_f1=0.xxx linear_acc=0.xxx seconds=N
"""
import argparse
import copy
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TEMPLATES = dict(
    pretrain=osp.join(ROOT, 'configs/timemae/basicmotions_pretrain.py'),
    linear=osp.join(ROOT, 'configs/timemae/basicmotions_linear.py'),
    finetune=osp.join(ROOT, 'configs/timemae/basicmotions_finetune.py'),
)
#: Datasets with their own configs (not a UEA file pair): name -> (config prefix, dataset).
OWN_CONFIGS = dict(HAR=('har', dict(type='HAPTHARDataset', split='train')))


def template(stage, name):
    stage = 'finetune' if stage == 'scratch' else stage
    if name in OWN_CONFIGS:
        return osp.join(ROOT, f'configs/timemae/{OWN_CONFIGS[name][0]}_{stage}.py')
    return TEMPLATES[stage]


def stage_config(stage, name, data_root, num_variates, num_classes, work_dir, seed, epochs,
                 pretrained=None, verbose=False, cfg_options=None):
    """The template config of ``stage`` pointed at one dataset."""
    from mmengine.config import Config

    from vtt.utils.cli import drop_disabled_hooks
    cfg = Config.fromfile(template(stage, name))
    cfg.model.data_preprocessor.num_variates = num_variates
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None and name not in OWN_CONFIGS:
            loader.dataset.update(name=name, data_root=data_root)
    if stage != 'pretrain':
        cfg.model.num_classes = num_classes
        cfg.model.backbone.init_cfg = None if pretrained is None else dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')
    cfg.train_cfg.max_epochs = epochs
    if cfg.get('param_scheduler') and cfg.param_scheduler.get('T_max'):
        cfg.param_scheduler.T_max = epochs
    cfg.work_dir = osp.join(work_dir, name, stage)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.experiment_name = f'{name}_{stage}_{time.strftime("%Y%m%d_%H%M%S")}'
    if not verbose:
        cfg.log_level = 'WARNING'
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    drop_disabled_hooks(cfg)
    return cfg


def run_stage(cfg, test=True):
    from mmengine.runner import Runner

    from vtt.apis.train import test_best_checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    return test_best_checkpoint(runner, print_table=False) if test else {}


#: Datasets the templates were tuned on (they have configs of their own).
TUNED = ('BasicMotions', 'JapaneseVowels')


def run_dataset(name, args):
    from vtt.registry import DATASETS
    if name not in OWN_CONFIGS and name not in TUNED:
        print(f'note: {name} runs with the BasicMotions templates, which were tuned on '
              f'{" and ".join(TUNED)} only; the data-aware defaults that hold up on other sets '
              f'are in: python tools/benchmarks/ucr_suite.py --methods timemae minirocket {name}',
              file=sys.stderr)
    if name in OWN_CONFIGS:
        probe = DATASETS.build(OWN_CONFIGS[name][1])
    else:
        probe = DATASETS.build(dict(type='UEADataset', name=name, data_root=args.data_root,
                                    split='train'))
    num_variates = probe.metainfo['num_variates']
    num_classes = len(probe.metainfo['classes'])
    common = dict(name=name, data_root=args.data_root, num_variates=num_variates,
                  num_classes=num_classes, work_dir=args.work_dir, seed=args.seed,
                  verbose=args.verbose, cfg_options=args.cfg_options)
    row = dict(name=name, variates=num_variates, classes=num_classes, length=probe.metainfo[
        'max_length'], train=len(probe))
    start = time.perf_counter()
    pre = stage_config('pretrain', epochs=args.pretrain_epochs, **common)
    run_stage(pre, test=False)
    checkpoint = osp.join(pre.work_dir, f'epoch_{args.pretrain_epochs}.pth')
    row['pretrain_s'] = time.perf_counter() - start
    for stage in ('linear', 'finetune') + (('scratch', ) if args.scratch else ()):
        t0 = time.perf_counter()
        cfg = stage_config(stage, epochs=args.finetune_epochs,
                           pretrained=None if stage == 'scratch' else checkpoint, **common)
        metrics = run_stage(cfg)
        row[f'{stage}_acc'] = float(metrics['cls/accuracy'])
        row[f'{stage}_f1'] = float(metrics['cls/macro_f1'])
        row[f'{stage}_s'] = time.perf_counter() - t0
    # the protocol's time: pretraining, linear probe and fine-tuning (not the scratch baseline)
    row['seconds'] = row['pretrain_s'] + row['linear_s'] + row['finetune_s']
    return row


def print_summary(rows, scratch):
    from rich.console import Console
    from rich.table import Table
    table = Table(title='TimeMAE (selection on validation, one test evaluation)')
    columns = ['dataset', 'V x T', 'classes', 'fine-tune acc', 'fine-tune F1', 'linear acc',
               'linear F1'] + (['scratch acc', 'scratch F1'] if scratch else []) + ['seconds']
    for column in columns:
        table.add_column(column, justify='left' if column == 'dataset' else 'right')
    for r in rows:
        cells = [r['name'], f"{r['variates']} x {r['length']}", str(r['classes']),
                 f"{r['finetune_acc']:.3f}", f"{r['finetune_f1']:.3f}",
                 f"{r['linear_acc']:.3f}", f"{r['linear_f1']:.3f}"]
        if scratch:
            cells += [f"{r['scratch_acc']:.3f}", f"{r['scratch_f1']:.3f}"]
        table.add_row(*cells, f"{r['seconds']:.0f}")
    console = Console()
    if not console.is_terminal:  # a log file: do not squeeze the table to 80 columns
        console = Console(width=150)
    console.print(table)
    for r in rows:
        print(f"{r['name']} acc={r['finetune_acc']:.3f} macro_f1={r['finetune_f1']:.3f} "
              f"linear_acc={r['linear_acc']:.3f} seconds={r['seconds']:.0f}")


def main(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('names', nargs='+', help='UEA/UCR dataset names, e.g. BasicMotions, or HAR')
    parser.add_argument('--data-root', default=None,
                        help='folder with <NAME>_TRAIN.ts / <NAME>_TEST.ts (default: the '
                        'copies bundled with aeon)')
    parser.add_argument('--work-dir', default='work_dirs/timemae_uea')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--pretrain-epochs', type=int, default=100)
    parser.add_argument('--finetune-epochs', type=int, default=100)
    parser.add_argument('--scratch', action='store_true',
                        help='also fine-tune from random initialisation (baseline)')
    parser.add_argument('--verbose', action='store_true', help='show the runners\' logs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='overrides for every stage, e.g. '
                        'model.backbone.window_slicer.window=4')
    args = parser.parse_args(argv)
    own = [n for n in args.names if n in OWN_CONFIGS]
    if own and args.data_root is not None:
        parser.error(f'--data-root does not apply to {own} (they have their own configs); run '
                     'them separately')

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    rows = []
    with user_errors():
        for name in args.names:
            rows.append(run_dataset(name, copy.deepcopy(args)))
    print_summary(rows, args.scratch)


if __name__ == '__main__':
    main()
