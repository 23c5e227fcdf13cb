import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS


@MODELS.register_module()
class LabelSmoothingCrossEntropy(nn.Module):
    """Cross-entropy with label smoothing: ``logits [B, C], target [B] -> scalar``.

    Args:
        smoothing (float): Probability mass spread over all classes. Defaults to 0.1.
        loss_weight (float): Multiplier of the loss.
    """

    def __init__(self, smoothing: float = 0.1, loss_weight: float = 1.0):
        super().__init__()
        self.smoothing = smoothing
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.cross_entropy(logits, target.long(),
                                                  label_smoothing=self.smoothing)
