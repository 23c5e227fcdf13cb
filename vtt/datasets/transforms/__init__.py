"""Registered data transforms (``TRANSFORMS``); each maps a results dict to a results dict."""
from .chart_augment import ChartTitle, JpegCompress, LogoWatermark, RandomAreaCrop
from .torchvision_wrapper import TorchVisionTransform

__all__ = ['LogoWatermark', 'ChartTitle', 'JpegCompress', 'RandomAreaCrop',
           'TorchVisionTransform']
