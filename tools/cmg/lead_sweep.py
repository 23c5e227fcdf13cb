"""How far does the current lead the video? Pretrain and evaluate CMG per current-video offset.

    python tools/cmg/lead_sweep.py configs/cmg/furnace_synth_pretrain.py --leads -4 0 2 4 6 8 10
    python tools/cmg/lead_sweep.py configs/cmg/furnace_synth_pretrain.py \
        --dataset-options generator.lead=7 --true-lead 7 --work-dir work_dirs/lead_sweep_7

For every offset ``o`` (the current window starts ``o`` steps before the video window; the
video windows and their labels stay the same):

1. pretrain CONFIG with ``offset=o`` (the pairs the codebook learns from);
2. on the VALIDATION runs, with the pretrained model in eval mode: the codebook perplexity of
   each modality and the code agreement (the share of windows whose dominant code is the same
   in both modalities). These need no label, so they can pick the lead on real data, where the
   current has none;
3. the downstream config (``--downstream``; default: the one ``*2*.py`` sibling of CONFIG with
   the same prefix) with ``offset=o``: the head learns from the labelled modality, is selected
   on its validation split, and is tested once on both modalities: the zero-shot accuracy is
   the other modality's.

Writes ``<work-dir>/lead_sweep.csv``/``.json`` (atomically, after every offset; ``--reuse``
skips finished offsets), ``lead_sweep.png`` (perplexity, agreement and accuracies against the
offset: the plot the group looks at) and prints a table, then one line per offset::

    offset=O perplexity_<a>=... perplexity_<b>=... agreement=... <src>_acc=... zero_shot_acc=...
"""
import argparse
import csv
import glob
import io
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)


def default_downstream(config: str) -> str:
    prefix = osp.basename(config).split('_pretrain')[0]
    found = sorted(glob.glob(osp.join(osp.dirname(config), f'{prefix}_*2*.py')))
    if len(found) != 1:
        raise SystemExit(f'cannot tell the downstream config of {config} (found {found}); '
                         'pass --downstream CONFIG')
    return found[0]


def set_offset(cfg, offset, dataset_options=None):
    """The offset (and ``dataset_options``) in the dataset of every split of ``cfg``."""
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            if dataset_options:
                cfg.merge_from_dict({f'{split}_dataloader.dataset.{k}': v
                                     for k, v in dataset_options.items()})
                loader = cfg.get(f'{split}_dataloader')
            if 'offset' not in loader.dataset:
                raise SystemExit(f'{split}_dataloader.dataset has no offset: lead_sweep needs a '
                                 'paired dataset with an offset (FurnaceDataset)')
            loader.dataset.offset = offset


@__import__('torch').no_grad()
def code_statistics(model, cfg, offset):
    """Perplexity per modality and code agreement on the validation windows."""
    import torch
    from mmengine.runner import Runner

    from vtt.models.tokenizers import code_agreement, codebook_perplexity
    loader_cfg = dict(cfg.train_dataloader)
    loader_cfg['dataset'] = dict(loader_cfg['dataset'], split='val', offset=offset)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg)
    model.eval()
    indices = {}
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        out = model.extract_feat(data['inputs'])
        for m, i in out['indices'].items():
            indices.setdefault(m, []).append(i)
    indices = {m: torch.cat(v) for m, v in indices.items()}
    num_codes = model.quantizer.num_codes
    stats = {f'perplexity_{m}': float(codebook_perplexity(i, num_codes))
             for m, i in indices.items()}
    stats['agreement'] = float(code_agreement(indices, num_codes))
    return stats


