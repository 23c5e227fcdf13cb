"""Downstream classification on a TimeMAE-pretrained backbone: linear probe or fine-tuning."""
from typing import Dict, List, Optional

import torch

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from .base import BaseAlgorithm

__all__ = ['TimeMAEClassifier']


@MODELS.register_module()
class TimeMAEClassifier(BaseAlgorithm):
    """Backbone (:class:`WindowEncoder`, as in ``TimeMAEPretrainer``) + mean pooling + head.

    ::

        inputs [B, V, T] -> backbone (slicer + positions + encoder, padding masked)
          -> mean over valid windows [B, D] -> head -> logits [B, C]

    Pretrained weights come through mmengine's ``init_cfg`` of the backbone::

        backbone=dict(type='WindowEncoder', ...,
                      init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.'))

    (vtt's strict, safe ``Pretrained``: every backbone weight must be in the checkpoint).
    Without it the model trains from scratch.

    Args:
        num_classes (int): C (given to the head).
        backbone (dict): :class:`WindowEncoder` config, the same as for pretraining;
            ``in_channels`` defaults to the preprocessor's ``num_variates``.
        head (dict): Classification head; ``in_channels`` (D) and ``num_classes`` are filled
            in. Defaults to ``LinearClsHead`` with cross-entropy; its ``loss`` is in the config.
        freeze_backbone (bool): Linear probe: backbone frozen (eval mode, no gradients), only
            the head trains. False: fine-tune everything.
        data_preprocessor (dict): ``TimeSeriesDataPreprocessor`` config.
        init_cfg (dict, optional): Defaults to the official Xavier-normal linear init (the
            backbone's ``Pretrained`` init, applied after it, overrides it for the backbone).
    """

    def __init__(self,
                 num_classes: int,
                 backbone: dict,
                 head: dict = dict(type='LinearClsHead',
                                   loss=dict(type='CrossEntropyLoss')),
                 freeze_backbone: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = dict(type='XavierLinear', distribution='normal',
                                                 bias=0.1)):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        backbone_cfg = dict(backbone)
        if self.num_variates is not None:
            backbone_cfg.setdefault('in_channels', self.num_variates)
        self.backbone = MODELS.build(backbone_cfg)
        head_cfg = dict(head)
        if head_cfg.setdefault('num_classes', num_classes) != num_classes:
            raise ConfigError(f"model.head.num_classes={head_cfg['num_classes']} differs from "
                              f'model.num_classes={num_classes}; set it once, at the model')
        head_cfg['in_channels'] = self.backbone.embed_dims
        self.head = MODELS.build(head_cfg)
        self.num_classes = num_classes
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            self.backbone.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_backbone:  # a linear probe keeps the backbone deterministic (no dropout)
            self.backbone.eval()
        return self

    def extract_feat(self, inputs: torch.Tensor,
                     data_samples: Optional[dict] = None) -> torch.Tensor:
        """Mean-pooled representation ``[B, D]`` over the valid windows."""
        rep, valid = self.backbone(inputs, self.mask_of(data_samples))
        weight = valid.unsqueeze(-1).to(rep.dtype)
        return (rep * weight).sum(1) / weight.sum(1).clamp_min(1.0)

    def _forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None):
        """``mode='tensor'``: class logits ``[B, C]``."""
        return self.head(self.extract_feat(inputs, data_samples))

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.extract_feat(inputs, data_samples), data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        return self.head.predict(self.extract_feat(inputs, data_samples), data_samples)
