"""CMG's semantic (modality-agnostic) encoders: every modality to ``[B, T, 256]`` tokens that a
shared codebook can quantize.

::

    series [B, C, L] --patches of p steps--> [B, T = L/p, C*p] --Linear--> [B, T, D]
                                                          --2 post-norm transformer layers--> z
    maps [B, T, C, H, W] --SE channel attention--> --spatial attention--> [B, T, C]
                                                          --Linear--> [B, T, D] --transformer--> z

The transformer is the official code's ``InternalTemporalRelationModule``: ``Linear(in, D)``
then ``nn.TransformerEncoder`` (post-norm, ReLU, 4 heads, FFN 1024, dropout 0.1) and no position
encoding by default (the official AVE model has none; ``max_tokens`` adds a learned one).
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import patchify

__all__ = ['TemporalTransformer', 'SemanticEncoder', 'VideoSemanticEncoder']


class TemporalTransformer(nn.Module):
    """``Linear(in_dims, D)`` + ``num_layers`` post-norm transformer layers over time.

    Shapes: ``[B, T, in_dims] -> [B, T, D]``.
    """

    def __init__(self, in_dims: int, embed_dims: int = 256, num_layers: int = 2,
                 num_heads: int = 4, feedforward_channels: int = 1024, dropout: float = 0.1,
                 max_tokens: Optional[int] = None):
        super().__init__()
        if embed_dims % num_heads:
            raise ConfigError(f'embed_dims={embed_dims} must be divisible by num_heads='
                              f'{num_heads}')
        self.embed_dims = embed_dims
        self.proj = nn.Linear(in_dims, embed_dims)
        self.position = (None if max_tokens is None
                         else nn.Parameter(torch.zeros(1, max_tokens, embed_dims)))
        if self.position is not None:
            nn.init.trunc_normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(embed_dims, num_heads, feedforward_channels,
                                           dropout, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.proj(tokens)
        if self.position is not None:
            if x.shape[1] > self.position.shape[1]:
                raise ValueError(f'{x.shape[1]} tokens, but the position embedding has '
                                 f'max_tokens={self.position.shape[1]}')
            x = x + self.position[:, :x.shape[1]]
        return self.layers(x)


@MODELS.register_module()
class SemanticEncoder(BaseModule):
    """Semantic encoder of a vector modality (a multichannel series or per-step features).

    Args:
        in_channels (int): C, channels of the series (or size of the per-step feature, e.g. the
            128-d audio features of AVE with ``patch_size=1``).
        patch_size (int): Steps per token p (non-overlapping). Defaults to 1.
        embed_dims (int): D. Defaults to 256.
        num_layers, num_heads, feedforward_channels, dropout: The transformer (defaults: the
            official 2, 4, 1024, 0.1).
        max_tokens (int, optional): Adds a learned position embedding for up to this many
            tokens. Defaults to None (none, as the official code).

    Shapes: ``[B, C, L] -> [B, L / p, D]``.
    """

    def __init__(self, in_channels: int, patch_size: int = 1, embed_dims: int = 256,
                 num_layers: int = 2, num_heads: int = 4, feedforward_channels: int = 1024,
                 dropout: float = 0.1, max_tokens: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels, self.patch_size, self.embed_dims = in_channels, patch_size, embed_dims
        self.temporal = TemporalTransformer(in_channels * patch_size, embed_dims, num_layers,
                                            num_heads, feedforward_channels, dropout, max_tokens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f'SemanticEncoder(in_channels={self.in_channels}) takes '
                             f'[B, {self.in_channels}, L], got {tuple(x.shape)}')
        return self.temporal(patchify(x, self.patch_size))


class ChannelSpatialAttention(nn.Module):
    """The official video pooling: SE channel attention, then attention over the H x W
    locations, guided by the globally pooled feature.

    ::

        v [N, C, H, W]; g = mean_hw(v)
        channel: a = sigmoid(W2 relu(W1 g)) (C -> C/r -> C, no bias);  v <- v * a + v
        spatial: q_l = relu(Wl v_l) * relu(Wg g)  [N, HW, A];  w = softmax_l(u tanh(q_l))
        out = sum_l w_l v_l  [N, C]

    Returns the pooled feature and the spatial weights ``[N, H, W]`` (for attention maps).
    """

    def __init__(self, channels: int, reduction: int = 8, attention_dims: int = 256):
        super().__init__()
        self.channel = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False),
                                     nn.ReLU(inplace=True),
                                     nn.Linear(channels // reduction, channels, bias=False),
                                     nn.Sigmoid())
        self.local = nn.Linear(channels, attention_dims)
        self.glob = nn.Linear(channels, attention_dims)
        self.score = nn.Linear(attention_dims, 1)

    def forward(self, v: torch.Tensor):
        n, c, h, w = v.shape
        v = v + v * self.channel(v.mean((2, 3))).view(n, c, 1, 1)
        locations = v.flatten(2).transpose(1, 2)  # [N, HW, C]
        query = torch.relu(self.local(locations)) * torch.relu(self.glob(v.mean((2, 3)))
                                                              ).unsqueeze(1)
        weights = torch.softmax(self.score(torch.tanh(query)).squeeze(-1), dim=1)  # [N, HW]
        return (weights.unsqueeze(-1) * locations).sum(1), weights.view(n, h, w)


@MODELS.register_module()
class VideoSemanticEncoder(BaseModule):
    """Semantic encoder of a modality of feature maps per step (CNN features of video frames,
    e.g. 7 x 7 x 512 per second in AVE): channel and spatial attention pool every map to a
    vector, then the temporal transformer of :class:`SemanticEncoder`.

    Args:
        in_channels (int): C of the maps. Defaults to 512.
        reduction (int): SE bottleneck ratio. Defaults to 8 (512 -> 64, the official).
        attention_dims (int): Spatial-attention width. Defaults to 256.
        embed_dims, num_layers, num_heads, feedforward_channels, dropout, max_tokens: As
            :class:`SemanticEncoder`.

    Shapes: ``[B, T, C, H, W] -> [B, T, D]``; :meth:`spatial_weights` gives ``[B, T, H, W]``.
    """

    def __init__(self, in_channels: int = 512, reduction: int = 8, attention_dims: int = 256,
                 embed_dims: int = 256, num_layers: int = 2, num_heads: int = 4,
                 feedforward_channels: int = 1024, dropout: float = 0.1,
                 max_tokens: Optional[int] = None, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels, self.embed_dims = in_channels, embed_dims
        self.pool = ChannelSpatialAttention(in_channels, reduction, attention_dims)
        self.temporal = TemporalTransformer(in_channels, embed_dims, num_layers, num_heads,
                                            feedforward_channels, dropout, max_tokens)

    def _pool(self, maps: torch.Tensor):
        if maps.dim() != 5 or maps.shape[2] != self.in_channels:
            raise ValueError(f'VideoSemanticEncoder(in_channels={self.in_channels}) takes '
                             f'[B, T, {self.in_channels}, H, W], got {tuple(maps.shape)}')
        b, t = maps.shape[:2]
        pooled, weights = self.pool(maps.flatten(0, 1))
        return pooled.view(b, t, -1), weights.view(b, t, *weights.shape[1:])

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.temporal(self._pool(maps)[0])

    @torch.no_grad()
    def spatial_weights(self, maps: torch.Tensor) -> torch.Tensor:
        """Where the encoder looks in each map: ``[B, T, H, W]``, summing to 1 per map."""
        return self._pool(maps)[1]
