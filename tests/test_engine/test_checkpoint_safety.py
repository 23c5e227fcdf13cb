"""Checkpoints that cannot vanish, a full disk, the NaN guard and checkpoint provenance, on a
toy model whose validation score improves every epoch (so every epoch swaps the best file)."""
import errno
import itertools
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from vtt.registry import DATASETS, METRICS, MODELS
from vtt.utils import compat
from vtt.utils.compat import safe_torch_load
from vtt.utils.errors import DiskFullError, NonFiniteLossError


@MODELS.register_module(force=True)
class ToyRegressor(BaseModel):
    """y = w x; ``nan_at`` makes the loss NaN from that training iteration on (1-based)."""

    def __init__(self, width: int = 2, nan_at: int = 0):
        super().__init__()
        self.linear = torch.nn.Linear(width, 1)
        self.nan_at = nan_at
        self.calls = 0

    def forward(self, inputs, targets, mode='tensor'):
        inputs, targets = torch.as_tensor(inputs), torch.as_tensor(targets)
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            self.calls += 1
            loss = ((out - targets) ** 2).mean()
            if self.nan_at and self.calls >= self.nan_at:
                loss = loss * float('nan')
            return dict(loss_mse=loss, loss_aux=torch.zeros(()))
        return [dict(pred=p) for p in out]


@DATASETS.register_module(force=True)
class ToyData(Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, index):
        x = torch.tensor([index / 16, 1.0])
        return dict(inputs=x, targets=2 * x[0] + 1)


@METRICS.register_module(force=True)
class EpochScore(BaseMetric):
    """A score that grows every evaluation, so each epoch is a new best."""
    default_prefix = 'toy'
    evaluations = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        EpochScore.evaluations += 1
        return dict(score=float(EpochScore.evaluations))


def toy_runner(work_dir, max_epochs=3, resume=False, nan_at=0, action='stop', **extra):
    loader = dict(dataset=dict(type='ToyData'), sampler=dict(type='DefaultSampler', shuffle=True),
                  batch_size=4, collate_fn=dict(type='default_collate'))
    return Runner.from_cfg(Config(dict(
        model=dict(type='ToyRegressor', nan_at=nan_at), work_dir=str(work_dir),
        train_dataloader=loader, val_dataloader=loader, val_evaluator=dict(type='EpochScore'),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1), val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                                           save_best='toy/score', rule='greater'),
                           logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[dict(type='NonFiniteLossHook', action=action),
                      dict(type='CheckpointProvenanceHook'), dict(type='RNGStateHook')],
        resume=resume, default_scope='vtt', log_level='WARNING',
        experiment_name=f'toy_{osp.basename(str(work_dir))}_{next(_runs)}',
        randomness=dict(seed=0), **extra)))


_runs = itertools.count()


class Crash(BaseException):
    """Stands in for SIGKILL at a fault point (nothing after it runs)."""


def crash_at(monkeypatch, point, hit):
    seen = []

    def fault(name):
        seen.append(name)
        if name == point and seen.count(name) == hit:
            raise Crash(name)
    monkeypatch.setattr(compat, 'fault_point', fault)


def recorded_best(path):
    return safe_torch_load(path)['message_hub']['runtime_info']['best_ckpt']


@pytest.mark.parametrize('point,hit', [
    ('best.before_remove_previous', 2), ('best.before_remove_previous', 3),
    ('checkpoint.before_remove_outdated', 2),
    ('file.write', 5)])  # epoch 2's latest checkpoint half-written (3 writes an epoch)
def test_crash_in_the_best_swap_keeps_a_complete_best_and_resumes(tmp_path, monkeypatch, point,
                                                                  hit):
    crash_at(monkeypatch, point, hit)
    with pytest.raises(Crash):
        toy_runner(tmp_path).train()
    latest = open(tmp_path / 'last_checkpoint').read().strip()
    assert osp.isfile(latest)  # resume --auto finds a complete file
    best = recorded_best(latest)
    assert osp.isfile(best) and safe_torch_load(best)['state_dict']  # the best never vanished
    monkeypatch.setattr(compat, 'fault_point', lambda name: None)
    runner = toy_runner(tmp_path, resume=True)
    runner.train()
    final = recorded_best(osp.join(tmp_path, 'epoch_3.pth'))
    assert osp.basename(final) == 'best_toy_score_epoch_3.pth' and osp.isfile(final)
    assert not any(name.endswith('.tmp') for name in os.listdir(tmp_path)) or point == 'file.write'


