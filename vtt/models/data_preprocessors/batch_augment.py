"""Batch augmentations of z-scored series, applied by the data preprocessor in training only."""
from typing import Optional, Tuple

import torch
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['RandomScaleJitterShift']


@MODELS.register_module()
class RandomScaleJitterShift(nn.Module):
    """Label-preserving perturbations for small training sets (written here: a few tensor ops
    on the whole batch; tsaug/tsai work on numpy or per sample and would add a dependency).

    Per sample: multiply by ``exp(N(0, scale_std))`` (one factor for all variates), add
    ``N(0, jitter_std)`` noise per step, and shift circularly by a uniform integer in
    ``[-max_shift * T, max_shift * T]`` steps. The step mask (variable-length series) is shifted
    with the series, and padded steps stay zero-valued afterwards, so padding never becomes
    data.

    Args:
        scale_std (float): Std of the log amplitude factor. Defaults to 0.1.
        jitter_std (float): Std of the additive noise (z-score units). Defaults to 0.03.
        max_shift (float): Largest shift as a fraction of T. Defaults to 0.1.

    Shapes: ``forward(inputs [B, V, T], mask [B, T] bool or None) -> (inputs, mask)``.
    """

    def __init__(self, scale_std: float = 0.1, jitter_std: float = 0.03,
                 max_shift: float = 0.1):
        super().__init__()
        if min(scale_std, jitter_std, max_shift) < 0 or max_shift >= 1:
            raise ConfigError(f'RandomScaleJitterShift needs non-negative stds and max_shift in '
                              f'[0, 1); got scale_std={scale_std}, jitter_std={jitter_std}, '
                              f'max_shift={max_shift}')
        self.scale_std = float(scale_std)
        self.jitter_std = float(jitter_std)
        self.max_shift = float(max_shift)

    def forward(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        b, _, t = inputs.shape
        out = inputs
        if self.scale_std > 0:
            out = out * torch.exp(torch.randn(b, 1, 1, device=out.device) * self.scale_std)
        if self.jitter_std > 0:
            out = out + torch.randn_like(out) * self.jitter_std
        limit = int(self.max_shift * t)
        if limit > 0:
            shift = torch.randint(-limit, limit + 1, (b, ), device=out.device)
            index = (torch.arange(t, device=out.device).unsqueeze(0) - shift.unsqueeze(1)) % t
            out = out.gather(2, index.unsqueeze(1).expand_as(out))
            if mask is not None:
                mask = mask.gather(1, index)
        if mask is not None:
            out = out.masked_fill(~mask.unsqueeze(1), 0.0)
        return out, mask
