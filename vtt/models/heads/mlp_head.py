from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

__all__ = ['MLPHead']


@MODELS.register_module()
class MLPHead(BaseModule):
    """Two-layer MLP on fused features: ``[B, in_channels] -> [B, out_channels]``.

    Used as the classification head (``out_channels = num_classes``, logits) and the regression
    head (``out_channels = 1``).

    Args:
        in_channels (int): Input feature size.
        out_channels (int): Number of classes (or regression targets).
        hidden_channels (int, optional): Hidden size; defaults to ``in_channels // 2``.
        dropout (float): Dropout before each linear layer. Defaults to 0.1.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 hidden_channels: Optional[int] = None, dropout: float = 0.1):
        super().__init__()
        hidden = hidden_channels or max(in_channels // 2, out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.layers = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(in_channels, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, out_channels))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.layers(feats)
