"""Cutting a channels-first series into non-overlapping patches (tokens) and back."""
import torch

from vtt.utils.errors import ConfigError

__all__ = ['patchify', 'unpatchify']


def patchify(x: torch.Tensor, patch_size: int, what: str = 'input') -> torch.Tensor:
    """``[B, C, L] -> [B, L / p, C * p]``: token ``t`` holds steps ``t*p .. t*p + p - 1`` of
    every channel (channel-major). ``L`` must be a multiple of ``p``."""
    if x.dim() != 3:
        raise ValueError(f'{what} must be [B, C, L] (channels first), got {tuple(x.shape)}')
    b, c, length = x.shape
    if length % patch_size:
        raise ConfigError(f'{what} has {length} steps, not a multiple of patch_size='
                          f'{patch_size}; choose a patch size that divides the length '
                          '(or crop the series)')
    return x.reshape(b, c, length // patch_size, patch_size).permute(0, 2, 1, 3).reshape(
        b, length // patch_size, c * patch_size)


def unpatchify(tokens: torch.Tensor, channels: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``[B, T, C * p] -> [B, C, T * p]``."""
    b, t, width = tokens.shape
    p = width // channels
    return tokens.reshape(b, t, channels, p).permute(0, 2, 1, 3).reshape(b, channels, t * p)
