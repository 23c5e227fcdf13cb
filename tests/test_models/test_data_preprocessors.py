"""TimeSeriesDataPreprocessor: normalisation and the padding of variable-length series."""
import pytest
import torch

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError


def build(**kwargs):
    pre = MODELS.build(dict(type='TimeSeriesDataPreprocessor', num_variates=2, **kwargs))
    pre.set_statistics([1.0, -1.0], [2.0, 0.5])
    return pre


def test_normalises_per_variate_and_keeps_padding_by_default():
    inputs = torch.tensor([[[3.0, 5.0, 0.0], [0.0, -1.0, 0.0]]])
    mask = torch.tensor([[True, True, False]])
    out = build()(dict(inputs=inputs, data_samples=dict(mask=mask)))
    expected = torch.tensor([[[1.0, 2.0, -0.5], [2.0, 0.0, 2.0]]])
    torch.testing.assert_close(out['inputs'], expected)
    assert out['data_samples']['mask'] is mask


def test_fill_padding_last_holds_each_series_last_valid_value():
    pre = build(fill_padding='last')
    inputs = torch.arange(2 * 2 * 5, dtype=torch.float32).view(2, 2, 5)
    mask = torch.tensor([[True, True, True, False, False],     # ends early
                         [False, True, True, False, True]])   # leading padding and a gap
    out = pre(dict(inputs=inputs, data_samples=dict(mask=mask)))['inputs']
    normalised = pre(dict(inputs=inputs, data_samples=dict(mask=torch.ones(2, 5).bool())))
    ref = normalised['inputs']
    torch.testing.assert_close(out[0], ref[0][:, [0, 1, 2, 2, 2]])
    torch.testing.assert_close(out[1], ref[1][:, [1, 1, 2, 2, 4]])


def test_fill_padding_leaves_unmasked_and_all_padding_series_alone():
    pre = build(fill_padding='last')
    inputs = torch.randn(2, 2, 4)
    plain = pre(dict(inputs=inputs))['inputs']
    mask = torch.tensor([[True] * 4, [False] * 4])
    out = pre(dict(inputs=inputs, data_samples=dict(mask=mask)))['inputs']
    torch.testing.assert_close(out, plain)


def test_fill_padding_rejects_unknown_mode_and_bad_mask():
    with pytest.raises(ConfigError, match='fill_padding'):
        build(fill_padding='zero')
    with pytest.raises(ValueError, match=r'mask must be \[B, T\]'):
        build(fill_padding='last')(dict(inputs=torch.zeros(2, 2, 4),
                                        data_samples=dict(mask=torch.ones(2, 3).bool())))
