from .batch_augment import RandomScaleJitterShift
from .timeseries import TimeSeriesDataPreprocessor

__all__ = ['TimeSeriesDataPreprocessor', 'RandomScaleJitterShift']