def run_offset(offset, args):
    from mmengine.runner import Runner

    from vtt.apis.train import configure_run, test_best_checkpoint
    from vtt.utils.cli import load_config
    base = osp.join(args.work_dir, f'offset{offset}')
    cfg = load_config(args.config)
    set_offset(cfg, offset, args.dataset_options)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    configure_run(cfg, osp.join(base, 'pretrain'), args.seed, args.pretrain_epochs)
    runner = Runner.from_cfg(cfg)
    runner.train()
    row = dict(offset=offset, **code_statistics(runner.model, cfg, offset))
    with open(osp.join(base, 'pretrain', 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    down = load_config(args.downstream)
    set_offset(down, offset, args.dataset_options)
    down.model.pretrained = checkpoint
    configure_run(down, osp.join(base, 'downstream'), args.seed, args.downstream_epochs)
    runner = Runner.from_cfg(down)
    runner.train()
    metrics = test_best_checkpoint(runner, print_table=False)
    source = down.model.train_modality
    target = [m for m in down.model.modalities if m != source][0]
    row.update(source=source, target=target,
               source_acc=float(metrics[f'{source}/accuracy']),
               zero_shot_acc=float(metrics[f'{target}/accuracy']),
               zero_shot_macro_f1=float(metrics[f'{target}/macro_f1']))
    return row


def write_rows(rows, work_dir):
    from vtt.utils.io import atomic_open, dump_json_atomic
    dump_json_atomic(rows, osp.join(work_dir, 'lead_sweep.json'))
    keys = list(rows[0])
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(osp.join(work_dir, 'lead_sweep.csv'), 'w') as f:
        f.write(text.getvalue())


def plot(rows, path, true_lead=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from vtt.visualization.figure_io import save_figure
    rows = sorted(rows, key=lambda r: r['offset'])
    x = [r['offset'] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for key in [k for k in rows[0] if k.startswith('perplexity_')]:
        axes[0].plot(x, [r[key] for r in rows], 'o-', label=key.split('_', 1)[1])
    axes[0].set_title('codebook perplexity (val)')
    axes[1].plot(x, [r['agreement'] for r in rows], 'o-', color='C2')
    axes[1].set_title('code agreement (val)')
    axes[1].set_ylim(0, 1.02)
    src, tgt = rows[0]['source'], rows[0]['target']
    axes[2].plot(x, [r['zero_shot_acc'] for r in rows], 'o-', label=f'{src} -> {tgt} (zero-shot)')
    axes[2].plot(x, [r['source_acc'] for r in rows], 's--', label=f'{src} -> {src}')
    axes[2].set_title('TEST accuracy')
    axes[2].set_ylim(0, 1.02)
    for ax in axes:
        ax.set_xlabel('offset: current window earlier by (steps)')
        if true_lead is not None:
            ax.axvline(true_lead, color='grey', ls=':', lw=1)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def print_table(rows):
    from rich.console import Console
    from rich.table import Table
    rows = sorted(rows, key=lambda r: r['offset'])
    keys = [k for k in rows[0] if k not in ('source', 'target')]
    table = Table(title=f"CMG lead sweep ({rows[0]['source']} -> {rows[0]['target']})")
    for k in keys:
        table.add_column(k, justify='right')
    best = max(rows, key=lambda r: r['zero_shot_acc'])['offset']
    for r in rows:
        cells = [str(r[k]) if isinstance(r[k], int) else f'{r[k]:.3f}' for k in keys]
        table.add_row(*cells, style='bold' if r['offset'] == best else None)
    Console(stderr=True).print(table)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the pretraining config (its dataset takes an offset)')
    parser.add_argument('--leads', type=int, nargs='+', default=[-4, 0, 2, 4, 6, 8, 10],
                        help='offsets to try (steps the current window starts earlier)')
    parser.add_argument('--downstream', default=None, help='the downstream config')
    parser.add_argument('--work-dir', default='work_dirs/lead_sweep')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--pretrain-epochs', type=int, default=None)
    parser.add_argument('--downstream-epochs', type=int, default=None)
    parser.add_argument('--true-lead', type=int, default=None,
                        help='mark the generator\'s lead on the plot (synthetic data)')
    parser.add_argument('--reuse', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the pretraining config')
    parser.add_argument('--dataset-options', nargs='+', action=DictAction,
                        help='set in the dataset of every split of both configs, e.g. '
                        'generator.lead=6 (another synthetic lead) or data_file=...')
    args = parser.parse_args(argv)
    args.downstream = args.downstream or default_downstream(args.config)
    return args


def main(argv=None):
    args = parse_args(argv)
    import json

    from rich.console import Console
    from rich.progress import Progress

    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules(init_default_scope=False)
    os.makedirs(args.work_dir, exist_ok=True)
    rows = []
    saved = osp.join(args.work_dir, 'lead_sweep.json')
    if args.reuse and osp.isfile(saved):
        with open(saved) as f:
            rows = json.load(f)
    done = {r['offset'] for r in rows}
    console = Console(stderr=True)
    with user_errors(), Progress(console=console) as progress:
        task = progress.add_task('lead sweep', total=len(args.leads))
        for offset in args.leads:
            if offset not in done:
                progress.update(task, description=f'lead sweep: offset {offset}')
                start = time.perf_counter()
                row = run_offset(offset, args)
                row['seconds'] = round(time.perf_counter() - start, 1)
                rows.append(row)
                write_rows(rows, args.work_dir)
                console.print(f"offset {offset}: agreement {row['agreement']:.3f}, zero-shot "
                              f"{row['zero_shot_acc']:.3f} ({row['seconds']:.0f} s)")
            progress.advance(task)
    rows = [r for r in rows if r['offset'] in args.leads]
    plot(rows, osp.join(args.work_dir, 'lead_sweep.png'), args.true_lead)
    print_table(rows)
    for r in sorted(rows, key=lambda r: r['offset']):
        perp = ' '.join(f'{k}={r[k]:.2f}' for k in r if k.startswith('perplexity_'))
        print(f"offset={r['offset']} {perp} agreement={r['agreement']:.3f} "
              f"{r['source']}_acc={r['source_acc']:.3f} zero_shot_acc={r['zero_shot_acc']:.3f}",
              flush=True)


if __name__ == '__main__':
    main()
