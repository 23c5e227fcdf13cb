"""An external package that adds components to vtt without editing it.

Importing this package registers a loss and an encoder in vtt's MODELS registry; a config pulls
it in with ``custom_imports = dict(imports=['vtt_plugin_example'])``.
"""
from .encoders import GRUSequenceEncoder
from .losses import LabelSmoothingCrossEntropy

__all__ = ['GRUSequenceEncoder', 'LabelSmoothingCrossEntropy']
