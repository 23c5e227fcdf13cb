"""TimeMAE building blocks: window slicer, encoders, cross-attention decoder, codeword
tokenizers and the MCC / MRR losses."""
import math

import pytest
import torch
import torch.nn.functional as F

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError, PretrainedWeightsNotFoundError


# ---------------------------------------------------------------------------- WindowSlicer
def test_window_slicer_pads_and_embeds_windows():
    slicer = MODELS.build(dict(type='WindowSlicer', in_channels=2, embed_dims=8, window=4))
    x = torch.randn(3, 2, 10)  # 10 steps -> padded to 12 -> N = 3
    patches, valid = slicer(x)
    assert patches.shape == (3, 3, 8) and valid.shape == (3, 3) and valid.all()
    # the last window holds steps 8, 9 and two zeros
    padded = torch.cat([x[:, :, 8:], torch.zeros(3, 2, 2)], dim=-1)
    expected = torch.einsum('bvk,dvk->bd', padded, slicer.proj.weight) + slicer.proj.bias
    torch.testing.assert_close(patches[:, 2], expected)
    assert slicer.position(3).shape == (1, 3, 8)


def test_window_slicer_validity_and_padding_values_ignored():
    slicer = MODELS.build(dict(type='WindowSlicer', in_channels=1, embed_dims=4, window=4))
    x = torch.randn(2, 1, 12)
    mask = torch.tensor([[True] * 12, [True] * 5 + [False] * 7])
    patches, valid = slicer(x, mask)
    assert valid.tolist() == [[True, True, True], [True, True, False]]
    changed = x.clone()
    changed[1, :, 5:] = float('nan')  # whatever sits in the padding
    patches2, _ = slicer(changed, mask)
    torch.testing.assert_close(patches2, patches)


def test_window_slicer_position_limit():
    slicer = MODELS.build(dict(type='WindowSlicer', in_channels=1, embed_dims=4, window=2,
                               max_patches=5))
    assert slicer.position(5).shape == (1, 5, 4)
    assert slicer(torch.randn(1, 1, 11))[0].shape == (1, 6, 4)  # slicing needs no positions
    with pytest.raises(ValueError, match='6 patches exceed max_patches=5'):
        slicer.position(6)


# ---------------------------------------------------------------------------- encoders
def test_transformer_encoder_key_padding_mask():
    enc = MODELS.build(dict(type='TransformerEncoder', embed_dims=8, num_layers=2,
                            num_heads=2, dropout=0.0)).eval()
    x = torch.randn(2, 5, 8)
    kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
    out = enc(x, key_padding_mask=kpm)
    changed = x.clone()
    changed[1, 3:] += 10.0  # padded tokens must not affect the others
    out2 = enc(changed, key_padding_mask=kpm)
    torch.testing.assert_close(out2[1, :3], out[1, :3])
    torch.testing.assert_close(out2[0], out[0])
    # a fully padded row stays finite instead of NaN
    assert torch.isfinite(enc(x, key_padding_mask=torch.ones(2, 5, dtype=torch.bool))).all()


@pytest.mark.parametrize('norm_first', [False, True])
def test_transformer_encoder_shapes(norm_first):
    enc = MODELS.build(dict(type='TransformerEncoder', embed_dims=8, num_layers=1,
                            num_heads=2, norm_first=norm_first))
    assert enc(torch.randn(3, 4, 8)).shape == (3, 4, 8)


@pytest.fixture(scope='module')
def tiny_bert_dir(tmp_path_factory):
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=32,
                                 max_position_embeddings=32))
    path = tmp_path_factory.mktemp('tiny_bert')
    model.save_pretrained(path)
    return str(path)


def test_hf_encoder_loads_local_bert(tiny_bert_dir):
    from transformers import BertModel
    reference = BertModel.from_pretrained(tiny_bert_dir)
    enc = MODELS.build(dict(type='HFTransformerEncoder', pretrained=tiny_bert_dir,
                            embed_dims=8))
    enc.init_weights()  # must not re-initialise the loaded weights
    torch.testing.assert_close(enc.backbone.encoder.layer[0].attention.self.query.weight,
                               reference.encoder.layer[0].attention.self.query.weight)
    enc.eval()
    x = torch.randn(2, 5, 8)
    kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
    out = enc(x, key_padding_mask=kpm)
    assert out.shape == (2, 5, 8)
    changed = x.clone()
    changed[1, 3:] = 7.0
    torch.testing.assert_close(enc(changed, key_padding_mask=kpm)[1, :3], out[1, :3])
    with torch.no_grad():
        expected = enc.out_proj(reference.eval()(
            inputs_embeds=enc.in_proj(x[:1])).last_hidden_state)
    torch.testing.assert_close(out[:1], expected)


