"""Shared model building blocks: fingerprints, EMA, official initialisation, layer scales."""
import pytest
import torch
from torch import nn

from vtt.models.utils import ema_update_, weights_fingerprint
from vtt.registry import MODELS


def test_weights_fingerprint_tracks_every_change():
    module = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    first = weights_fingerprint(module)
    assert first == weights_fingerprint(module) and len(first) == 64
    with torch.no_grad():
        module[0].weight[0, 0] += 1e-3  # in place: the version counter moves
    changed = weights_fingerprint(module)
    assert changed != first
    copy = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    copy.load_state_dict(module.state_dict())
    assert weights_fingerprint(copy) == changed  # content, not identity
    module[1].register_buffer('extra', torch.zeros(2), persistent=False)
    assert weights_fingerprint(module) != changed  # non-persistent buffers count too


def test_ema_update_is_mmengine_momentum():
    avg = [torch.zeros(3), torch.ones(2)]
    ema_update_(avg, [torch.full((3, ), 10.0), torch.zeros(2)], momentum=0.1)
    torch.testing.assert_close(avg[0], torch.full((3, ), 1.0))
    torch.testing.assert_close(avg[1], torch.full((2, ), 0.9))


def test_xavier_linear_init_matches_the_official_code():
    from vtt.models.utils import XavierLinearInit
    torch.manual_seed(0)
    block = MODELS.build(dict(type='TransformerEncoder', embed_dims=64, num_layers=1,
                              num_heads=4))
    XavierLinearInit(distribution='normal', bias=0.1)(block)
    layer = block.layers[0]
    assert torch.all(layer.linear1.bias == 0.1) and torch.all(layer.self_attn.in_proj_bias == 0.1)
    assert torch.all(layer.self_attn.out_proj.bias == 0.1)  # a Linear subclass
    # xavier normal: std = sqrt(2 / (fan_in + fan_out)); q, k, v drawn as three D x D maps
    for q_k_v in layer.self_attn.in_proj_weight.detach().chunk(3):
        assert float(q_k_v.std()) == pytest.approx((2 / 128) ** 0.5, rel=0.1)
    std = float(layer.linear1.weight.detach().std())
    assert std == pytest.approx((2 / (64 + 256)) ** 0.5, rel=0.1)


def test_official_blocks_start_as_normalised_identity():
    """LayerNorm(x + a * sublayer(x)) with a = 1e-8: each block is ~ LayerNorm twice."""
    torch.manual_seed(0)
    encoder = MODELS.build(dict(type='TransformerEncoder', embed_dims=16, num_layers=2,
                                num_heads=2, dropout=0.0)).eval()
    assert [b.scale1.item() for b in encoder.layers] == pytest.approx([1e-8, 1e-8])
    x = torch.randn(2, 5, 16)
    expected = x
    for block in encoder.layers:
        expected = block.norm2(block.norm1(expected))
    torch.testing.assert_close(encoder(x), expected, atol=1e-5, rtol=1e-5)
    plain = MODELS.build(dict(type='TransformerEncoder', embed_dims=16, num_layers=2,
                              num_heads=2, dropout=0.0, layer_scale_init=None)).eval()
    assert plain.layers[0].scale1 is None
    assert not torch.allclose(plain(x), expected, atol=1e-3)
    decoder = MODELS.build(dict(type='CrossAttentionDecoder', embed_dims=16, num_layers=1,
                                num_heads=2))
    assert decoder.layers[0].scale2.item() == pytest.approx(1e-8)
    assert decoder.layers[0].dropout1.p == 0.1  # the official decoder dropout


def test_official_init_of_positions_and_mask_token():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='TimeMAEPretrainer',
        backbone=dict(type='WindowEncoder',
                      window_slicer=dict(type='WindowSlicer', embed_dims=64, window=4),
                      encoder=dict(type='TransformerEncoder', num_layers=1, num_heads=4)),
        decoder=dict(type='CrossAttentionDecoder', num_layers=1, num_heads=4),
        data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=2)))
    positions = model.backbone.window_slicer.pos_embed.detach()
    assert float(positions.std()) == pytest.approx(1.0, rel=0.05)
    assert float(model.mask_token.detach().std()) == pytest.approx(1.0, rel=0.3)
    model.init_weights()  # the official Xavier-normal init, bias 0.1
    assert torch.all(model.decoder.layers[0].ffn[0].bias == 0.1)
