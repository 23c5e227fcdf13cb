"""Automatic mixed precision: fail early and clearly where it cannot run."""
from typing import Optional

import torch

from .errors import AmpUnavailableError

__all__ = ['check_amp_available']


def check_amp_available(device: Optional[str] = None) -> None:
    """Raise :class:`AmpUnavailableError` when automatic mixed precision cannot run here.

    mmengine's ``AmpOptimWrapper`` (what ``--amp`` selects) needs a CUDA/NPU/MLU device and
    asserts one with a message that does not say what to do.
    """
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        raise AmpUnavailableError(
            '--amp needs a CUDA GPU: mmengine\'s AmpOptimWrapper only runs on CUDA/NPU/MLU '
            'devices and this machine has none (torch.cuda.is_available() is False). Run '
            'without --amp on CPU; training in float32 gives the same results, only slower.')