def test_hf_encoder_frozen_and_missing(tiny_bert_dir, tmp_path):
    enc = MODELS.build(dict(type='HFTransformerEncoder', pretrained=tiny_bert_dir,
                            embed_dims=8, frozen=True))
    assert not any(p.requires_grad for p in enc.backbone.parameters())
    assert enc.in_proj.weight.requires_grad and enc.out_proj.weight.requires_grad
    with pytest.raises(PretrainedWeightsNotFoundError, match='model.backbone.encoder.pretrained'):
        MODELS.build(dict(type='HFTransformerEncoder', pretrained=str(tmp_path / 'none')))


def test_hf_encoder_bundled_minilm():
    from vtt.utils.assets import minilm_dir
    enc = MODELS.build(dict(type='HFTransformerEncoder', pretrained=str(minilm_dir()),
                            embed_dims=8))
    assert enc.hidden_size == 384
    assert enc.eval()(torch.randn(2, 6, 8)).shape == (2, 6, 8)


# ---------------------------------------------------------------------------- decoder
def test_cross_attention_queries_are_independent():
    dec = MODELS.build(dict(type='CrossAttentionDecoder', embed_dims=8, num_layers=2,
                            num_heads=2, dropout=0.0)).eval()
    queries, memory = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    out = dec(queries, memory)
    assert out.shape == (2, 3, 8)
    changed = queries.clone()
    changed[:, 1] += 5.0  # another query's content never reaches query 0 / 2
    out2 = dec(changed, memory)
    torch.testing.assert_close(out2[:, [0, 2]], out[:, [0, 2]])
    kpm = torch.tensor([[False, False, True, True]] * 2)
    memory2 = memory.clone()
    memory2[:, 2:] += 5.0  # padded memory is ignored
    torch.testing.assert_close(dec(queries, memory2, kpm), dec(queries, memory, kpm))


# ---------------------------------------------------------------------------- codebooks
def test_gumbel_codebook_hard_codes_and_ste_gradient():
    torch.manual_seed(0)
    cb = MODELS.build(dict(type='GumbelCodebook', embed_dims=8, vocab_size=6)).train()
    x = torch.randn(2, 5, 8, requires_grad=True)
    out = cb(x)
    assert out['codes'].shape == (2, 5, 6) and out['indices'].shape == (2, 5)
    assert out['indices'].dtype == torch.long
    # forward value is exactly one-hot at the sampled index
    torch.testing.assert_close(out['codes'].detach(),
                               F.one_hot(out['indices'], 6).float())
    (out['codes'] * torch.randn(2, 5, 6)).sum().backward()
    assert cb.codewords.grad is not None and cb.codewords.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0
    # eval: deterministic argmax of the similarity
    cb.eval()
    out = cb(x)
    torch.testing.assert_close(out['indices'], (x @ cb.codewords.t()).argmax(-1))
    torch.testing.assert_close(cb.predict_logits(x), x @ cb.codewords.t())


def test_gumbel_codebook_samples_in_training():
    torch.manual_seed(0)
    cb = MODELS.build(dict(type='GumbelCodebook', embed_dims=4, vocab_size=5, tau=1.0)).train()
    x = torch.zeros(1, 200, 4)  # all logits 0: Gumbel sampling must spread over codewords
    assert cb(x)['indices'].unique().numel() == 5


def test_linear_center_tokenizer_has_no_gradient_through_codes():
    tok = MODELS.build(dict(type='LinearCenterTokenizer', embed_dims=8, vocab_size=6)).train()
    x = torch.randn(2, 5, 8, requires_grad=True)
    out = tok(x)
    assert not out['codes'].requires_grad
    torch.testing.assert_close(out['codes'], F.one_hot(out['indices'], 6).float())
    torch.testing.assert_close(tok.predict_logits(x), tok.center(x))
    tok.eval()
    torch.testing.assert_close(tok(x)['indices'], tok.center(x).argmax(-1))


