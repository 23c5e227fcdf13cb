from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['FocalLoss', 'BCEFocalLoss', 'balanced_class_weights']


def balanced_class_weights(class_counts: Sequence[int]) -> np.ndarray:
    """``N / (C * n_c)`` per class, the "balanced" weighting (2018four: 2.07 / 1.15 / 1.08 /
    0.58). Classes absent from the counts get weight 0."""
    counts = np.asarray(class_counts, dtype=np.float64)
    weights = np.zeros_like(counts)
    present = counts > 0
    weights[present] = counts.sum() / (len(counts) * counts[present])
    return weights


@MODELS.register_module()
class FocalLoss(nn.Module):
    """Multi-class focal loss ``FL = -alpha_t (1 - p_t)^gamma log(p_t)``.

    With ``gamma=0`` and ``alpha=None`` it equals cross-entropy.

    Args:
        num_classes (int): Number of classes (size of the ``alpha`` buffer).
        gamma (float): Focusing parameter. Defaults to 2.0.
        alpha (str | list | None): Per-class weights. ``'auto'`` computes
            :func:`balanced_class_weights` from the training split's class counts, set by
            :meth:`set_class_counts` (done by ``TrainStatsHook`` before training; the weights
            are a buffer, so they are saved in the checkpoint). A list gives them directly;
            ``None`` weights every class 1.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``.
        loss_weight (float): Multiplier of the loss.

    Shapes: ``forward(logits [B, C], target [B] (int)) -> scalar`` (or ``[B]``).
    """

    def __init__(self, num_classes: int, gamma: float = 2.0,
                 alpha: Union[str, Sequence[float], None] = 'auto', reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__()
        if reduction not in ('mean', 'sum', 'none'):
            raise ValueError(f'reduction must be mean/sum/none, got {reduction!r}')
        if isinstance(alpha, str) and alpha != 'auto':
            raise ValueError(f"alpha must be 'auto', a list of {num_classes} weights or None")
        self.num_classes = num_classes
        self.gamma = float(gamma)
        self.auto_alpha = alpha == 'auto'
        self.reduction = reduction
        self.loss_weight = loss_weight
        if alpha is None or self.auto_alpha:
            weights = torch.ones(num_classes)
        else:
            weights = torch.as_tensor(alpha, dtype=torch.float32)
            if weights.shape != (num_classes, ):
                raise ValueError(f'alpha has {weights.numel()} entries for {num_classes} classes')
        self.register_buffer('alpha', weights)

    def set_class_counts(self, class_counts: Sequence[int]) -> None:
        """Recompute ``alpha`` from training class frequencies (only when ``alpha='auto'``)."""
        if self.auto_alpha:
            weights = balanced_class_weights(class_counts)
            self.alpha.copy_(torch.as_tensor(weights, dtype=self.alpha.dtype))

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        log_prob = F.log_softmax(logits.float(), dim=-1)
        log_pt = log_prob.gather(1, target.long().view(-1, 1)).squeeze(1)
        pt = log_pt.exp()
        loss = -self.alpha.to(logits.device)[target.long()] * (1 - pt).pow(self.gamma) * log_pt
        if weight is not None:
            loss = loss * weight
        if self.reduction == 'mean':
            loss = loss.mean()
        elif self.reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'gamma={self.gamma}, alpha={"auto" if self.auto_alpha else self.alpha.tolist()}'


@MODELS.register_module()
class BCEFocalLoss(nn.Module):
    """``a * BCE + (1 - a) * sigmoid focal loss`` on logits, per element (binary or
    multi-label), the meteo gate's loss (a = 0.7, gamma = 2).

    The focal term is torchvision's ``sigmoid_focal_loss`` (without its alpha balancing by
    default: balance comes from the sampler).

    Args:
        bce_weight (float): ``a``. Defaults to 0.7.
        gamma (float): Focusing parameter of the focal term. Defaults to 2.0.
        alpha (float): torchvision's positive-class weight of the focal term; a negative value
            (the default, -1) disables it.
        loss_weight (float): Multiplier of the loss.

    Shapes: ``forward(logits [B] or [B, L], target (same, 0/1 float), weight (broadcastable
    to the logits, optional)) -> scalar``: the mean of the (weighted) elementwise losses.
    """

    def __init__(self, bce_weight: float = 0.7, gamma: float = 2.0, alpha: float = -1.0,
                 loss_weight: float = 1.0):
        super().__init__()
        if not 0.0 <= bce_weight <= 1.0:
            raise ValueError(f'bce_weight must be in [0, 1], got {bce_weight}')
        self.bce_weight = float(bce_weight)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.loss_weight = float(loss_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        from torchvision.ops import sigmoid_focal_loss
        logits = logits.float()
        target = target.to(logits.dtype).view_as(logits)
        loss = self.bce_weight * F.binary_cross_entropy_with_logits(logits, target,
                                                                    reduction='none')
        if self.bce_weight < 1.0:
            loss = loss + (1 - self.bce_weight) * sigmoid_focal_loss(
                logits, target, alpha=self.alpha, gamma=self.gamma, reduction='none')
        if weight is not None:
            loss = loss * weight.to(loss.dtype)
        return self.loss_weight * loss.mean()

    def extra_repr(self) -> str:
        return f'bce_weight={self.bce_weight}, gamma={self.gamma}'
