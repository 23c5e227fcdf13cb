"""predict_series: masks of variable-length series reach the model."""
import pytest
import torch

from vtt.apis import predict_series
from vtt.registry import MODELS


def _model():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='TimeMAEClassifier', num_classes=3,
        data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=2),
        backbone=dict(type='WindowEncoder',
                      window_slicer=dict(type='ConvWindowSlicer', embed_dims=8, window=4),
                      encoder=dict(type='TransformerEncoder', num_layers=1, num_heads=2))))
    model.data_preprocessor.set_statistics([0.0, 0.0], [1.0, 1.0])
    return model.eval()


def test_masks_make_predictions_independent_of_padding():
    model = _model()
    series = torch.randn(5, 2, 16)
    masks = torch.ones(5, 16, dtype=torch.bool)
    masks[:, 10:] = False
    other = series.clone()
    other[..., 10:] = 50.0  # different padding values
    with_masks = [p['pred_score'] for p in predict_series(model, series, masks=masks)]
    other_masks = [p['pred_score'] for p in predict_series(model, other, masks=masks)]
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(with_masks, other_masks))
    # without masks the padding is data, and the scores change
    unmasked = [p['pred_score'] for p in predict_series(model, other, batch_size=2)]
    assert not all(torch.allclose(a, b, atol=1e-3) for a, b in zip(other_masks, unmasked))


def test_masks_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r'masks must be \[N, T\]'):
        predict_series(_model(), torch.randn(2, 2, 8), masks=torch.ones(2, 7, dtype=torch.bool))