# ---------------------------------------------------------------------------- losses
def test_mcc_loss_hand_computed_without_smoothing():
    # logits [ln 3, 0, 0] -> p = [0.6, 0.2, 0.2]
    logits = torch.tensor([[[math.log(3.0), 0.0, 0.0], [math.log(3.0), 0.0, 0.0]]])
    target = torch.tensor([[0, 1]])
    loss = MODELS.build(dict(type='MCCLoss', label_smoothing=0.0))
    expected = 0.5 * (-math.log(0.6) - math.log(0.2))
    assert float(loss(logits, target)) == pytest.approx(expected, rel=1e-6)
    # as one-hot codes: same value
    codes = F.one_hot(target, 3).float()
    assert float(loss(logits, codes)) == pytest.approx(expected, rel=1e-6)
    # weight drops the second position
    weight = torch.tensor([[1.0, 0.0]])
    assert float(loss(logits, target, weight)) == pytest.approx(-math.log(0.6), rel=1e-6)


def test_mcc_loss_hand_computed_with_smoothing():
    logits = torch.tensor([[[math.log(3.0), 0.0, 0.0]]])
    loss = MODELS.build(dict(type='MCCLoss', label_smoothing=0.2, loss_weight=2.0))
    # q' = 0.8 * [0, 1, 0] + 0.2 / 3
    q = [0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3]
    expected = -(q[0] * math.log(0.6) + q[1] * math.log(0.2) + q[2] * math.log(0.2))
    assert float(loss(logits, torch.tensor([[1]]))) == pytest.approx(2 * expected, rel=1e-6)
    torch.manual_seed(0)
    logits, target = torch.randn(3, 4, 7), torch.randint(0, 7, (3, 4))
    torch.testing.assert_close(
        loss(logits, target),
        2 * F.cross_entropy(logits.view(-1, 7), target.view(-1), label_smoothing=0.2))


def test_mcc_loss_gradient_reaches_codes():
    logits = torch.randn(1, 2, 4)
    codes = F.one_hot(torch.tensor([[0, 3]]), 4).float().requires_grad_()
    MODELS.build(dict(type='MCCLoss'))(logits, codes).backward()
    assert codes.grad is not None and codes.grad.abs().sum() > 0


def test_mrr_loss_hand_computed():
    pred = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    target = torch.tensor([[[0.0, 0.0], [3.0, 1.0]]])
    loss = MODELS.build(dict(type='MRRLoss'))  # weight 5
    # per position: (1 + 4) / 2 = 2.5 and (9 + 1) / 2 = 5
    assert float(loss(pred, target)) == pytest.approx(5.0 * 3.75)
    assert float(loss(pred, target, torch.tensor([[0.0, 1.0]]))) == pytest.approx(5.0 * 5.0)
    torch.testing.assert_close(MODELS.build(dict(type='MRRLoss', loss_weight=1.0))(pred, target),
                               F.mse_loss(pred, target))
    # an all-padding batch gives 0, not NaN
    assert float(loss(pred, target, torch.zeros(1, 2))) == 0.0


# ----------------------------------------------------------------------- ConvWindowSlicer
def test_conv_window_slicer_shapes_and_window_means():
    slicer = MODELS.build(dict(type='ConvWindowSlicer', in_channels=2, embed_dims=8, window=4,
                               stem_channels=6))
    slicer.eval()
    x = torch.randn(3, 2, 10)
    patches, valid = slicer(x)
    assert patches.shape == (3, 3, 8) and valid.all()
    # each token is the mean of its window's per-step features; the last window has 2 steps
    features = slicer.proj(x)
    assert torch.allclose(patches[:, 0], features[..., 0:4].mean(-1), atol=1e-6)
    assert torch.allclose(patches[:, 2], features[..., 8:10].mean(-1), atol=1e-6)
    assert slicer.position(3).shape == (1, 3, 8)


def test_conv_window_slicer_ignores_padding_values():
    slicer = MODELS.build(dict(type='ConvWindowSlicer', in_channels=1, embed_dims=4, window=4))
    slicer.eval()
    mask = torch.tensor([[True] * 6 + [False] * 6])
    a = torch.randn(1, 1, 12)
    b = a.clone()
    b[..., 6:] = 1e3  # different padding
    (pa, va), (pb, vb) = slicer(a, mask), slicer(b, mask)
    assert va.tolist() == [[True, True, False]] and torch.equal(va, vb)
    assert torch.allclose(pa[:, :2], pb[:, :2])


