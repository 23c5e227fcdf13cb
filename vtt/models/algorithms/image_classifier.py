"""Image classification: backbone -> (neck) -> head, the head owning its loss (as mmpretrain's
``ImageClassifier``). The meteo gate is ``TimmEncoder``/``MobileNetV2Encoder`` +
``BinaryClsHead``."""
from typing import List, Optional

import torch

from vtt.registry import MODELS

from .base import BaseAlgorithm

__all__ = ['ImageClassifier']


@MODELS.register_module()
class ImageClassifier(BaseAlgorithm):
    """``images [B, 3, H, W] in [0, 1] -> backbone -> [B, C] -> (neck) -> head``.

    ::

        images --backbone (pooled)--> feats [B, C] --neck?--> head.loss / head.predict

    Args:
        backbone (dict): An image encoder with ``out_type='pooled'`` (``TimmEncoder``,
            ``MobileNetV2Encoder`` ...); it normalises its input itself.
        head (dict): A head that owns its loss (``BinaryClsHead``, ``LinearClsHead`` ...).
            ``in_channels`` defaults to the backbone's ``output_dim``.
        neck (dict, optional): Between backbone and head.
        data_preprocessor (dict, optional): Defaults to mmengine's ``BaseDataPreprocessor``
            (moves the batch to the model's device).

    ``backbone`` and ``head`` are the attribute names the two-phase transfer of
    ``BackboneUnfreezeHook`` and ``paramwise_cfg`` learning rates refer to.
    """

    default_data_preprocessor = dict(type='BaseDataPreprocessor')

    def __init__(self, backbone: dict, head: dict, neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        head = dict(head)
        if 'in_channels' not in head and self.neck is None:
            head['in_channels'] = self.backbone.output_dim
        self.head = MODELS.build(head)

    def extract_feat(self, inputs: torch.Tensor, data_samples: Optional[dict] = None):
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def loss(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> dict:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        return self.head.predict(self.extract_feat(inputs), data_samples)
