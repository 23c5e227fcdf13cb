"""TimeMAE pretraining throughput (samples/s) with the official hyper-parameters.

    python tools/benchmarks/timemae_throughput.py [BasicMotions JapaneseVowels] [--epochs 20]

d_model 64, 8 visible layers, 4 cross-attention layers, window 8, 60% masking, vocabulary 192,
batch 128: the template configs/timemae/basicmotions_pretrain.py with the dataset's variate
count. Times complete training steps (data loading, forward, backward, AdamW, EMA update) over
the whole TRAIN file after one warm-up epoch, and compares with the official TimeMAE code
measured on the same kind of 2-core CPU machine (anchors from the project's issue tracker).
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TEMPLATE = osp.join(ROOT, 'configs/timemae/basicmotions_pretrain.py')
# samples/s of the official implementation on a 2-core CPU (same hyper-parameters)
OFFICIAL = dict(BasicMotions=400.0, JapaneseVowels=1300.0)


def measure(name, epochs, batch_size, mask_shared, threads):
    import torch
    from mmengine.config import Config
    from mmengine.dataset import default_collate
    from mmengine.optim import build_optim_wrapper
    from torch.utils.data import DataLoader

    from vtt.registry import DATASETS, MODELS
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    dataset = DATASETS.build(dict(type='UEADataset', name=name, split='trainval'))
    cfg = Config.fromfile(TEMPLATE)
    variates = dataset.metainfo['num_variates']
    cfg.model.data_preprocessor.num_variates = variates
    cfg.model.backbone.window_slicer.window = 8  # the official setting (vtt's UEA configs use 4)
    cfg.model.batch_shared_mask = mask_shared
    model = MODELS.build(cfg.model)
    model.set_train_statistics(dataset.train_statistics())
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        collate_fn=default_collate)
    for batch in loader:  # warm-up epoch
        model.train_step(batch, optim)
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            model.train_step(batch, optim)
    elapsed = time.perf_counter() - start
    return dict(name=name, samples=len(dataset), length=dataset.metainfo['max_length'],
                variates=variates, rate=epochs * len(dataset) / elapsed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('names', nargs='*', default=['BasicMotions', 'JapaneseVowels'])
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--batch-shared-mask', action='store_true',
                        help='one mask for the whole batch, as the official code')
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    args = parser.parse_args(argv)

    from vtt.setup_env import register_all_modules
    register_all_modules()
    rows = [measure(n, args.epochs, args.batch_size, args.batch_shared_mask, args.threads)
            for n in args.names]

    import torch
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f'TimeMAE pretraining throughput, {torch.get_num_threads()} threads, '
                  f'batch {args.batch_size}')
    for column in ('dataset', 'samples', 'V x T', 'vtt samples/s', 'official samples/s',
                   'ratio'):
        table.add_column(column, justify='left' if column == 'dataset' else 'right')
    for r in rows:
        official = OFFICIAL.get(r['name'])
        table.add_row(r['name'], str(r['samples']), f"{r['variates']} x {r['length']}",
                      f"{r['rate']:,.0f}", f'{official:,.0f}' if official else '-',
                      f"{r['rate'] / official:.2f}x" if official else '-')
    Console().print(table)
    for r in rows:
        official = OFFICIAL.get(r['name'])
        ratio = f' ({r["rate"] / official:.2f}x official {official:.0f})' if official else ''
        print(f"{r['name']}: {r['rate']:.0f} samples/s{ratio}")


if __name__ == '__main__':
    main()
