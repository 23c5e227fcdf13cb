"""Downstream classification on a TimeMAE-pretrained encoder: linear probe or fine-tuning."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from vtt.registry import MODELS
from ..utils import classification_predictions

__all__ = ['TimeMAEClassifier']

# Parts of the pretraining model that the classifier reuses (TimeMAEPretrainer attribute names).
PRETRAINED_PARTS = ('window_slicer', 'encoder')


@MODELS.register_module()
class TimeMAEClassifier(BaseModel):
    """Window slicer + encoder (as in ``TimeMAEPretrainer``) + mean pooling + linear head.

    ::

        inputs [B, V, T] -> WindowSlicer -> + position -> encoder (all patches, padding masked)
          -> mean over valid patches [B, D] -> Linear -> logits [B, C]

    Args:
        num_classes (int): C.
        window_slicer, encoder (dict): The same configs as the pretraining model's.
        pretrained (str, optional): A ``TimeMAEPretrainer`` checkpoint; its ``window_slicer.*``
            and ``encoder.*`` weights are loaded when training starts (``init_weights``). The
            config key is ``model.pretrained``. ``None`` trains from random initialisation.
        freeze_encoder (bool): Linear probe: slicer and encoder frozen (eval mode, no
            gradients), only the head trains. False: fine-tune everything.
        head_dropout (float): Dropout before the linear head.
        label_smoothing (float): Of the cross-entropy loss.
        data_preprocessor (dict): ``TimeSeriesDataPreprocessor`` config.
    """

    def __init__(self,
                 num_classes: int,
                 window_slicer: dict,
                 encoder: dict,
                 pretrained: Optional[str] = None,
                 freeze_encoder: bool = False,
                 head_dropout: float = 0.0,
                 label_smoothing: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            raise ValueError('data_preprocessor must be given, e.g. '
                             "dict(type='TimeSeriesDataPreprocessor', num_variates=6)")
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.window_slicer = MODELS.build(window_slicer)
        self.encoder = MODELS.build(encoder)
        embed_dims = self.window_slicer.embed_dims
        self.head = nn.Sequential(nn.Dropout(head_dropout), nn.Linear(embed_dims, num_classes))
        self.num_classes = num_classes
        self.pretrained = pretrained
        self.freeze_encoder = freeze_encoder
        self.label_smoothing = label_smoothing
        if freeze_encoder:
            for part in PRETRAINED_PARTS:
                for param in getattr(self, part).parameters():
                    param.requires_grad_(False)

    def init_weights(self) -> None:
        super().init_weights()
        if self.pretrained is not None:
            self.load_pretrained(self.pretrained)

    def load_pretrained(self, checkpoint: str) -> None:
        """Copy ``window_slicer.*`` and ``encoder.*`` from a pretraining checkpoint (loaded with
        vtt's safe loader); every weight of those parts must be present."""
        from mmengine.runner.checkpoint import CheckpointLoader
        state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        state = state.get('state_dict', state)
        for part in PRETRAINED_PARTS:
            prefix = f'{part}.'
            weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if not weights:
                raise KeyError(f'{checkpoint} has no {prefix}* weights; is it a TimeMAE '
                               'pretraining checkpoint?')
            missing, unexpected = getattr(self, part).load_state_dict(weights, strict=False)
            if missing or unexpected:
                raise KeyError(f'{checkpoint}: {part} does not match the pretraining model '
                               f'(missing {missing[:5]}, unexpected {unexpected[:5]}); use the '
                               'same window_slicer/encoder config as for pretraining')

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:  # a linear probe keeps the encoder deterministic (no dropout)
            self.window_slicer.eval()
            self.encoder.eval()
        return self

    def set_train_statistics(self, stats: dict) -> None:
        self.data_preprocessor.set_statistics(stats['mean'], stats['std'])

    def extract_feat(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None
                     ) -> torch.Tensor:
        """Mean-pooled representation ``[B, D]`` over the valid patches."""
        patches, valid = self.window_slicer(inputs, mask)
        x = patches + self.window_slicer.position(patches.shape[1])
        rep = self.encoder(x, key_padding_mask=~valid)
        weight = valid.unsqueeze(-1).to(rep.dtype)
        return (rep * weight).sum(1) / weight.sum(1).clamp_min(1.0)

    def _logits(self, inputs, data_samples):
        mask = data_samples.get('mask') if isinstance(data_samples, dict) else None
        return self.head(self.extract_feat(inputs, None if mask is None else mask.bool()))

    def forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self._logits(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'Invalid mode {mode!r}; use tensor, loss or predict')

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        logits = self._logits(inputs, data_samples)
        target = data_samples['label'].to(logits.device).long()
        return dict(loss_cls=F.cross_entropy(logits, target,
                                             label_smoothing=self.label_smoothing))

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        return classification_predictions(self._logits(inputs, data_samples or {}), data_samples)
