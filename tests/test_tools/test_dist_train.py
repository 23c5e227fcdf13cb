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
        custom_hooks = [
            dict(type='TrainStatsHook'),
            dict(type='RNGStateHook'),
            dict(type='ShardRecorderHook', out_dir={str(tmp_path)!r}),
        ]
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
