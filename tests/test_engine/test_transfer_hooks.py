"""Hooks and sampler of the meteo stages' training: two-phase transfer, threshold calibration
(one threshold or one per label), teacher-forcing decay, class-balanced sampling."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from vtt.registry import DATA_SAMPLERS, HOOKS, MODELS


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = MODELS.build(dict(type='BinaryClsHead', in_channels=4))


def runner_at(model, epoch, logs):
    return SimpleNamespace(model=model, epoch=epoch,
                           logger=SimpleNamespace(info=logs.append, warning=logs.append))


def test_backbone_unfreeze_hook_switches_at_its_epoch():
    model, logs = Model(), []
    hook = HOOKS.build(dict(type='BackboneUnfreezeHook', unfreeze_epoch=2))
    for epoch in range(4):
        runner = runner_at(model, epoch, logs)
        hook.before_train_epoch(runner)
        model.train()  # what the train loop does next
        hook.before_train_iter(runner, 0)
        frozen = epoch < 2
        assert all(p.requires_grad != frozen for p in model.backbone.parameters())
        assert all(p.requires_grad for p in model.head.parameters())
        assert model.backbone[1].training != frozen  # BatchNorm statistics kept while frozen
    assert any('trains from epoch 3' in line for line in logs)


def test_threshold_calibration_hook_stores_the_validation_threshold():
    model, logs = Model(), []
    hook = HOOKS.build(dict(type='ThresholdCalibrationHook'))
    hook.after_val_epoch(runner_at(model, 0, logs), {'binary/best_threshold': 0.31})
    assert abs(model.head.threshold.item() - 0.31) < 1e-6
    hook.after_val_epoch(runner_at(model, 1, logs), {'binary/auc': 0.9})
    assert abs(model.head.threshold.item() - 0.31) < 1e-6 and 'unchanged' in logs[-1]
    hook.after_val_epoch(runner_at(model, 2, logs), {'binary/best_threshold': 1.0})
    assert 0.99 < model.head.threshold.item() < 1.0  # clipped into (0, 1)


class Labelled:
    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def sample_classes(self):
        return self.classes

    def __len__(self):
        return len(self.classes)


def test_class_balanced_sampler_draws_classes_equally():
    dataset = Labelled([0] * 900 + [1] * 100)
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', dataset=dataset, seed=3))
    draws = np.array(list(sampler))
    assert len(draws) == len(sampler) == 1000
    share = (dataset.classes[draws] == 1).mean()
    assert 0.45 < share < 0.55  # about 1:1 although the data are 9:1
    again = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', dataset=dataset, seed=3))
    assert list(again) == list(draws)  # same seed and epoch, same draws
    sampler.set_epoch(1)
    assert list(sampler) != list(draws)


def test_class_balanced_sampler_splits_draws_across_ranks(monkeypatch):
    import vtt.datasets.samplers as samplers
    dataset = Labelled([0, 1] * 5)
    parts = []
    for rank in range(2):
        monkeypatch.setattr(samplers, 'get_dist_info', lambda rank=rank: (rank, 2))
        parts.append(list(samplers.ClassBalancedSampler(dataset, seed=0)))
    generator = torch.Generator().manual_seed(0)
    full = torch.multinomial(torch.full((10, ), 0.1, dtype=torch.double), 10, True,
                             generator=generator).tolist()
    assert parts[0] == full[0::2] and parts[1] == full[1::2]


def test_threshold_calibration_hook_takes_per_label_thresholds():
    model, logs = nn.Module(), []
    model.head = MODELS.build(dict(type='CNNRNNLabelHead', in_channels=4, num_labels=3,
                                   embed_dims=8, hidden_dims=8))
    hook = HOOKS.build(dict(type='ThresholdCalibrationHook', metric_key='parallel/thresholds'))
    hook.after_val_epoch(runner_at(model, 0, logs), {'parallel/thresholds': [0.2, 0.0, 0.7]})
    assert model.head.threshold.tolist() == pytest.approx([0.2, 1e-4, 0.7])
    assert '[0.200, 0.000, 0.700]' in logs[-1]


def test_teacher_forcing_hook_decays_linearly_and_follows_the_epoch():
    model, logs = nn.Module(), []
    model.head = MODELS.build(dict(type='CNNRNNLabelHead', in_channels=4, num_labels=3,
                                   embed_dims=8, hidden_dims=8))
    hook = HOOKS.build(dict(type='TeacherForcingHook', start=1.0, end=0.7))
    values = []
    for epoch in range(11):
        runner = runner_at(model, epoch, logs)
        runner.max_epochs = 11
        hook.before_train_epoch(runner)
        values.append(model.head.teacher_forcing)
    assert values[0] == 1.0 and values[-1] == pytest.approx(0.7)
    assert np.allclose(np.diff(values), -0.03)
    short = HOOKS.build(dict(type='TeacherForcingHook', end=0.7, decay_epochs=2))
    runner = runner_at(model, 5, logs)  # a resumed run, past the decay
    runner.max_epochs = 11
    short.before_train_epoch(runner)
    assert model.head.teacher_forcing == pytest.approx(0.7)
    model.head = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match='no teacher_forcing'):
        hook.before_train_epoch(runner)
