import math

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

__all__ = ['NumericPatchTokenizer']


@MODELS.register_module()
class NumericPatchTokenizer(BaseModule):
    """Cut each series into numeric patches and embed them as tokens for a language model.

    ``[N, T] -> patches [N, P, patch_len] -> Linear -> LayerNorm -> GELU -> [N, P, embed_dims]``,
    optionally followed by a small trainable transformer over the patch tokens (the "temporal
    transformer" of the seed model). The series end is padded by repeating the last value so
    every step lands in a patch.

    Args:
        patch_len (int): Steps per patch. Defaults to 4.
        stride (int): Step between patch starts. Defaults to ``patch_len``.
        embed_dims (int): Token size; set it to the text encoder's hidden size.
        num_temporal_layers (int): Trainable transformer layers over the patch tokens. 0 = none.
        num_heads (int): Heads of the temporal transformer.
        dropout (float): Dropout of the temporal transformer.
    """

    def __init__(self,
                 embed_dims: int,
                 patch_len: int = 4,
                 stride: int = None,
                 num_temporal_layers: int = 0,
                 num_heads: int = 4,
                 dropout: float = 0.1):
        super().__init__()
        self.patch_len = int(patch_len)
        self.stride = int(stride or patch_len)
        if self.patch_len < 1 or self.stride < 1:
            raise ValueError('patch_len and stride must be positive')
        self.embed_dims = embed_dims
        self.proj = nn.Sequential(
            nn.Linear(self.patch_len, embed_dims), nn.LayerNorm(embed_dims), nn.GELU())
        self.temporal = None
        if num_temporal_layers > 0:
            layer = nn.TransformerEncoderLayer(
                embed_dims, num_heads, dim_feedforward=4 * embed_dims, dropout=dropout,
                activation='gelu', batch_first=True, norm_first=True)
            self.temporal = nn.TransformerEncoder(layer, num_temporal_layers,
                                                  enable_nested_tensor=False)

    def num_patches(self, num_steps: int) -> int:
        """Patches produced for a series of ``num_steps`` steps."""
        if num_steps <= self.patch_len:
            return 1
        return 1 + math.ceil((num_steps - self.patch_len) / self.stride)

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        """``series [N, T] -> tokens [N, P, embed_dims]``."""
        n, steps = series.shape
        count = self.num_patches(steps)
        padded_len = self.patch_len + (count - 1) * self.stride
        if padded_len > steps:
            series = F.pad(series.unsqueeze(1), (0, padded_len - steps), mode='replicate')[:, 0]
        patches = series.unfold(-1, self.patch_len, self.stride)  # [N, P, patch_len]
        tokens = self.proj(patches)
        if self.temporal is not None:
            tokens = self.temporal(tokens)
        return tokens
