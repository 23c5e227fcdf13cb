from .numeric_patch import NumericPatchTokenizer
from .ts_renderer import VARIATE_PALETTE, TimeSeriesRenderer

__all__ = ['NumericPatchTokenizer', 'TimeSeriesRenderer', 'VARIATE_PALETTE']
