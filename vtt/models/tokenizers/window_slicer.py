"""Window slicing of a multivariate series into sub-series tokens (TimeMAE)."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['WindowSlicer']


@MODELS.register_module()
class WindowSlicer(BaseModule):
    """Cut ``[B, V, T]`` into non-overlapping windows of ``window`` steps and embed each one.

    ``T`` is zero-padded at the end to a multiple of ``window`` (zero is the per-variate mean
    after the z-score of ``TimeSeriesDataPreprocessor``); a ``Conv1d(V, D, kernel=window,
    stride=window)`` then embeds every window (all variates together) as one token, so
    ``N = ceil(T / window)``. The module also owns TimeMAE's learnable positional embedding,
    which callers add themselves (TimeMAE computes the tokenizer targets from the patch
    embeddings *before* positions are added).

    Args:
        in_channels (int): V, the number of variates.
        embed_dims (int): D, the token size. Defaults to 64.
        window (int): Steps per sub-series (the paper's w). Defaults to 8.
        max_patches (int): Size of the positional table, the largest N supported.
            Defaults to 512.
        position_init_std (float): Standard deviation of the normal initialisation of the
            positional table. Defaults to 1.0, the official TimeMAE code's (an ``nn.Embedding``
            table); ViT/MAE-style small tables use 0.02.

    Shapes: ``forward(x [B, V, T], mask [B, T] bool (True = valid step) or None)
    -> (patches [B, N, D], patch_valid [B, N] bool)``; ``position(n) -> [1, n, D]``.
    """

    def __init__(self, in_channels: int, embed_dims: int = 64, window: int = 8,
                 max_patches: int = 512, position_init_std: float = 1.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if window < 1 or max_patches < 1:
            raise ConfigError(f'window and max_patches must be positive, got {window}, '
                             f'{max_patches}')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.window = int(window)
        self.max_patches = int(max_patches)
        self.proj = nn.Conv1d(in_channels, embed_dims, kernel_size=self.window,
                              stride=self.window)
        self.pos_embed = nn.Parameter(torch.empty(1, self.max_patches, embed_dims))
        nn.init.normal_(self.pos_embed, std=float(position_init_std))

    def num_patches(self, num_steps: int) -> int:
        """N for a series of ``num_steps`` steps."""
        return math.ceil(num_steps / self.window)

    def position(self, n: int) -> torch.Tensor:
        """The positional embedding of the first ``n`` tokens, ``[1, n, D]``."""
        if n > self.max_patches:
            raise ConfigError(
                f'{n} patches exceed max_patches={self.max_patches} of the positional '
                f'embedding (window={self.window}, i.e. series longer than '
                f'{self.max_patches * self.window} steps); raise window_slicer.max_patches '
                'or window_slicer.window')
        return self.pos_embed[:, :n]

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        b, v, t = x.shape
        if v != self.in_channels:
            raise ConfigError(f'series has {v} variates, WindowSlicer was built for '
                             f'in_channels={self.in_channels}')
        pad = (-t) % self.window
        n = (t + pad) // self.window
        if mask is not None:
            if mask.shape != (b, t):
                raise ValueError(f'mask must be [B, T] = {(b, t)}, got {tuple(mask.shape)}')
            mask = mask.to(device=x.device, dtype=torch.bool)
            # Padded steps may hold anything (zeros, NaN, repeated values); zero them so a
            # partially valid window does not depend on its padding.
            x = x.masked_fill(~mask.unsqueeze(1), 0.0)
        if pad:
            x = F.pad(x, (0, pad))
        patches = self.proj(x).transpose(1, 2)  # [B, N, D]
        if mask is None:
            patch_valid = torch.ones(b, n, dtype=torch.bool, device=x.device)
        else:
            patch_valid = F.pad(mask, (0, pad), value=False).view(b, n, self.window).any(-1)
        return patches, patch_valid
