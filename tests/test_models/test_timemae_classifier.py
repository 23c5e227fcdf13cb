import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from vtt.registry import MODELS

SLICER = dict(type='WindowSlicer', in_channels=2, embed_dims=16, window=4)
ENCODER = dict(type='TransformerEncoder', embed_dims=16, num_layers=2, num_heads=2, dropout=0.0)
PREPROCESSOR = dict(type='TimeSeriesDataPreprocessor', num_variates=2)


def _pretrainer():
    return MODELS.build(dict(
        type='TimeMAEPretrainer', data_preprocessor=PREPROCESSOR, window_slicer=SLICER,
        encoder=ENCODER,
        decoder=dict(type='CrossAttentionDecoder', embed_dims=16, num_layers=1, num_heads=2,
                     dropout=0.0),
        codebook=dict(type='GumbelCodebook', embed_dims=16, vocab_size=32),
        mcc_loss=dict(type='MCCLoss'), mrr_loss=dict(type='MRRLoss'), mask_ratio=0.5))


def _classifier(**kwargs):
    cfg = dict(type='TimeMAEClassifier', num_classes=2, window_slicer=SLICER, encoder=ENCODER,
               data_preprocessor=PREPROCESSOR)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.set_train_statistics(dict(mean=[0.0, 0.0], std=[1.0, 1.0]))
    return model


def _toy(n, seed):
    """Two classes: sine vs square waves with random phase and noise, 2 variates x 32 steps."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 4 * math.pi, 32)
    labels = torch.arange(n) % 2
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi
    wave = torch.sin(t + phase)
    wave = torch.where(labels.view(-1, 1) == 1, torch.sign(wave), wave)
    x = torch.stack([wave, -wave], 1) + 0.3 * torch.randn(n, 2, 32, generator=g)
    return dict(inputs=x, data_samples=dict(label=labels, index=torch.arange(n)))


def test_loads_pretrained_slicer_and_encoder(tmp_path):
    pre = _pretrainer()
    path = tmp_path / 'pre.pth'
    torch.save(dict(state_dict=pre.state_dict()), path)
    model = _classifier(pretrained=str(path))
    model.init_weights()
    for part in ('window_slicer', 'encoder'):
        for key, value in getattr(pre, part).state_dict().items():
            torch.testing.assert_close(getattr(model, part).state_dict()[key], value)


def test_pretrained_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'head.weight': torch.zeros(1)}), path)
    with pytest.raises(KeyError, match='no window_slicer'):
        _classifier(pretrained=str(path)).init_weights()


def test_linear_probe_trains_only_the_head():
    model = _classifier(freeze_encoder=True)
    model.train()
    assert not model.encoder.training
    data = model.data_preprocessor(_toy(8, 0), True)
    model(**data, mode='loss')['loss_cls'].backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert all(p.grad is None for p in model.window_slicer.parameters())
    assert model.head[1].weight.grad.abs().sum() > 0


def test_pretrain_then_finetune_beats_chance(tmp_path):
    torch.manual_seed(0)
    pre = _pretrainer()
    pre.set_train_statistics(dict(mean=[0.0, 0.0], std=[1.0, 1.0]))
    pre.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(pre.parameters(), lr=1e-3))
    for step in range(20):
        pre.train_step(_toy(32, step), optim)
    path = tmp_path / 'pre.pth'
    torch.save(dict(state_dict=pre.state_dict()), path)

    model = _classifier(pretrained=str(path))
    model.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    model.train()
    for step in range(40):
        model.train_step(_toy(32, 100 + step), optim)
    model.eval()
    test = _toy(64, 999)
    preds = model.test_step(test)
    accuracy = sum(p['pred_label'] == p['gt_label'] for p in preds) / len(preds)
    assert accuracy > 0.8
