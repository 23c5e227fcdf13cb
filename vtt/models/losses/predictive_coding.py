"""Cross-modal contrastive predictive coding (CMG's Cross-CPC)."""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from .contrastive import cwcl, info_nce

__all__ = ['CrossCPCLoss']


@MODELS.register_module()
class CrossCPCLoss(nn.Module):
    """Predict one modality's future from another modality's past.

    ::

        z^m [B, T, D] --LSTM_m--> context c^m_t (summary of steps 0..t)
        for every source s and target m, step k = 1..K:
            S_k = z^m_{t+k} (W^s_k c^s_t)^T  [B, B]     (rows: targets, columns: predictions)
            CE(S_k, diag): target i must pick the prediction from its own sample
        loss = sum_{s != m} cross_weight * mean_k CE + sum_m self_weight * mean_k CE

    One ``t`` per batch, drawn uniformly from ``[min_start, T - K - 1]`` (the official code:
    ``K = 1``, ``min_start = 1``). The targets are the semantic features BEFORE quantization (as
    in the official code). ``contrast='cwcl'`` replaces the cross terms' InfoNCE by
    :func:`~vtt.models.losses.contrastive.cwcl` on normalised features, weighted by the target
    modality's own similarities (the teacher).

    Data WITHOUT a time axis (``[B, D]`` inputs, or ``T = 1``) has no future to predict: the
    loss falls back to symmetric cross-modal InfoNCE over the batch between every pair of
    modalities (``temperature``), as the official code's authors recommend for such data.

    Args:
        modalities (Sequence[str]): Names of the inputs (at least 2).
        embed_dims (int): D of the features. Defaults to 256.
        context_dims (int): LSTM hidden size. Defaults to 256.
        num_layers (int): LSTM layers. Defaults to 2.
        num_steps (int): K, steps predicted ahead. Defaults to 5 (the furnace group's best;
            the official code uses 1).
        self_weight (float): Weight of a modality predicting itself. Defaults to 0.1.
        cross_weight (float): Weight of the cross terms. Defaults to 1.0.
        min_start (int): Smallest context end ``t``. Defaults to 1.
        contrast (str): ``'infonce'`` (raw dot products, the official code) or ``'cwcl'``.
        temperature (float): Of the T = 1 fallback and of CWCL. Defaults to 0.1.
        loss_weight (float): Defaults to 1.0.

    ``forward({m: [B, T, D]}) -> (loss, accuracies)``; ``accuracies['cpc_acc_<s>2<m>']`` is the
    fraction of targets whose best-scoring prediction (step 1) comes from their own sample.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 embed_dims: int = 256,
                 context_dims: int = 256,
                 num_layers: int = 2,
                 num_steps: int = 5,
                 self_weight: float = 0.1,
                 cross_weight: float = 1.0,
                 min_start: int = 1,
                 contrast: str = 'infonce',
                 temperature: float = 0.1,
                 loss_weight: float = 1.0):
        super().__init__()
        self.modalities = tuple(modalities)
        if len(self.modalities) < 2:
            raise ConfigError(f'Cross-CPC needs at least 2 modalities, got {modalities}')
        if contrast not in ('infonce', 'cwcl'):
            raise ConfigError(f"contrast must be 'infonce' or 'cwcl', got {contrast!r}")
        if num_steps < 1 or min_start < 0:
            raise ConfigError(f'num_steps must be >= 1 and min_start >= 0, got {num_steps}, '
                              f'{min_start}')
        self.embed_dims, self.num_steps, self.min_start = embed_dims, num_steps, min_start
        self.self_weight, self.cross_weight = self_weight, cross_weight
        self.contrast, self.temperature, self.loss_weight = contrast, temperature, loss_weight
        self.context = nn.ModuleDict({
            m: nn.LSTM(embed_dims, context_dims, num_layers=num_layers, batch_first=True)
            for m in self.modalities})
        # all K step predictors of a source in one Linear: context -> K x D
        self.predictors = nn.ModuleDict({
            m: nn.Linear(context_dims, num_steps * embed_dims) for m in self.modalities})

    def _check(self, features: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        if set(features) != set(self.modalities):
            raise ValueError(f'Cross-CPC built for {self.modalities} got {sorted(features)}')
        shapes = {tuple(z.shape) for z in features.values()}
        if len(shapes) != 1:
            raise ValueError(f'paired features must have one shape, got {shapes}')
        return {m: features[m] for m in self.modalities}

    def forward(self, features: Mapping[str, torch.Tensor],
                t: Optional[int] = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        features = self._check(features)
        z0 = next(iter(features.values()))
        if z0.dim() == 2 or z0.shape[1] == 1:
            return self._batch_contrast(features)
        b, steps, _ = z0.shape
        last = steps - self.num_steps - 1
        if last < self.min_start:
            raise ValueError(
                f'Cross-CPC with num_steps={self.num_steps} and min_start={self.min_start} '
                f'needs T >= {self.num_steps + self.min_start + 1} steps, got T={steps}; '
                'lower num_steps or use data with more steps')
        if t is None:
            t = int(torch.randint(self.min_start, last + 1, ()).item())
        predictions = {}
        for s, z in features.items():
            context, _ = self.context[s](z[:, :t + 1])
            predictions[s] = self.predictors[s](context[:, -1]).view(
                b, self.num_steps, self.embed_dims)
        targets = {m: z[:, t + 1:t + 1 + self.num_steps] for m, z in features.items()}
        loss, accuracies = 0.0, {}
        labels = torch.arange(b, device=z0.device)
        for s in self.modalities:
            for m in self.modalities:
                weight = self.self_weight if s == m else self.cross_weight
                if weight == 0:
                    continue
                pred, target = predictions[s], targets[m]
                # [K, B, B]: every step at once; rows are targets, columns predictions
                scores = torch.einsum('bkd,ckd->kbc', target.float(), pred.float())
                if self.contrast == 'cwcl' and s != m:
                    # weights from the target modality's own similarities (the teacher)
                    term = torch.stack([cwcl(target[:, k], pred[:, k], self.temperature,
                                             teacher=target[:, k])
                                        for k in range(self.num_steps)]).mean()
                else:
                    term = F.cross_entropy(scores.reshape(-1, b),
                                           labels.repeat(self.num_steps))
                with torch.no_grad():
                    accuracies[f'cpc_acc_{s}2{m}'] = (
                        scores[0].argmax(1) == labels).float().mean()
                loss = loss + weight * term
        return self.loss_weight * loss, accuracies

    def _batch_contrast(self, features):
        """T = 1: symmetric InfoNCE over the batch for every pair of modalities."""
        flat = {m: (z[:, 0] if z.dim() == 3 else z) for m, z in features.items()}
        names = list(flat)
        loss, accuracies = 0.0, {}
        labels = torch.arange(next(iter(flat.values())).shape[0],
                              device=next(iter(flat.values())).device)
        for i, a in enumerate(names):
            for m in names[i + 1:]:
                if self.contrast == 'cwcl':
                    loss = loss + self.cross_weight * 0.5 * (
                        cwcl(flat[a], flat[m], self.temperature)
                        + cwcl(flat[m], flat[a], self.temperature))
                else:
                    loss = loss + self.cross_weight * info_nce(flat[a], flat[m],
                                                               self.temperature)
                with torch.no_grad():
                    scores = F.normalize(flat[m].float(), dim=-1) @ F.normalize(
                        flat[a].float(), dim=-1).t()
                    accuracies[f'cpc_acc_{a}2{m}'] = (scores.argmax(1) == labels).float().mean()
                    accuracies[f'cpc_acc_{m}2{a}'] = (
                        scores.t().argmax(1) == labels).float().mean()
        return self.loss_weight * loss, accuracies
