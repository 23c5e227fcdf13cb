from .numeric_patch import NumericPatchTokenizer
from .ts_renderer import VARIATE_PALETTE, TimeSeriesRenderer

__all__ = ['NumericPatchTokenizer', 'TimeSeriesRenderer', 'VARIATE_PALETTE']
from .codebook import GumbelCodebook, LinearCenterTokenizer
from .window_slicer import WindowSlicer
__all__ += ['GumbelCodebook', 'LinearCenterTokenizer', 'WindowSlicer']
