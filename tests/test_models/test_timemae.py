"""TimeMAEPretrainer: masking, momentum encoder, padding, metrics and a tiny pretraining run."""
import copy
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from vtt.registry import MODELS


def _backbone(dims=16, window=4, encoder=None):
    return dict(type='WindowEncoder',
                window_slicer=dict(type='WindowSlicer', embed_dims=dims, window=window),
                encoder=encoder or dict(type='TransformerEncoder', num_layers=2, num_heads=2,
                                        dropout=0.1))


def _cfg(v=2, dims=16, window=4, encoder=None, **overrides):
    cfg = dict(
        type='TimeMAEPretrainer',
        backbone=_backbone(dims, window, encoder),
        decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=2, dropout=0.1),
        codebook=dict(type='GumbelCodebook', vocab_size=12),
        data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=v))
    cfg.update(overrides)
    return cfg


def _model(v=2, **overrides):
    model = MODELS.build(_cfg(v=v, **overrides))
    model.set_train_statistics(dict(mean=[0.0] * v, std=[1.0] * v))
    return model


def _batch(b=4, v=2, t=32, seed=0, mask=None):
    g = torch.Generator().manual_seed(seed)
    samples = dict(label=torch.arange(b) % 2, index=torch.arange(b))
    if mask is not None:
        samples['mask'] = mask
    return dict(inputs=torch.randn(b, v, t, generator=g), data_samples=samples)


def test_builds_and_fills_dims_from_slicer():
    model = _model()
    assert model.backbone.window_slicer.in_channels == 2  # from the preprocessor
    assert model.backbone.encoder.embed_dims == model.decoder.embed_dims == 16
    assert model.codebook.embed_dims == 16 and model.codebook.vocab_size == 12
    assert model.mrr_loss.loss_weight == 5.0 and model.mcc_loss.label_smoothing == 0.2
    with pytest.raises(ValueError, match='embed_dims=8'):
        MODELS.build(_cfg(encoder=dict(type='TransformerEncoder', embed_dims=8, num_heads=2)))
    with pytest.raises(ValueError, match='needs a data_preprocessor'):
        MODELS.build(_cfg(data_preprocessor=None))


def test_loss_keys_and_metric_ranges():
    model = _model()
    data = model.data_preprocessor(_batch(), True)
    out = model(**data, mode='loss')
    assert set(out) == {'loss_mcc', 'loss_mrr', 'hit_rate', 'ndcg10'}
    assert out['loss_mcc'].requires_grad and out['loss_mrr'].requires_grad
    assert not out['hit_rate'].requires_grad and not out['ndcg10'].requires_grad
    assert 0.0 <= float(out['hit_rate']) <= 1.0 and 0.0 <= float(out['ndcg10']) <= 1.0
    # an untrained model is near chance on 12 codewords, not perfect
    assert float(out['loss_mcc'].detach()) > 1.0
    _, log_vars = model.parse_losses(out)
    torch.testing.assert_close(log_vars['loss'], out['loss_mcc'] + out['loss_mrr'])


def test_masked_shapes_and_count():
    model = _model(mask_ratio=0.6)
    out = model.masked_forward(torch.randn(3, 2, 40))  # N = 10 -> M = 6
    assert out['masked_index'].shape == (3, 6) and out['visible_index'].shape == (3, 4)
    assert out['prediction'].shape == out['target_rep'].shape == (3, 6, 16)
    assert out['pred_logits'].shape == out['codes'].shape == (3, 6, 12)
    # visible and masked positions partition 0..N-1 in every sample
    both = torch.cat([out['visible_index'], out['masked_index']], 1).sort(1).values
    assert torch.equal(both, torch.arange(10).expand(3, 10))
    assert model.num_masked(3) == 1 and model.num_masked(2) == 1
    dense = _model(mask_ratio=0.95)
    assert dense.num_masked(20) == 19 and dense.num_masked(4) == 3  # >= 1 stays visible
    assert _model(mask_ratio=0.05).num_masked(4) == 1  # >= 1 is masked
    with pytest.raises(ValueError, match='at least 2 windows'):
        model.num_masked(1)


def test_masked_count_follows_the_official_floor():
    # int(mask_ratio * N) as the official code: 9 of HAR's 16 windows, 4 of 8 (rounding gave
    # 10 and 5)
    model = _model(mask_ratio=0.6)
    assert model.num_masked(16) == 9 and model.num_masked(8) == 4
    rounding = _model(mask_ratio=0.6, mask_count='round')
    assert rounding.num_masked(16) == 10 and rounding.num_masked(8) == 5
    out = model.masked_forward(torch.randn(2, 2, 64))  # window 4 -> N = 16
    assert out['masked_index'].shape == (2, 9)


