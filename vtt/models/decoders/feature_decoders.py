"""CMG's reconstruction decoders: quantized semantic code + specific features -> the input.

The reconstruction (MSE) is what makes the specific encoder carry the modality's own detail;
the CLUB bound keeps that detail out of the shared code.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

from ..encoders.specific_encoders import ResidualStack
from ..utils import unpatchify

__all__ = ['VectorDecoder', 'MapDecoder']


@MODELS.register_module()
class VectorDecoder(BaseModule):
    """``Linear(cat(Linear(q), s))`` per token, back to the series (the official audio decoder).

    Args:
        out_channels (int): C of the reconstructed series.
        patch_size (int): Steps per token (as the encoders). Defaults to 1.
        embed_dims (int): D of the quantized code. Defaults to 256.
        specific_dims (int): Size of the specific features. Defaults to 256.

    Shapes: ``(quantized [B, T, D], specific [B, T, S]) -> [B, C, T * p]``.
    """

    def __init__(self, out_channels: int, patch_size: int = 1, embed_dims: int = 256,
                 specific_dims: int = 256, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.out_channels = out_channels
        self.code = nn.Linear(embed_dims, embed_dims)
        self.out = nn.Linear(embed_dims + specific_dims, out_channels * patch_size)

    def forward(self, quantized: torch.Tensor, specific: torch.Tensor) -> torch.Tensor:
        tokens = self.out(torch.cat([self.code(quantized), specific], dim=-1))
        return unpatchify(tokens, self.out_channels)


@MODELS.register_module()
class MapDecoder(BaseModule):
    """Transposed convolutions back to the feature maps (the official video decoder).

    ::

        Linear(q) tiled over H' x W', concatenated with the specific maps
          --ConvT3x3--> [hidden] --residual stack--> --ConvT3x3 s2--> [C] --ReLU, ConvT1x1--> [C]

    Args:
        out_channels (int): C of the maps. Defaults to 512.
        embed_dims (int): Defaults to 256.
        specific_channels (int): Channels of the specific maps. Defaults to 2048.
        hidden_channels (int): Defaults to 1024.
        num_res_blocks (int): Defaults to 1.

    Shapes: ``(quantized [B, T, D], specific [B, T, S, H', W']) -> [B, T, C, 2H'+1, 2W'+1]``
    (3 x 3 -> 7 x 7).
    """

    def __init__(self, out_channels: int = 512, embed_dims: int = 256,
                 specific_channels: int = 2048, hidden_channels: int = 1024,
                 num_res_blocks: int = 1, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.code = nn.Linear(embed_dims, embed_dims)
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(embed_dims + specific_channels, hidden_channels, 3, padding=1),
            ResidualStack(hidden_channels, hidden_channels // 4, num_res_blocks),
            nn.ConvTranspose2d(hidden_channels, out_channels, 3, stride=2), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(out_channels, out_channels, 1))

    def forward(self, quantized: torch.Tensor, specific: torch.Tensor) -> torch.Tensor:
        b, t, _, h, w = specific.shape
        code = self.code(quantized).flatten(0, 1)[:, :, None, None].expand(-1, -1, h, w)
        out = self.deconvs(torch.cat([code, specific.flatten(0, 1)], dim=1))
        return out.view(b, t, *out.shape[1:])
