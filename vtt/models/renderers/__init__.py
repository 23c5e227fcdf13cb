"""Renderers: turn series into images for vision towers (tensor in, tensor out)."""
from .line_plot import VARIATE_PALETTE, TimeSeriesRenderer

__all__ = ['TimeSeriesRenderer', 'VARIATE_PALETTE']
