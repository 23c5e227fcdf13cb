from .codebook import GumbelCodebook, LinearCenterTokenizer
from .numeric_patch import NumericPatchTokenizer
from .window_slicer import ConvWindowSlicer, WindowSlicer

__all__ = ['NumericPatchTokenizer', 'GumbelCodebook', 'LinearCenterTokenizer', 'WindowSlicer',
           'ConvWindowSlicer']
