"""Cross-attention decoder: TimeMAE's decoupled masked encoder."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import add_layer_scales, attendable_padding_mask

__all__ = ['CrossAttentionDecoder', 'CrossAttentionBlock']


class CrossAttentionBlock(nn.Module):
    """``queries <- Norm1(queries + Dropout(a1 * MHA(queries, memory, memory)))``, then
    ``Norm2(queries + Dropout(a2 * FFN(queries)))`` (GELU; pre-norm with ``norm_first``).

    There is no self-attention among the queries: each query sees only its own state and the
    memory, so one masked position's prediction never depends on another masked query.
    ``a1``/``a2`` are learnable residual scales initialised to ``layer_scale_init`` (None: fixed
    at 1), as :class:`vtt.models.encoders.TransformerBlock`.
    """

    def __init__(self, embed_dims: int, num_heads: int, ffn_ratio: int, dropout: float,
                 norm_first: bool, layer_scale_init: Optional[float] = 1e-8):
        super().__init__()
        self.norm_first = norm_first
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                          batch_first=True)
        hidden = int(ffn_ratio * embed_dims)
        self.ffn = nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, embed_dims))
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        add_layer_scales(self, layer_scale_init)

    def _cross(self, q, memory, key_padding_mask):
        out = self.attn(q, memory, memory, key_padding_mask=key_padding_mask,
                        need_weights=False)[0]
        return self.dropout1(out if self.scale1 is None else self.scale1 * out)

    def _ffn(self, x):
        out = self.ffn(x)
        return self.dropout2(out if self.scale2 is None else self.scale2 * out)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.norm_first:
            queries = queries + self._cross(self.norm1(queries), memory, key_padding_mask)
            return queries + self._ffn(self.norm2(queries))
        queries = self.norm1(queries + self._cross(queries, memory, key_padding_mask))
        return self.norm2(queries + self._ffn(queries))


@MODELS.register_module()
class CrossAttentionDecoder(BaseModule):
    """Stack of cross-attention blocks (the paper's decoupled masked encoder, L_m blocks).

    Queries (TimeMAE: a learnable mask token + the positional embedding of each masked position)
    attend to the memory (the visible encoder's output); each block is cross-attention + FFN
    with residuals, as the official ``Regressor``. Keeping the masked queries out of the visible
    encoder and away from each other is what "decoupled" means.

    Args:
        embed_dims (int): D. Defaults to 64.
        num_layers (int): Blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 4.
        ffn_ratio (int): FFN hidden size = ``ffn_ratio * D``. Defaults to 4.
        dropout (float): Dropout. Defaults to 0.1 (the official code's decoder, whose
            encoder uses 0.2).
        norm_first (bool): Pre-norm blocks plus a final LayerNorm; ``False`` (default) gives
            post-norm blocks as in the official code.
        layer_scale_init (float, optional): Initial learnable residual scale of every block
            (official: 1e-8); None disables it.

    Shapes: ``forward(queries [B, M, D], memory [B, Nv, D], memory_key_padding_mask [B, Nv]
    bool (True = ignore) or None) -> [B, M, D]``.
    """

    def __init__(self, embed_dims: int = 64, num_layers: int = 4, num_heads: int = 4,
                 ffn_ratio: int = 4, dropout: float = 0.1, norm_first: bool = False,
                 layer_scale_init: Optional[float] = 1e-8, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ConfigError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.layers = nn.ModuleList([
            CrossAttentionBlock(embed_dims, num_heads, ffn_ratio, dropout, norm_first,
                                layer_scale_init) for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims) if norm_first else nn.Identity()

    def forward(self, queries: torch.Tensor, memory: torch.Tensor,
                memory_key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        key_padding_mask = attendable_padding_mask(memory_key_padding_mask)
        for layer in self.layers:
            queries = layer(queries, memory, key_padding_mask)
        return self.norm(queries)
