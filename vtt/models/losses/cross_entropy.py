from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['CrossEntropyLoss']


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy of class logits (``F.cross_entropy``).

    Args:
        label_smoothing (float): Mix of the one-hot target with the uniform distribution.
            Defaults to 0.
        class_weight (list[float], optional): Per-class weights.
        loss_weight (float): Multiplier of the loss. Defaults to 1.

    Shapes: ``forward(logits [B, C], target [B] (int), weight [B] or None) -> scalar``.
    """

    def __init__(self, label_smoothing: float = 0.0,
                 class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0):
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.label_smoothing = float(label_smoothing)
        self.loss_weight = loss_weight
        self.class_weight = None if class_weight is None else list(map(float, class_weight))

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        class_weight = None if self.class_weight is None else logits.new_tensor(
            self.class_weight)
        loss = F.cross_entropy(logits.float(), target.long(), weight=class_weight,
                               label_smoothing=self.label_smoothing,
                               reduction='none' if weight is not None else 'mean')
        if weight is not None:
            loss = (loss * weight).mean()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'label_smoothing={self.label_smoothing}, loss_weight={self.loss_weight}'
