"""CMG's modality-specific encoders: what a modality's reconstruction needs beyond the shared
semantic code (kept apart from it by the CLUB mutual-information bound).

Every specific encoder returns ``(features, summary)``: ``features`` is what the decoder takes,
``summary [B, T, out_dims]`` the per-step vector CLUB compares with the quantized semantic code.
"""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

from ..utils import patchify

__all__ = ['VectorSpecificEncoder', 'MapSpecificEncoder', 'ResidualStack']


@MODELS.register_module()
class VectorSpecificEncoder(BaseModule):
    """``ReLU(Linear(C * p, out_dims))`` per token (the official audio specific encoder).

    Shapes: ``[B, C, L] -> ([B, L / p, out_dims], same)``.
    """

    def __init__(self, in_channels: int, patch_size: int = 1, out_dims: int = 256,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels, self.patch_size, self.out_dims = in_channels, patch_size, out_dims
        self.proj = nn.Linear(in_channels * patch_size, out_dims)

    def forward(self, x: torch.Tensor):
        out = torch.relu(self.proj(patchify(x, self.patch_size)))
        return out, out


class ResidualStack(nn.Module):
    """``x + conv1x1(relu(conv3x3(relu(x))))`` blocks, then ReLU (the official VQ-VAE stack)."""

    def __init__(self, channels: int, hidden: int, num_blocks: int = 1):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(channels, hidden, 3, padding=1, bias=False),
                          nn.ReLU(), nn.Conv2d(hidden, channels, 1, bias=False))
            for _ in range(num_blocks))

    def forward(self, x):
        for block in self.blocks:
            x = x + block(x)
        return torch.relu(x)


@MODELS.register_module()
class MapSpecificEncoder(BaseModule):
    """Conv stack over the feature map of every step (the official video specific encoder).

    ::

        [C, H, W] --conv3x3 s2--> [h1] --ReLU, conv3x3--> [h2] --ReLU, conv1x1--> [h2]
          --residual stack--> [h2, H', W']   (7 x 7 -> 3 x 3)

    Args:
        in_channels (int): Defaults to 512.
        hidden_channels (Sequence[int]): ``(h1, h2)``. Defaults to ``(1024, 2048)`` (the
            official sizes).
        num_res_blocks (int): Defaults to 1.

    Shapes: ``[B, T, C, H, W] -> ([B, T, h2, H', W'], summary [B, T, h2])`` (the summary is
    the spatial mean).
    """

    def __init__(self, in_channels: int = 512, hidden_channels: Sequence[int] = (1024, 2048),
                 num_res_blocks: int = 1, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        h1, h2 = hidden_channels
        self.in_channels, self.out_dims = in_channels, h2
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, h1, 3, stride=2), nn.ReLU(inplace=True),
            nn.Conv2d(h1, h2, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(h2, h2, 1), ResidualStack(h2, h2 // 4, num_res_blocks))

    def forward(self, maps: torch.Tensor):
        if maps.dim() != 5 or maps.shape[2] != self.in_channels:
            raise ValueError(f'MapSpecificEncoder(in_channels={self.in_channels}) takes '
                             f'[B, T, {self.in_channels}, H, W], got {tuple(maps.shape)}')
        b, t = maps.shape[:2]
        out = self.convs(maps.flatten(0, 1))
        out = out.view(b, t, *out.shape[1:])
        return out, out.mean((3, 4))
