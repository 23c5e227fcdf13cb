"""The momentum encoder under mmengine's DDP wrapper (2 gloo processes) equals one process."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.optim import OptimWrapper

CFG = dict(
    type='TimeMAEPretrainer',
    backbone=dict(type='WindowEncoder',
                  window_slicer=dict(type='WindowSlicer', embed_dims=16, window=4),
                  encoder=dict(type='TransformerEncoder', num_layers=1, num_heads=2,
                               dropout=0.0)),
    decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=2, dropout=0.0),
    codebook=dict(type='GumbelCodebook', vocab_size=8),
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=2),
    momentum=0.2)
STEPS = 3


def _train(wrap):
    """Build, train STEPS steps on fixed batches (the same on every rank), return the EMA."""
    from vtt.registry import MODELS
    from vtt.setup_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(CFG)
    model.set_train_statistics(dict(mean=[0.0, 0.0], std=[1.0, 1.0]))
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    start = {k: v.clone() for k, v in model.backbone.encoder.state_dict().items()}
    runner = wrap(model)
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        batch = dict(inputs=torch.randn(6, 2, 32, generator=g),
                     data_samples=dict(label=torch.zeros(6), index=torch.arange(6)))
        runner.train_step(batch, optim)
    ema = {k: v.clone() for k, v in model.momentum_encoder.state_dict().items()}
    return ema, start


def _worker(rank, port, out):
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel

    from vtt.models.utils import ema_update_
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        ema, _ = _train(lambda m: MMDistributedDataParallel(m, device_ids=None))
        # statistics that differ per rank (a codebook's): all-reduced, every rank keeps the same
        average = [torch.zeros(2)]
        ema_update_(average, [torch.full((2, ), float(rank))], momentum=0.5, all_reduce=True)
        ema['rank_average'] = average[0]
        if rank == 0:
            torch.save(ema, out)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason='needs torch.distributed')
def test_ema_under_ddp_equals_single_process(tmp_path):
    out = str(tmp_path / 'ema.pt')
    mp.spawn(_worker, args=(_free_port(), out), nprocs=2, join=True)
    ddp = torch.load(out)
    single, start = _train(lambda m: m)
    # mean of the ranks' values 0 and 1, times momentum 0.5, on every rank
    torch.testing.assert_close(ddp.pop('rank_average'), torch.full((2, ), 0.25))
    assert int(ddp['steps']) == int(single['steps']) == STEPS
    for key, value in single.items():
        torch.testing.assert_close(ddp[key], value)
    # the target moved away from the copy of the online encoder taken at step 0
    moved = max(float((ddp[f'module.{k}'] - v).abs().max()) for k, v in start.items())
    assert moved > 1e-3, moved
