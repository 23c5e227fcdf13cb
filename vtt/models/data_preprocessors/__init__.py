from .timeseries import TimeSeriesDataPreprocessor

__all__ = ['TimeSeriesDataPreprocessor']
