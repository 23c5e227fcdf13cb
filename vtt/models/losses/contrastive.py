import math

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['InfoNCELoss', 'info_nce', 'CWCLLoss', 'cwcl', 'CMCMLoss']


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


def cwcl(p: torch.Tensor, q: torch.Tensor, temperature, teacher: torch.Tensor = None,
         normalize: bool = True) -> torch.Tensor:
    """Continuously weighted contrastive loss (Srinivasa et al., NeurIPS 2023), ``p`` -> ``q``.

    ``L = -(1/N) sum_i (1 / sum_j w_ij) sum_j w_ij log softmax_j(<p_i, q_j> / tau)`` with
    ``w_ij = <t_i, t_j> / 2 + 0.5`` from the L2-normalised TEACHER features ``t`` (``q``
    itself by default; detached): instead of one positive per row, every pair counts as much
    as the teacher finds the two samples alike. With one-hot similarities it is InfoNCE.

    Shapes: ``p [B, D]``, ``q [B, D]``, ``teacher [B, D']`` -> scalar.
    """
    teacher = (q if teacher is None else teacher).detach().float()
    t = F.normalize(teacher, dim=-1)
    weights = (t @ t.t()) / 2 + 0.5
    if normalize:
        p, q = F.normalize(p.float(), dim=-1), F.normalize(q.float(), dim=-1)
    log_prob = F.log_softmax(p @ q.t() / temperature, dim=-1)
    return -((weights * log_prob).sum(-1) / weights.sum(-1)).mean()


@MODELS.register_module()
class CWCLLoss(nn.Module):
    """:func:`cwcl` as a module: ``forward(p [B, D], q [B, D], teacher=None) -> scalar``, with
    ``symmetric=True`` averaging ``p -> q`` and ``q -> p`` (both weighted by the teacher, which
    defaults to ``q``: the modality whose similarities are trusted).

    Args:
        temperature (float): Defaults to 0.1.
        symmetric (bool): Defaults to False.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, temperature: float = 0.1, symmetric: bool = False,
                 loss_weight: float = 1.0):
        super().__init__()
        self.temperature, self.symmetric, self.loss_weight = temperature, symmetric, loss_weight

    def forward(self, p: torch.Tensor, q: torch.Tensor, teacher: torch.Tensor = None):
        teacher = q if teacher is None else teacher
        loss = cwcl(p, q, self.temperature, teacher)
        if self.symmetric:
            loss = 0.5 * (loss + cwcl(q, p, self.temperature, teacher))
        return self.loss_weight * loss


@MODELS.register_module()
class CMCMLoss(nn.Module):
    """CMG's cross-modal code matching: paired samples should spread over the codebook alike.

    For every pair of modalities (a, b), with ``P^m [B, M]`` the soft code assignments
    averaged over time (:meth:`MultimodalEMAQuantizer.code_distributions`), the similarity of
    sample i of a and sample j of b is
    ``S_ij = sum_k P^a_ik log P^b_jk + sum_k P^b_ik log P^a_jk`` (as the official code writes
    it), and each row must pick its own pair: ``CE(S, diag)``. The loss sums over pairs of
    modalities, times ``loss_weight`` (0.5 in the official code).

    Shapes: ``forward({m: [B, T, M] or [B, M]}) -> scalar``.
    """

    def __init__(self, loss_weight: float = 0.5, eps: float = 1e-10):
        super().__init__()
        self.loss_weight, self.eps = loss_weight, eps

    def forward(self, distributions: dict) -> torch.Tensor:
        names = list(distributions)
        if len(names) < 2:
            raise ValueError(f'CMCM needs at least 2 modalities, got {names}')
        pooled = {m: (d.mean(1) if d.dim() == 3 else d).float()
                  for m, d in distributions.items()}
        loss = 0.0
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                pa, pb = pooled[a], pooled[b]
                s = pa @ torch.log(pb + self.eps).t() + pb @ torch.log(pa + self.eps).t()
                target = torch.arange(s.shape[0], device=s.device)
                loss = loss + F.cross_entropy(s, target)
        return self.loss_weight * loss
