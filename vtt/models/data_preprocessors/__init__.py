from .batch_augment import RandomScaleJitterShift
from .multimodal import MultimodalDataPreprocessor
from .timeseries import TimeSeriesDataPreprocessor

__all__ = ['TimeSeriesDataPreprocessor', 'RandomScaleJitterShift', 'MultimodalDataPreprocessor']
