"""TimeMAE's pretext losses over masked positions: codeword classification and representation
regression."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['MCCLoss', 'MRRLoss', 'weighted_mean']


def weighted_mean(values: torch.Tensor, weight: Optional[torch.Tensor]) -> torch.Tensor:
    """Mean of ``values [B, M]``, or ``sum(w * v) / sum(w)`` with ``weight [B, M]``.

    An all-zero weight gives 0 (a batch whose masked positions are all padding), not NaN.
    """
    if weight is None:
        return values.mean()
    weight = weight.to(values.dtype)
    return (values * weight).sum() / weight.sum().clamp_min(1e-12)


@MODELS.register_module()
class MCCLoss(nn.Module):
    """Masked codeword classification: cross-entropy of predicted codeword logits.

    Targets are codeword indices ``[B, M]`` or codes ``[B, M, vocab]`` (one-hot or the
    straight-through one-hot of :class:`GumbelCodebook`); the latter is a soft-target
    cross-entropy ``-sum_k q_k log p_k``, so gradients reach the codes and through them the
    codebook. Label smoothing mixes the target with the uniform distribution,
    ``q' = (1 - eps) q + eps / vocab``, which equals ``F.cross_entropy(label_smoothing=eps)``
    for index targets (the official code uses eps = 0.2).

    Args:
        label_smoothing (float): eps. Defaults to 0.2.
        loss_weight (float): Multiplier (the paper's beta). Defaults to 1.0.

    Shapes: ``forward(logits [B, M, vocab], target [B, M] long | [B, M, vocab] float,
    weight [B, M] or None) -> scalar`` (weighted mean over positions; weight 0 drops a position,
    e.g. a masked window that is only padding).
    """

    def __init__(self, label_smoothing: float = 0.2, loss_weight: float = 1.0):
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.label_smoothing = float(label_smoothing)
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        vocab = logits.shape[-1]
        log_prob = F.log_softmax(logits.float(), dim=-1)
        if target.dim() == logits.dim():
            if target.shape != logits.shape:
                raise ValueError(f'codes {tuple(target.shape)} do not match logits '
                                 f'{tuple(logits.shape)}')
            target = target.to(log_prob.dtype)
        elif target.shape == logits.shape[:-1]:
            target = F.one_hot(target.long(), vocab).to(log_prob.dtype)
        else:
            raise ValueError(f'target must be indices {tuple(logits.shape[:-1])} or codes '
                             f'{tuple(logits.shape)}, got {tuple(target.shape)}')
        if self.label_smoothing > 0:
            target = (1.0 - self.label_smoothing) * target + self.label_smoothing / vocab
        per_position = -(target * log_prob).sum(-1)
        return self.loss_weight * weighted_mean(per_position, weight)

    def extra_repr(self) -> str:
        return f'label_smoothing={self.label_smoothing}, loss_weight={self.loss_weight}'


@MODELS.register_module()
class MRRLoss(nn.Module):
    """Masked representation regression: MSE between predicted and target representations.

    Args:
        loss_weight (float): Multiplier (the paper's alpha; 5.0 in the official code).

    Shapes: ``forward(pred [B, M, D], target [B, M, D], weight [B, M] or None) -> scalar``:
    the squared error is averaged over D, then (weighted) over positions, so with no weight it
    equals ``F.mse_loss``.
    """

    def __init__(self, loss_weight: float = 5.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        if pred.shape != target.shape:
            raise ValueError(f'prediction {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ in shape')
        per_position = (pred.float() - target.float()).pow(2).mean(-1)
        return self.loss_weight * weighted_mean(per_position, weight)

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
