"""vtt: an OpenMMLab-style toolkit for time-series and multimodal deep learning."""
import logging

from .version import __version__

# mmengine imports bitsandbytes to register its optimizers; on CPUs with AVX512-BF16,
# bitsandbytes then warns on every start that it cannot fetch an optional kernel from the model
# hub (which vtt never uses). Keep real errors, drop that warning.
logging.getLogger('bitsandbytes.backends.cpu.ops').setLevel(logging.ERROR)

__all__ = ['__version__']
