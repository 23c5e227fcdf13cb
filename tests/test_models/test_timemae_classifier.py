import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

SLICER = dict(type='WindowSlicer', embed_dims=16, window=4)
ENCODER = dict(type='TransformerEncoder', num_layers=2, num_heads=2, dropout=0.0)
PREPROCESSOR = dict(type='TimeSeriesDataPreprocessor', num_variates=2)


def _backbone(**kwargs):
    return dict(type='WindowEncoder', window_slicer=SLICER, encoder=ENCODER, **kwargs)


def _pretrainer():
    return MODELS.build(dict(
        type='TimeMAEPretrainer', data_preprocessor=PREPROCESSOR, backbone=_backbone(),
        decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=2, dropout=0.0),
        codebook=dict(type='GumbelCodebook', vocab_size=32),
        mcc_loss=dict(type='MCCLoss'), mrr_loss=dict(type='MRRLoss'), mask_ratio=0.5))


def _classifier(checkpoint=None, **kwargs):
    init = None if checkpoint is None else dict(type='Pretrained', checkpoint=str(checkpoint),
                                                prefix='backbone.')
    cfg = dict(type='TimeMAEClassifier', num_classes=2, backbone=_backbone(init_cfg=init),
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


def test_head_and_loss_come_from_the_config():
    model = _classifier(head=dict(type='LinearClsHead', dropout=0.5,
                                  loss=dict(type='CrossEntropyLoss', label_smoothing=0.3)))
    assert model.head.in_channels == 16 and model.head.num_classes == 2
    assert model.head.loss_module.label_smoothing == 0.3
    focal = _classifier(head=dict(type='LinearClsHead', loss=dict(type='FocalLoss')))
    assert focal.head.loss_module.num_classes == 2  # filled in by the head
    with pytest.raises(ConfigError, match='set it once'):
        _classifier(head=dict(type='LinearClsHead', num_classes=3))


def test_loads_the_pretrained_backbone_through_init_cfg(tmp_path):
    pre = _pretrainer()
    path = tmp_path / 'pre.pth'
    torch.save(dict(state_dict=pre.state_dict()), path)
    model = _classifier(path)
    model.init_weights()  # the Xavier init runs first, the backbone's Pretrained init last
    for key, value in pre.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)


def test_pretrained_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'head.weight': torch.zeros(1)}), path)
    with pytest.raises(ConfigError, match="no weights under 'backbone.'"):
        _classifier(path).init_weights()
    # a backbone of another size: every missing / unexpected key is an error, not a warning
    pre = _pretrainer()
    state = {k: v for k, v in pre.state_dict().items() if 'layers.1.' not in k}
    torch.save(dict(state_dict=state), path)
    with pytest.raises(ConfigError, match=r'missing \[.*layers\.1\.'):
        _classifier(path).init_weights()


def _legacy_state_dict(pre):
    """The state dict the pretrainer had before the shared backbone: window_slicer.* and
    encoder.* at the top, nn.TransformerEncoder blocks (layers.layers.*) without residual
    scales, and an EMA copy under momentum_encoder.*."""
    legacy = {}
    for key, value in pre.state_dict().items():
        if key.endswith(('scale1', 'scale2')) or key == 'momentum_encoder.steps':
            continue
        key = key.replace('backbone.window_slicer.', 'window_slicer.')
        key = key.replace('momentum_encoder.module.', 'momentum_encoder.')
        key = key.replace('backbone.encoder.', 'encoder.')
        key = key.replace('encoder.layers.', 'encoder.layers.layers.')
        legacy[key] = value
    return legacy


def test_legacy_pretraining_checkpoints_still_load(tmp_path):
    torch.manual_seed(0)
    reference = _pretrainer()
    legacy = _legacy_state_dict(reference)
    assert any(k.startswith('encoder.layers.layers.') for k in legacy)
    # into the pretrainer itself (resume / load_from), strictly
    pre = _pretrainer()
    pre.load_state_dict(legacy, strict=True)
    for key, value in legacy.items():
        if key.startswith('window_slicer.'):
            torch.testing.assert_close(pre.backbone.window_slicer.state_dict()[key[14:]], value)
    assert all(p.item() == 1.0 for n, p in pre.named_parameters() if n.endswith('scale1'))
    # into a classifier through init_cfg Pretrained(prefix='backbone.')
    path = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict=legacy), path)
    model = _classifier(path)
    model.init_weights()
    torch.testing.assert_close(model.backbone.window_slicer.proj.weight,
                               legacy['window_slicer.proj.weight'])


def test_legacy_encoder_blocks_compute_what_they_computed():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=64, dropout=0.0,
                                       activation='gelu', batch_first=True)
    old = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    new = MODELS.build(dict(ENCODER, embed_dims=16)).eval()
    new.load_state_dict({f'layers.{k}': v for k, v in old.state_dict().items()}, strict=True)
    x = torch.randn(3, 7, 16)
    torch.testing.assert_close(new(x), old(x))


def test_linear_probe_trains_only_the_head():
    model = _classifier(freeze_backbone=True)
    model.train()
    assert not model.backbone.training
    data = model.data_preprocessor(_toy(8, 0), True)
    model(**data, mode='loss')['loss_cls'].backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.head.fc.weight.grad.abs().sum() > 0


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

    model = _classifier(path)
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
