"""Leaf helpers shared by every layer: errors, atomic IO, mmengine patches, distributed/AMP
helpers, summaries. Nothing here imports ``vtt.datasets``, ``vtt.models`` or any other vtt
layer (``vtt.setup_env.register_all_modules`` is the function that imports them all)."""
from .amp import check_amp_available
from .compat import CHECKPOINT_SAFE_GLOBALS, apply_mmengine_patches, safe_torch_load
from .dist import init_cpu_distributed
from .errors import (
                     AmpUnavailableError,
                     ConfigError,
                     DataFormatError,
                     PretrainedWeightsMismatchError,
                     PretrainedWeightsNotFoundError,
                     UnsafeCheckpointError,
                     VttUserError,
)
from .io import atomic_open, atomic_write_bytes, dump_json_atomic

__all__ = [
    'check_amp_available', 'CHECKPOINT_SAFE_GLOBALS', 'apply_mmengine_patches',
    'safe_torch_load', 'init_cpu_distributed', 'VttUserError', 'DataFormatError',
    'UnsafeCheckpointError', 'AmpUnavailableError', 'PretrainedWeightsNotFoundError',
    'PretrainedWeightsMismatchError', 'ConfigError', 'atomic_open', 'atomic_write_bytes',
    'dump_json_atomic'
]
