"""vtt: an OpenMMLab-style toolkit for time-series and multimodal deep learning."""
from .version import __version__

__all__ = ['__version__']
