from typing import Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

__all__ = ['VariateSelection']


@MODELS.register_module()
class VariateSelection(BaseModule):
    """Cross-variate attention with a gated residual ("variate selection").

    Every variate token attends to all variates; a sigmoid gate computed from the original and
    the attended token decides, per channel, how much of the attended context replaces it::

        attended = MHA(x, x, x)
        gate = sigmoid(Linear([x, attended]))
        selected = gate * attended + (1 - gate) * x

    Args:
        embed_dims (int): Token size D.
        num_heads (int): Attention heads. Defaults to 8.
        dropout (float): Attention dropout. Defaults to 0.1.

    Shapes: ``forward(x [B, V, D]) -> (selected [B, V, D], attention [B, V, V])`` where the
    attention weights are averaged over heads (rows sum to 1).
    """

    def __init__(self, embed_dims: int, num_heads: int = 8, dropout: float = 0.1):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                               batch_first=True)
        self.norm = nn.LayerNorm(embed_dims)
        self.gate = nn.Linear(2 * embed_dims, embed_dims)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        normed = self.norm(x)
        attended, weights = self.attention(normed, normed, normed, need_weights=True,
                                           average_attn_weights=True)
        gate = torch.sigmoid(self.gate(torch.cat([x, attended], dim=-1)))
        return gate * attended + (1 - gate) * x, weights
