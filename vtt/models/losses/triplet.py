"""A cross-modal triplet term (optional in CMG)."""
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

__all__ = ['CrossModalTripletLoss']


@MODELS.register_module()
class CrossModalTripletLoss(nn.Module):
    """Pull a sample's features in one modality towards its pair in another modality and away
    from another sample's: ``max(0, d(a_i, b_i) - d(a_i, b_j) + margin)`` on time-averaged
    features, over every ordered pair of modalities, with ``j`` a random other sample
    (``torch.nn.functional.triplet_margin_loss``).

    .. warning:: The furnace group tried this term next to Cross-CPC and CMCM: it fell to 0
       within a few epochs (the encoders separate random negatives easily) and then taught
       nothing. It is off by default in every CMG config; when you enable it, watch
       ``loss_triplet`` and expect it to vanish.

    Args:
        margin (float): Defaults to 1.0.
        loss_weight (float): Defaults to 1.0.

    Shapes: ``forward({m: [B, T, D] or [B, D]}) -> scalar``.
    """

    def __init__(self, margin: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        self.margin, self.loss_weight = margin, loss_weight

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        pooled = {m: (z.mean(1) if z.dim() == 3 else z) for m, z in features.items()}
        names = list(pooled)
        b = pooled[names[0]].shape[0]
        if b < 2:
            raise ValueError('the triplet term needs at least 2 samples per batch')
        # a random OTHER sample for every anchor
        shift = torch.randint(1, b, (b, ), device=pooled[names[0]].device)
        negative = (torch.arange(b, device=shift.device) + shift) % b
        loss = 0.0
        for a in names:
            for m in names:
                if a != m:
                    loss = loss + F.triplet_margin_loss(pooled[a], pooled[m],
                                                        pooled[m][negative], margin=self.margin)
        return self.loss_weight * loss
