from .compat import (UnsafeCheckpointError, apply_mmengine_patches, check_amp_available,
                     init_cpu_distributed, safe_torch_load)
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'apply_mmengine_patches', 'safe_torch_load', 'UnsafeCheckpointError',
    'check_amp_available', 'init_cpu_distributed'
]