def test_conv_window_slicer_is_shift_equivariant_inside_the_series():
    # a pattern shifted by a whole window moves by one token (the linear slicer shares this
    # only for whole-window shifts; the conv stem's features also move step by step)
    slicer = MODELS.build(dict(type='ConvWindowSlicer', in_channels=1, embed_dims=4, window=4))
    slicer.eval()
    x = torch.zeros(1, 1, 32)
    x[..., 10:13] = torch.tensor([1.0, 3.0, -2.0])
    shifted = torch.roll(x, 4, -1)
    p, _ = slicer(x)
    q, _ = slicer(shifted)
    assert torch.allclose(p[:, 2:4], q[:, 3:5], atol=1e-5)


def test_conv_window_slicer_rejects_even_kernels_and_wrong_variates():
    with pytest.raises(ConfigError, match='odd'):
        MODELS.build(dict(type='ConvWindowSlicer', in_channels=1, kernel_sizes=(4, 3)))
    slicer = MODELS.build(dict(type='ConvWindowSlicer', in_channels=2, embed_dims=4, window=2))
    with pytest.raises(ConfigError, match='in_channels=2'):
        slicer(torch.randn(1, 3, 8))


def test_conv_window_slicer_in_timemae_pretraining_and_classifier():
    backbone = dict(type='WindowEncoder',
                    window_slicer=dict(type='ConvWindowSlicer', embed_dims=16, window=4),
                    encoder=dict(type='TransformerEncoder', num_layers=1, num_heads=2))
    pre = MODELS.build(dict(type='TimeMAEPretrainer', backbone=backbone,
                            decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=2),
                            codebook=dict(type='GumbelCodebook', vocab_size=8),
                            data_preprocessor=dict(type='TimeSeriesDataPreprocessor',
                                                   num_variates=2)))
    losses = pre.loss(torch.randn(4, 2, 32))
    total = losses['loss_mcc'] + losses['loss_mrr']
    total.backward()
    assert pre.backbone.window_slicer.proj[0].weight.grad is not None
    clf = MODELS.build(dict(type='TimeMAEClassifier', num_classes=3, backbone=backbone,
                            data_preprocessor=dict(type='TimeSeriesDataPreprocessor',
                                                   num_variates=2)))
    clf.backbone.load_state_dict(pre.backbone.state_dict())
    assert clf(torch.randn(4, 2, 32)).shape == (4, 3)


# ------------------------------------------------------------------ RandomScaleJitterShift
def test_random_scale_jitter_shift_moves_the_mask_with_the_series():
    torch.manual_seed(0)
    aug = MODELS.build(dict(type='RandomScaleJitterShift', scale_std=0.0, jitter_std=0.0,
                            max_shift=0.25))
    x = torch.arange(8.0).repeat(16, 1, 1)  # [16, 1, 8]
    mask = torch.tensor([True] * 6 + [False] * 2).repeat(16, 1)
    x = x.masked_fill(~mask.unsqueeze(1), 0.0)
    out, out_mask = aug(x, mask)
    shifts = set()
    for i in range(16):
        found = [s for s in range(8) if torch.equal(out[i, 0], torch.roll(x[i, 0], s))
                 and torch.equal(out_mask[i], torch.roll(mask[i], s))]
        assert len(found) == 1 and found[0] in (0, 1, 2, 6, 7)  # |shift| <= 0.25 * 8
        shifts.add(found[0])
    assert len(shifts) > 1  # shifts differ per sample


def test_random_scale_jitter_shift_scales_per_sample_and_keeps_padding_zero():
    torch.manual_seed(0)
    aug = MODELS.build(dict(type='RandomScaleJitterShift', scale_std=0.2, jitter_std=0.1,
                            max_shift=0.0))
    x = torch.ones(8, 2, 10)
    mask = torch.ones(8, 10, dtype=torch.bool)
    mask[:, 7:] = False
    out, out_mask = aug(x, mask)
    assert torch.equal(out_mask, mask)
    assert (out[..., 7:] == 0).all()
    assert not torch.allclose(out[..., :7], x[..., :7])
    with pytest.raises(ConfigError):
        MODELS.build(dict(type='RandomScaleJitterShift', max_shift=1.0))


def test_preprocessor_augments_in_training_only():
    pre = MODELS.build(dict(type='TimeSeriesDataPreprocessor', num_variates=1,
                            augment=dict(type='RandomScaleJitterShift', jitter_std=0.5)))
    pre.set_statistics([0.0], [1.0])
    data = dict(inputs=torch.zeros(2, 1, 8), data_samples=dict(mask=torch.ones(2, 8).bool()))
    assert torch.equal(pre(data, training=False)['inputs'], torch.zeros(2, 1, 8))
    assert not torch.equal(pre(data, training=True)['inputs'], torch.zeros(2, 1, 8))
