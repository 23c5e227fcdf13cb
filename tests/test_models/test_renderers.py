import pytest
import torch

from vtt.models.renderers import VARIATE_PALETTE
from vtt.registry import MODELS


def _renderer(**kwargs):
    cfg = dict(type='TimeSeriesRenderer', image_size=64, line_width=2.0, margin=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_shapes_and_range():
    images = _renderer()(torch.randn(2, 3, 12))
    assert images.shape == (2, 3, 3, 64, 64)
    assert images.min() >= 0 and images.max() <= 1
    assert images.dtype == torch.float32


def test_deterministic_and_affine_invariant():
    series = torch.randn(5, 12)
    renderer = _renderer()
    first = renderer(series)
    torch.testing.assert_close(first, renderer(series))
    torch.testing.assert_close(first, renderer(3 * series + 7), atol=1e-4, rtol=0)


def test_line_goes_up_for_increasing_series():
    image = _renderer()(torch.arange(12.0).view(1, 12))[0]
    ink = (1 - image).sum(0)  # [H, W] darkness
    rows = torch.arange(64.0)
    height = lambda col: float((ink[:, col] * rows).sum() / ink[:, col].sum())  # noqa: E731
    assert height(6) > height(32) > height(57)  # row index shrinks as the value grows
    assert ink[:, :3].sum() == 0 and ink[:, -3:].sum() == 0  # margins stay white


def test_each_variate_has_its_colour():
    images = _renderer()(torch.randn(1, 2, 12))[0]
    for v in range(2):
        pixel = images[v].flatten(1)[:, (1 - images[v]).sum(0).flatten().argmax()]
        torch.testing.assert_close(pixel, torch.tensor(VARIATE_PALETTE[v]), atol=1e-3, rtol=0)


def test_connected_line_for_steep_jump():
    series = torch.zeros(1, 12)
    series[0, 6] = 1.0  # spike: the segments are nearly vertical
    ink = (1 - _renderer()(series)[0]).sum(0)
    assert (ink[4:60, 4:60].sum(0) > 0).all()  # every plotted column has ink


def test_flat_series_and_single_step():
    renderer = _renderer()
    assert torch.isfinite(renderer(torch.ones(2, 12))).all()
    assert torch.isfinite(renderer(torch.ones(2, 1))).all()


def test_multi_scale_bands():
    series = torch.cat([torch.zeros(1, 8), torch.arange(4.0).view(1, 4)], dim=1)
    images = _renderer(scales=(1.0, 0.25), image_size=64)(series)[0]
    ink = (1 - images).sum(0)
    top, bottom = ink[:32], ink[32:]
    # the last-quarter band shows only the rising part: its first columns are near the band
    # bottom and its last ones near the band top
    rows = torch.arange(32.0).view(-1, 1)
    centre = (bottom * rows).sum(0) / bottom.sum(0).clamp_min(1e-6)
    assert centre[6] > centre[57] + 15
    assert top.sum() > 0


def test_uint8_matches_float():
    series = torch.randn(3, 12)
    as_float = _renderer()(series)
    as_uint8 = _renderer(out_dtype='uint8')(series)
    assert as_uint8.dtype == torch.uint8
    assert (as_uint8.float() - as_float * 255).abs().max() <= 0.51


def test_bad_arguments():
    with pytest.raises(ValueError, match='scales'):
        _renderer(scales=(0.0, ))
    with pytest.raises(ValueError, match=r'\[N, T\] or \[B, V, T\]'):
        _renderer()(torch.randn(12))
