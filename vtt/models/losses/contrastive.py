import math

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['InfoNCELoss', 'info_nce']


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature, symmetric: bool = True) -> torch.Tensor:
    """Batch InfoNCE between paired embeddings ``a [..., B, D]`` and ``b [..., B, D]``.

    Row ``i`` of ``a`` must pick row ``i`` of ``b`` among all rows of ``b`` (and vice versa when
    ``symmetric``). Leading dimensions are independent problems whose losses are averaged.
    """
    a = F.normalize(a.float(), dim=-1)
    b = F.normalize(b.float(), dim=-1)
    logits = a @ b.transpose(-1, -2) / temperature  # [..., B, B]
    n = logits.shape[-1]
    target = torch.arange(n, device=logits.device).expand(logits.shape[:-1])
    loss = F.cross_entropy(logits.reshape(-1, n), target.reshape(-1))
    if symmetric:
        loss = 0.5 * (loss + F.cross_entropy(logits.transpose(-1, -2).reshape(-1, n),
                                             target.reshape(-1)))
    return loss


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """Symmetric InfoNCE between two views of per-variate embeddings (CLIP-style).

    Args:
        temperature (float): Softmax temperature. Defaults to 0.07.
        mode (str): ``'per_variate'``: for every variate, image and text embeddings of the same
            sample are positives among the batch (averaged over variates); ``'global'``: the
            embeddings are first averaged over variates; ``'hybrid'``:
            ``alpha * per_variate + (1 - alpha) * global``.
        alpha (float): Mix of the hybrid mode. Defaults to 0.5.
        learnable_temperature (bool): Learn ``log(1 / temperature)`` as CLIP does.
        loss_weight (float): Multiplier (the TimesCLIP lambda, 0.1).

    Shapes: ``forward(a [B, V, D], b [B, V, D]) -> scalar``; ``[B, D]`` inputs are treated as a
    single variate.
    """

    MODES = ('per_variate', 'global', 'hybrid')

    def __init__(self, temperature: float = 0.07, mode: str = 'per_variate', alpha: float = 0.5,
                 learnable_temperature: bool = False, loss_weight: float = 1.0):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        self.mode = mode
        self.alpha = alpha
        self.loss_weight = loss_weight
        log_scale = torch.tensor(math.log(1.0 / temperature))
        if learnable_temperature:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_scale', log_scale)

    @property
    def temperature(self) -> torch.Tensor:
        return 1.0 / self.log_scale.exp()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape:
            raise ValueError(f'paired embeddings differ in shape: {a.shape} vs {b.shape}')
        if a.dim() == 2:
            a, b = a.unsqueeze(1), b.unsqueeze(1)
        temperature = self.temperature
        loss = 0.0
        if self.mode in ('per_variate', 'hybrid'):
            # [V, B, D]: one batch-level problem per variate.
            per_variate = info_nce(a.transpose(0, 1), b.transpose(0, 1), temperature)
            loss = per_variate if self.mode == 'per_variate' else self.alpha * per_variate
        if self.mode in ('global', 'hybrid'):
            pooled = info_nce(a.mean(1), b.mean(1), temperature)
            loss = pooled if self.mode == 'global' else loss + (1 - self.alpha) * pooled
        return self.loss_weight * loss
