import pytest
import torch
from torch import nn

from vtt.models.algorithms import BaseAlgorithm
from vtt.registry import MODELS
from vtt.utils.errors import ConfigError


class _Mean(BaseAlgorithm):
    """A tiny algorithm written the documented way: features, a head, nothing else."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.head = MODELS.build(dict(type='LinearClsHead', num_classes=2, in_channels=3,
                                      loss=dict(type='FocalLoss')))

    def extract_feat(self, inputs, data_samples=None):
        return inputs.mean(-1)

    def loss(self, inputs, data_samples):
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs, data_samples=None):
        return self.head.predict(self.extract_feat(inputs), data_samples)


def test_dispatch_preprocessor_and_statistics():
    with pytest.raises(ConfigError, match='needs a data_preprocessor'):
        _Mean()
    model = _Mean(dict(type='TimeSeriesDataPreprocessor', num_variates=3))
    assert model.num_variates == 3
    model.set_train_statistics(dict(mean=[1.0, 2.0, 3.0], std=[1.0, 1.0, 2.0],
                                    class_counts=[1, 3]))
    assert model.data_preprocessor.mean.tolist() == [1.0, 2.0, 3.0]
    assert model.head.loss_module.alpha.tolist() == pytest.approx([2.0, 2 / 3])
    batch = dict(inputs=torch.randn(4, 3, 5), data_samples=dict(label=torch.tensor([0, 1, 0, 1])))
    data = model.data_preprocessor(batch, True)
    assert set(model(**data, mode='loss')) == {'loss_cls'}
    assert len(model(**data, mode='predict')) == 4
    assert model(**data, mode='tensor').shape == (4, 3)
    with pytest.raises(ValueError, match="Invalid mode 'train'"):
        model(**data, mode='train')


def test_representation_learners_refuse_predict():
    class _Rep(_Mean):
        can_predict = False

    model = _Rep(dict(type='TimeSeriesDataPreprocessor', num_variates=3, normalize=False))
    with pytest.raises(NotImplementedError, match='no predictions'):
        model(torch.randn(2, 3, 4), None, mode='predict')
    assert isinstance(model.head, nn.Module)
