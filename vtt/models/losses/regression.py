from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['MSELoss']


@MODELS.register_module()
class MSELoss(nn.Module):
    """Mean squared error (``F.mse_loss``), the TimesCLIP yield regression loss.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.

    Shapes: ``forward(pred [B, K], target [B, K], weight [B] or None) -> scalar``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        pred = pred.float()
        target = target.to(pred.dtype).view_as(pred)
        if weight is None:
            return self.loss_weight * F.mse_loss(pred, target)
        per_sample = F.mse_loss(pred, target, reduction='none').flatten(1).mean(1)
        return self.loss_weight * (per_sample * weight.to(pred.dtype)).mean()

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
