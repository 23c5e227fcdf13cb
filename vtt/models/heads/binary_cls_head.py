"""A one-logit head for yes/no decisions (the meteo gate) with a calibrated threshold."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import pack_predictions
from .cls_head import build_loss

__all__ = ['BinaryClsHead']


@MODELS.register_module()
class BinaryClsHead(BaseModule):
    """``Dropout -> Linear(in_channels, 1)``: ``[B, in_channels] -> logit [B]``.

    The decision threshold on the probability is a buffer, so it travels in checkpoints:
    ``ThresholdCalibrationHook`` sets it to the validation split's best-F1 threshold, and
    ``tools/test.py`` and inference then apply the calibrated value.

    Args:
        in_channels (int): Feature size.
        loss (dict): Loss on the logit and the 0/1 ``data_samples['label']``. Defaults to
            ``BCEFocalLoss`` (0.7 BCE + 0.3 focal, gamma 2).
        threshold (float): Initial threshold. Defaults to 0.5.
        dropout (float): Dropout before the linear layer. Defaults to 0.

    ``predict`` records: ``pred_score`` (probability of the positive class), ``pred_label``
    (``pred_score >= threshold``) and the batch's ground truth.
    """

    def __init__(self, in_channels: int, loss: dict = dict(type='BCEFocalLoss'),
                 threshold: float = 0.5, dropout: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = int(in_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.in_channels, 1)
        self.loss_module = build_loss(loss)
        self.register_buffer('threshold', torch.tensor(0.5))
        self.set_threshold(threshold)

    def set_threshold(self, threshold: float) -> None:
        if not 0.0 < float(threshold) < 1.0:
            raise ConfigError(f'threshold must be in (0, 1), got {threshold}')
        self.threshold.fill_(float(threshold))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(feats)).squeeze(-1)

    def loss(self, feats: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        logits = self(feats)
        target = torch.as_tensor(data_samples['label'], device=logits.device).float()
        return dict(loss_cls=self.loss_module(logits, target))

    def predict(self, feats: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        scores = torch.sigmoid(self(feats).detach().float())
        return pack_predictions(dict(pred_score=scores,
                                     pred_label=(scores >= self.threshold).long()),
                                data_samples)