def test_per_sample_masks_differ_and_shared_masks_match():
    torch.manual_seed(0)
    perm = _model().sample_permutation(16, 10)
    masked = perm[:, -6:].sort(1).values
    assert len({tuple(row.tolist()) for row in masked}) > 1
    assert torch.equal(perm.sort(1).values, torch.arange(10).expand(16, 10))
    shared = _model(batch_shared_mask=True).sample_permutation(16, 10)
    assert (shared == shared[:1]).all()
    # and the shared one is still random across calls
    assert not torch.equal(shared, _model(batch_shared_mask=True).sample_permutation(16, 10))


def test_visible_encoder_never_sees_masked_windows():
    model = _model().eval()
    inputs = torch.randn(2, 2, 32)  # window 4 -> N = 8, M = 5
    perm = torch.stack([torch.randperm(8, generator=torch.Generator().manual_seed(s))
                        for s in (1, 2)])
    ref = model.masked_forward(inputs, permutation=perm)
    perturbed = inputs.clone()
    for b in range(2):  # test set-up only: overwrite every masked window with noise
        for idx in ref['masked_index'][b].tolist():
            perturbed[b, :, 4 * idx:4 * idx + 4] = 100.0 * torch.randn(2, 4)
    out = model.masked_forward(perturbed, permutation=perm)
    torch.testing.assert_close(out['visible_rep'], ref['visible_rep'])
    torch.testing.assert_close(out['prediction'], ref['prediction'])
    # the targets do come from the masked windows
    assert not torch.allclose(out['target_rep'], ref['target_rep'])
    assert not torch.equal(out['code_logits'], ref['code_logits'])


def test_momentum_encoder_gets_no_gradient_and_follows_ema():
    torch.manual_seed(0)
    model = _model(momentum=0.1)  # mmengine's meaning: weight of the new value
    model.init_weights()
    encoder = model.backbone.encoder
    assert not any(p.requires_grad for p in model.momentum_encoder.parameters())
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-2))
    online_0 = copy.deepcopy(encoder.state_dict())
    model.train_step(_batch(), optim)
    # the first loss() copied the online weights of that moment, then the optimizer stepped
    for key, ema in model.momentum_encoder.module.state_dict().items():
        torch.testing.assert_close(ema, online_0[key])
    assert all(p.grad is None for p in model.momentum_encoder.parameters())
    online_1 = copy.deepcopy(encoder.state_dict())
    assert any(not torch.equal(online_1[k], online_0[k]) for k in online_0)  # it did step
    model.train_step(_batch(seed=1), optim)
    for key, ema in model.momentum_encoder.module.state_dict().items():
        torch.testing.assert_close(ema, 0.9 * online_0[key] + 0.1 * online_1[key])
    assert not model.momentum_encoder.module.training and encoder.training
    # evaluation forwards never move it
    before = copy.deepcopy(model.momentum_encoder.state_dict())
    model.eval()
    model.loss(**model.data_preprocessor(_batch(seed=2), False))
    for key, value in model.momentum_encoder.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_momentum_must_be_the_weight_of_the_new_value():
    from vtt.utils.errors import ConfigError
    with pytest.raises(ConfigError, match='decay of 0.99.*momentum=0.01'):
        _model(momentum=0.99)


def test_ema_moves_once_per_optimizer_step():
    model = _model(momentum=0.5)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    optim.initialize_count_status(model, 0, 10)
    model.train_step(_batch(), optim)  # copies the online weights; gradient accumulated only
    before = copy.deepcopy(model.momentum_encoder.state_dict())
    model.train_step(_batch(seed=1), optim)  # same online weights: no EMA move; then a step
    for key, value in model.momentum_encoder.state_dict().items():
        if key != 'steps':
            torch.testing.assert_close(value, before[key])
    model.train_step(_batch(seed=2), optim)  # the step happened: the EMA moves
    assert any(not torch.equal(v, before[k])
               for k, v in model.momentum_encoder.state_dict().items())


def test_gumbel_codebook_trained_through_the_loss():
    model = _model()
    data = model.data_preprocessor(_batch(), True)
    out = model(**data, mode='loss')
    out['loss_mcc'].backward()
    assert model.codebook.codewords.grad.abs().sum() > 0
    assert model.backbone.window_slicer.proj.weight.grad.abs().sum() > 0


def test_official_tokenizer_variant():
    model = _model(codebook=dict(type='LinearCenterTokenizer', vocab_size=12))
    data = model.data_preprocessor(_batch(), True)
    out = model(**data, mode='loss')
    out['loss_mcc'].backward()
    # the center layer learns only as the MCC head
    assert model.codebook.center.weight.grad.abs().sum() > 0


