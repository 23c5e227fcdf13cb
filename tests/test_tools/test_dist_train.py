"""tools/dist_train.sh with 2 CPU processes (gloo): data is sharded, rank 0 alone writes."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

from vtt.registry import DATASETS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

RECORDER = '''
import json
import os.path as osp

import torch.distributed as dist
from mmengine.hooks import Hook

from vtt.registry import HOOKS


@HOOKS.register_module()
class ShardRecorderHook(Hook):
    """Write the sample indices this rank trained on in epoch 1, and the world size."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.epoch == 0:
            self.seen += data_batch['data_samples']['index'].tolist()

    def after_train_epoch(self, runner):
        if runner.epoch == 0:
            rank = dist.get_rank()
            with open(osp.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
                json.dump(dict(world_size=dist.get_world_size(), seen=self.seen), f)
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU (gloo) path')
def test_two_cpu_processes_shard_data_and_rank0_writes(tiny_config, small_crop_csv, tmp_path):
    plugin = tmp_path / 'plugin'
    plugin.mkdir()
    (plugin / 'shard_recorder.py').write_text(RECORDER)
    config = tmp_path / 'dist_cfg.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = [{tiny_config!r}]
        custom_imports = dict(imports=['shard_recorder'], allow_failed_imports=False)
        train_cfg = dict(max_epochs=2)
        custom_hooks = [dict(type='ShardRecorderHook', out_dir={str(tmp_path)!r})]
    '''))
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), HF_HUB_OFFLINE='1',
               PYTHONPATH=str(plugin), CUDA_VISIBLE_DEVICES='')
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir',
                             str(work_dir)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    ranks = [json.load(open(tmp_path / f'rank{r}.json')) for r in (0, 1)]
    assert [r['world_size'] for r in ranks] == [2, 2]
    seen0, seen1 = set(ranks[0]['seen']), set(ranks[1]['seen'])
    train = DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=small_crop_csv,
                                id_column='sample_id', split='train'))
    n = len(train)
    # different halves: equal shard sizes, sharing only the sample the sampler repeats to
    # pad an odd split; together they are the whole training split
    assert len(ranks[0]['seen']) == len(ranks[1]['seen']) == (n + 1) // 2
    assert len(seen0 & seen1) == n % 2
    assert seen0 | seen1 == set(train.indices.tolist())

    # one set of outputs, written by rank 0
    files = sorted(os.listdir(work_dir))
    assert files.count('epoch_2.pth') == 1 and 'last_checkpoint' in files
    assert len([f for f in files if f.startswith('best_')]) == 1
    log_dirs = [f for f in files if osp.isdir(work_dir / f)]
    assert len(log_dirs) == 1
    single = json.load(open(work_dir / 'test_metrics.json'))

    # tools/dist_test.sh on the same checkpoint: each rank evaluates a shard, the metric is
    # computed on the gathered predictions (padding dropped), so it equals one process's result
    env['PORT'] = str(_free_port())
    out = tmp_path / 'dist_metrics.json'
    result = subprocess.run(['bash', 'tools/dist_test.sh', str(config), single['checkpoint'], '2',
                             '--work-dir', str(tmp_path / 'test'), '--out', str(out)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert json.load(open(out))['metrics'] == pytest.approx(single['metrics'])


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU (gloo) path')
def test_dist_pretraining_moves_the_momentum_encoder(tmp_path):
    """tools/dist_train.sh on the BasicMotions pretraining config (shrunk): mmengine's DDP
    wrapper runs its own train_step, and the EMA, updated inside loss(), still moves."""
    config = tmp_path / 'pretrain.py'
    base = osp.join(ROOT, 'configs/timemae/basicmotions_pretrain.py')
    config.write_text(textwrap.dedent(f'''
        _base_ = [{base!r}]
        model = dict(backbone=dict(window_slicer=dict(embed_dims=16),
                                   encoder=dict(num_layers=1, num_heads=2)),
                     decoder=dict(num_layers=1, num_heads=2))
        train_dataloader = dict(batch_size=8)
        train_cfg = dict(max_epochs=2)
        default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2),
                             logger=dict(interval=1))
    '''))
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), HF_HUB_OFFLINE='1',
               CUDA_VISIBLE_DEVICES='')
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir',
                             str(work_dir)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    from vtt.utils import safe_torch_load
    states = [safe_torch_load(str(work_dir / f'epoch_{e}.pth'))['state_dict'] for e in (1, 2)]
    ema = [{k: v for k, v in s.items() if k.startswith('momentum_encoder.module.')}
           for s in states]
    assert ema[0] and set(ema[0]) == set(ema[1])
    # 40 TRAIN cases / (2 ranks x 8) = 3 optimizer steps per epoch (the sampler pads), each
    # moving the EMA once
    assert int(states[1]['momentum_encoder.steps']) == 6
    change = max(float((ema[1][k] - ema[0][k]).abs().max()) for k in ema[0])
    print(f'momentum encoder, epoch 1 -> 2: max |change| = {change:.3g}')
    assert change > 1e-6, change  # a frozen target (the old bug) gives exactly 0
    # and it is an average, not a copy, of the online encoder
    online = {k.replace('momentum_encoder.module.', 'backbone.encoder.'): k for k in ema[1]}
    assert any(not torch.equal(states[1][o], ema[1][k]) for o, k in online.items())
