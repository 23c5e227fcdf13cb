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

    def zero_padding(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Check the inputs and zero the padded steps.

        Padded steps may hold anything (zeros, NaN, repeated values); zeroing them keeps a
        partially valid window independent of its padding.

        Returns:
            tuple: ``x [B, V, T]`` with padded steps zeroed, and ``steps [B, N * window]``
            (bool, True = valid step; the steps appended to fill the last window are False).
        """
        b, v, t = x.shape
        if v != self.in_channels:
            raise ConfigError(f'series has {v} variates, {type(self).__name__} was built for '
                              f'in_channels={self.in_channels}')
        if mask is None:
            mask = torch.ones(b, t, dtype=torch.bool, device=x.device)
        else:
            if mask.shape != (b, t):
                raise ValueError(f'mask must be [B, T] = {(b, t)}, got {tuple(mask.shape)}')
            mask = mask.to(device=x.device, dtype=torch.bool)
            x = x.masked_fill(~mask.unsqueeze(1), 0.0)
        return x, F.pad(mask, (0, (-t) % self.window), value=False)

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        x, steps = self.zero_padding(x, mask)
        x = F.pad(x, (0, steps.shape[1] - x.shape[2]))
        patches = self.proj(x).transpose(1, 2)  # [B, N, D]
        return patches, steps.view(steps.shape[0], -1, self.window).any(-1)


@MODELS.register_module()
class ConvWindowSlicer(WindowSlicer):
    """A convolutional stem over the whole series, average-pooled into window tokens.

    ::

        x [B, V, T] (padded steps zeroed) -> [Conv1d(k_i, 'same') -> BatchNorm -> ReLU] x L
          -> [B, D, T] -> zero-pad T to a multiple of window -> mean over each window
          -> patches [B, N, D], patch_valid [B, N]

    The linear window embedding of :class:`WindowSlicer` (the paper's) sees each window alone
    and through one linear map, so a pattern shifted by a few steps lands in a different window
    phase and looks different; on small UCR sets that costs 10-30 accuracy points
    (docs/research_lines/timemae.md, "Defaults that hold up"). Here an FCN-style stem (kernels
    7, 5, 3 by default) computes shift-equivariant local features at every step and each token
    is the mean of its window's features. The stem's receptive field (``sum(k_i - 1) + 1``
    steps, 13 by default) crosses window borders, so in TimeMAE pretraining a visible token
    sees the few edge steps of a masked neighbour; the masked windows' own content still has to
    be predicted.

    Same interface and positional table as :class:`WindowSlicer` (``num_patches``,
    ``position``, ``max_patches``, ``position_init_std``), so it drops into
    :class:`WindowEncoder`, ``TimeMAEPretrainer`` and ``TimeMAEClassifier`` unchanged.

    Args:
        in_channels (int): V.
        embed_dims (int): D, the token size (the last conv's channels). Defaults to 64.
        window (int): Steps per token. Defaults to 8.
        stem_channels (int): Channels of the hidden conv layers. Defaults to 64.
        kernel_sizes (tuple[int]): Odd kernel sizes of the conv layers, one per layer.
            Defaults to ``(7, 5, 3)``.
        max_patches (int): Size of the positional table. Defaults to 512.
        position_init_std (float): Std of the positional table's init. Defaults to 0.02.

    Shapes: ``forward(x [B, V, T], mask [B, T] or None) -> (patches [B, N, D],
    patch_valid [B, N])``, ``N = ceil(T / window)``.
    """

    def __init__(self, in_channels: int, embed_dims: int = 64, window: int = 8,
                 stem_channels: int = 64, kernel_sizes=(7, 5, 3), max_patches: int = 512,
                 position_init_std: float = 0.02, init_cfg: Optional[dict] = None):
        super().__init__(in_channels, embed_dims=embed_dims, window=window,
                         max_patches=max_patches, position_init_std=position_init_std,
                         init_cfg=init_cfg)
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ConfigError(f'kernel_sizes must be a non-empty list of odd positive sizes, '
                              f'got {kernel_sizes}')
        self.kernel_sizes = kernel_sizes
        layers = []
        channels = [in_channels] + [int(stem_channels)] * (len(kernel_sizes) - 1) + [embed_dims]
        for k, c_in, c_out in zip(kernel_sizes, channels[:-1], channels[1:]):
            layers += [nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out),
                       nn.ReLU(inplace=True)]
        # replaces WindowSlicer's linear window projection
        self.proj = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        x, steps = self.zero_padding(x, mask)
        b, t = x.shape[0], x.shape[2]
        # the stem runs on the series itself: its BatchNorm must not see the filler steps
        features = F.pad(self.proj(x), (0, steps.shape[1] - t))  # [B, D, N * window]
        # padded and filler steps contribute nothing to their window's mean
        features = features * steps.unsqueeze(1).to(features.dtype)
        steps = steps.view(b, -1, self.window)  # [B, N, window]
        count = steps.sum(-1).unsqueeze(1).to(features.dtype).clamp_min(1.0)  # [B, 1, N]
        summed = features.view(b, self.embed_dims, -1, self.window).sum(-1)  # [B, D, N]
        return (summed / count).transpose(1, 2), steps.any(-1)