def test_padding_windows_excluded():
    model = _model().eval()
    lengths = torch.tensor([32, 13, 5])  # windows 8 / 4 / 2 with data (window 4)
    mask = torch.arange(32).expand(3, 32) < lengths[:, None]
    data = model.data_preprocessor(_batch(b=3, mask=mask), False)
    perm = torch.arange(8).flip(0).expand(3, 8)  # masked: windows 3..0, visible: 7..4
    ref = model.masked_forward(data['inputs'], mask, permutation=perm)
    # masked windows 3..0: sample 1 has data in windows 0..3, sample 2 in 0..1; samples 1
    # and 2 see only padding among their visible windows
    assert ref['weight'].tolist() == [[1.0] * 4, [1.0] * 4, [0.0, 0.0, 1.0, 1.0]]
    losses = model.loss(data['inputs'], data['data_samples'], permutation=perm)
    assert all(torch.isfinite(v) for v in losses.values())  # sample 2 sees only padding
    changed = data['inputs'].clone()
    changed[1, :, 13:] = 50.0
    changed[2, :, 5:] = -50.0
    losses2 = model.loss(changed, data['data_samples'], permutation=perm)
    for key in losses:
        torch.testing.assert_close(losses2[key], losses[key])
    # the unmasked representation ignores the padding as well
    rep, valid = model.backbone(data['inputs'], mask)
    rep2, _ = model.backbone(changed, mask)
    torch.testing.assert_close(rep2[valid], rep[valid])


def test_ranking_metrics_hand_computed():
    from vtt.models.algorithms.timemae import codeword_ranking_metrics
    logits = torch.tensor([[[3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [3.0, 2.0, 1.0]]])
    target = torch.tensor([[0, 1, 2]])  # ranks 0, 1, 2
    out = codeword_ranking_metrics(logits, target)
    assert float(out['hit_rate']) == pytest.approx(1 / 3)
    expected = (1.0 + 1 / math.log2(3) + 1 / math.log2(4)) / 3
    assert float(out['ndcg10']) == pytest.approx(expected, rel=1e-6)
    out = codeword_ranking_metrics(logits, target, torch.tensor([[0.0, 1.0, 0.0]]), k=1)
    assert float(out['hit_rate']) == 0.0 and float(out['ndcg10']) == 0.0


def test_tensor_mode_and_predict():
    model = _model().eval()
    data = model.data_preprocessor(_batch(t=30), False)
    rep = model(**data, mode='tensor')
    assert rep.shape == (4, 8, 16)
    feat, valid = model.backbone(data['inputs'])
    torch.testing.assert_close(rep, feat)
    assert valid.all()
    with pytest.raises(NotImplementedError, match='linear probe'):
        model(**data, mode='predict')


def test_hf_encoder_swaps_in(tmp_path):
    from transformers import BertConfig, BertModel
    BertModel(BertConfig(vocab_size=10, hidden_size=16, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=32,
                         max_position_embeddings=16)).save_pretrained(tmp_path)
    model = _model(encoder=dict(type='HFTransformerEncoder', pretrained=str(tmp_path)))
    bert = model.backbone.encoder.backbone
    loaded = bert.encoder.layer[0].output.dense.weight.clone()
    model.init_weights()  # the official Xavier init must not touch the loaded weights
    torch.testing.assert_close(bert.encoder.layer[0].output.dense.weight, loaded)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    log_vars = model.train_step(_batch(), optim)
    assert torch.isfinite(log_vars['loss'])


def _toy_two_class(n=64, t=32, seed=0):
    """Two separable classes: a slow sine vs. a fast square wave, random phase + noise."""
    g = torch.Generator().manual_seed(seed)
    steps = torch.arange(t).float()
    label = torch.arange(n) % 2
    phase = torch.rand(n, 1, generator=g) * 2 * math.pi
    slow = torch.sin(2 * math.pi * steps / 16 + phase)
    fast = torch.sign(torch.sin(2 * math.pi * steps / 4 + phase))
    first = torch.where(label[:, None] == 0, slow, fast)
    second = torch.where(label[:, None] == 0, fast, slow) * 0.5
    x = torch.stack([first, second], 1) + 0.1 * torch.randn(n, 2, t, generator=g)
    return x, label


def test_tiny_pretraining_lowers_the_loss():
    torch.manual_seed(0)
    model = _model(encoder=dict(type='TransformerEncoder', num_layers=2, num_heads=2,
                                dropout=0.0),
                   decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=2,
                                dropout=0.0))
    model.init_weights()
    x, label = _toy_two_class()
    batch = dict(inputs=x, data_samples=dict(label=label, index=torch.arange(len(x))))
    perm = torch.rand(len(x), 8, generator=torch.Generator().manual_seed(3)).argsort(1)

    def fixed_loss():
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            out = model.loss(data['inputs'], data['data_samples'], permutation=perm)
        model.train()
        return float(out['loss_mcc'] + out['loss_mrr'])

    before = fixed_loss()
    # 3e-3: the official residual scales start at 1e-8, so the blocks wake up slowly at 1e-3
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    for step in range(30):
        idx = torch.randperm(len(x))[:32]
        model.train_step(dict(inputs=x[idx], data_samples=dict(label=label[idx], index=idx)),
                         optim)
    after = fixed_loss()
    assert after < 0.7 * before, (before, after)