def test_the_epoch_checkpoint_is_written_after_its_validation(tmp_path):
    toy_runner(tmp_path, max_epochs=2).train()
    checkpoint = safe_torch_load(tmp_path / 'epoch_2.pth')
    info = checkpoint['message_hub']['runtime_info']
    assert info['best_ckpt'].endswith('best_toy_score_epoch_2.pth')
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) == [
        'best_toy_score_epoch_2.pth', 'epoch_2.pth']


def test_disk_full_during_a_save_keeps_earlier_checkpoints(tmp_path, monkeypatch):
    from vtt.utils import io
    fsync, calls = io.os.fsync, []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) > 4:  # epochs 1 and 2 saved (best + latest + last_checkpoint ...)
            raise OSError(errno.ENOSPC, 'No space left on device')
        return fsync(fd)
    monkeypatch.setattr(io.os, 'fsync', full_disk)
    with pytest.raises(DiskFullError) as error:
        toy_runner(tmp_path).train()
    message = str(error.value)
    assert 'no space left' in message and str(tmp_path) in message and '--resume' in message
    kept = [f for f in os.listdir(tmp_path) if f.endswith('.pth')]
    assert kept and all(safe_torch_load(tmp_path / f)['state_dict'] for f in kept)
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
    latest = open(tmp_path / 'last_checkpoint').read().strip()
    assert osp.isfile(latest)


def test_nan_loss_stops_naming_iteration_and_term_and_keeps_the_checkpoint(tmp_path):
    # 4 iterations per epoch: the NaN comes at iteration 6, in epoch 2
    with pytest.raises(NonFiniteLossError) as error:
        toy_runner(tmp_path, nan_at=6).train()
    message = str(error.value)
    assert 'iteration 6 (epoch 2)' in message and 'loss_mse=nan' in message
    assert 'epoch_1.pth' in message and 'loss_aux' not in message
    weights = safe_torch_load(tmp_path / 'epoch_1.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in weights.values())


def test_nan_loss_skip_mode_drops_the_step_and_stops_after_too_many(tmp_path):
    runner = toy_runner(tmp_path, nan_at=6, action='skip', max_epochs=2)
    runner.train()  # iterations 6, 7, 8 skipped: training ends with finite weights
    hook = next(h for h in runner.hooks if type(h).__name__ == 'NonFiniteLossHook')
    assert hook.skipped == 3
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    runner = toy_runner(tmp_path / 'again', nan_at=2, action='skip')
    next(h for h in runner.hooks if type(h).__name__ == 'NonFiniteLossHook'
         ).max_consecutive_skips = 3
    with pytest.raises(NonFiniteLossError, match='after 3 skipped steps in a row'):
        runner.train()


def test_checkpoints_record_provenance_and_a_changed_model_config_is_named(tmp_path, caplog):
    toy_runner(tmp_path, max_epochs=1).train()
    meta = safe_torch_load(tmp_path / 'epoch_1.pth')['meta']
    import mmengine

    import vtt
    assert meta['provenance']['vtt'] == vtt.__version__
    assert meta['provenance']['torch'] == torch.__version__
    assert meta['provenance']['mmengine'] == mmengine.__version__
    assert 'ToyRegressor' in meta['cfg']
    runner = toy_runner(tmp_path / 'other', max_epochs=1,
                        load_from=str(tmp_path / 'epoch_1.pth'))
    runner.cfg.model['width'] = 3
    messages = []
    runner.logger.warning = messages.append
    runner.load_checkpoint(str(tmp_path / 'epoch_1.pth'))
    assert any('1 key(s) differ (saved -> now): model.width: <missing> -> 3' in m
               for m in messages), messages


def test_config_differences_lists_changed_added_and_removed_keys():
    from vtt.engine.hooks.checkpoint_provenance_hook import config_differences
    saved = dict(type='A', head=dict(num_classes=4, loss=dict(type='CE')), layers=[1, 2])
    now = dict(type='A', head=dict(num_classes=5, loss=dict(type='CE'), dropout=0.1),
               layers=[1, 2])
    assert config_differences(saved, now) == [
        'model.head.dropout: <missing> -> 0.1', 'model.head.num_classes: 4 -> 5']
