"""Classification heads that own their loss (as mmpretrain's ``ClsHead(loss=dict(...))``).

A head turns features into logits, and from them computes the loss (``loss``) and the
per-sample predictions (``predict``); the algorithm around it never looks at the loss type.

**How class information reaches the loss (the one path).**

* The number of classes: the head builds its loss with :func:`build_loss`, which passes the
  head's ``num_classes`` to any loss whose constructor has a ``num_classes`` parameter (e.g.
  :class:`FocalLoss`, whose per-class weights need it) unless the loss config sets it.
* Class frequencies of the training split: ``TrainStatsHook`` calls the algorithm's
  ``set_train_statistics(stats)`` -> ``head.set_train_statistics(stats)`` ->
  ``loss.set_class_counts(stats['class_counts'])`` for losses that have that method (focal loss
  with ``alpha='auto'``). Losses keep what they derive in buffers, so it travels in checkpoints.
"""
import inspect
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import pack_predictions
from .mlp_head import MLPHead

__all__ = ['build_loss', 'ClsHead', 'LinearClsHead', 'MLPClsHead']


def build_loss(cfg: dict, **context) -> nn.Module:
    """Build a loss from its config, passing ``context`` values (``num_classes=...``) to the
    parameters of the same name that the loss's constructor declares and the config leaves
    unset. A config value that contradicts the context is an error."""
    cfg = dict(cfg)
    loss_cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) else cfg['type']
    if loss_cls is None:
        raise ConfigError(f"unknown loss type {cfg['type']!r}")
    accepted = inspect.signature(loss_cls.__init__).parameters
    for key, value in context.items():
        if key in cfg and cfg[key] != value:
            raise ConfigError(f"loss {cfg['type']} has {key}={cfg[key]!r}, but the head has "
                              f'{key}={value!r}; leave it out of the loss config')
        if key in accepted:
            cfg.setdefault(key, value)
    return MODELS.build(cfg)


class ClsHead(BaseModule):
    """Base of classification heads: subclasses implement ``forward(feats) -> logits [B, C]``.

    Args:
        num_classes (int): C.
        loss (dict): Loss config, built with :func:`build_loss`. Defaults to cross-entropy.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self, num_classes: int, loss: dict = dict(type='CrossEntropyLoss'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if int(num_classes) < 1:
            raise ConfigError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = int(num_classes)
        self._loss_cfg = loss

    def _build_loss(self) -> None:
        # Called by subclasses after their layers, so that layers draw their random init first.
        self.loss_module = build_loss(self._loss_cfg, num_classes=self.num_classes)

    def set_train_statistics(self, stats: dict) -> None:
        """Give the loss the training split's class counts (see the module docstring)."""
        if 'class_counts' in stats and hasattr(self.loss_module, 'set_class_counts'):
            counts = list(stats['class_counts'])
            if len(counts) != self.num_classes:
                raise ConfigError(f'the training data has {len(counts)} classes, the head '
                                  f'num_classes={self.num_classes}; make them agree')
            self.loss_module.set_class_counts(counts)

    def loss(self, feats: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        """``feats [B, in_channels]`` -> ``dict(loss_cls=scalar)`` against
        ``data_samples['label'] [B]``."""
        logits = self(feats)
        target = data_samples['label'].to(logits.device)
        return dict(loss_cls=self.loss_module(logits, target))

    def predict(self, feats: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        """Per-sample records: ``pred_score`` (softmax ``[C]``), ``pred_label`` and the batch's
        ground truth (``gt_label``, ``index``)."""
        return self.predictions_from_logits(self(feats), data_samples)

    @staticmethod
    def predictions_from_logits(logits: torch.Tensor,
                                data_samples: Optional[dict] = None) -> List[dict]:
        scores = F.softmax(logits.detach().float(), dim=-1)
        return pack_predictions(dict(pred_score=scores, pred_label=scores.argmax(-1)),
                                data_samples)


@MODELS.register_module()
class LinearClsHead(ClsHead):
    """``Dropout -> Linear``: ``[B, in_channels] -> logits [B, num_classes]``.

    Args:
        num_classes (int): C.
        in_channels (int): Feature size.
        dropout (float): Dropout before the linear layer. Defaults to 0.
        loss (dict): Loss config. Defaults to cross-entropy.
    """

    def __init__(self, num_classes: int, in_channels: int, dropout: float = 0.0,
                 loss: dict = dict(type='CrossEntropyLoss'), init_cfg: Optional[dict] = None):
        super().__init__(num_classes, loss, init_cfg)
        self.in_channels = in_channels
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, self.num_classes)
        self._build_loss()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(feats))


@MODELS.register_module()
class MLPClsHead(ClsHead):
    """Two-layer MLP (:class:`MLPHead`): ``[B, in_channels] -> logits [B, num_classes]``.

    Args:
        num_classes (int): C.
        in_channels (int): Feature size.
        hidden_channels (int, optional): Hidden size; defaults to ``in_channels // 2``.
        dropout (float): Dropout before each linear layer. Defaults to 0.1.
        loss (dict): Loss config. Defaults to cross-entropy.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 hidden_channels: Optional[int] = None, dropout: float = 0.1,
                 loss: dict = dict(type='CrossEntropyLoss'), init_cfg: Optional[dict] = None):
        super().__init__(num_classes, loss, init_cfg)
        self.in_channels = in_channels
        self.mlp = MLPHead(in_channels, self.num_classes, hidden_channels, dropout)
        self._build_loss()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.mlp(feats)


@MODELS.register_module()
class TemporalMaxClsHead(ClsHead):
    """``Linear -> max over time -> Linear``: ``[B, T, in_channels] -> logits [B, C]`` (the
    official CMG downstream head; ``[B, in_channels]`` is taken as ``T = 1``).

    Args:
        num_classes (int): C.
        in_channels (int): Feature size (256 for CMG's codes).
        hidden_channels (int): Defaults to 256 (the official).
        dropout (float): Dropout before the last layer. Defaults to 0.
        loss (dict): Loss config. Defaults to cross-entropy.
    """

    def __init__(self, num_classes: int, in_channels: int, hidden_channels: int = 256,
                 dropout: float = 0.0, loss: dict = dict(type='CrossEntropyLoss'),
                 init_cfg: Optional[dict] = None):
        super().__init__(num_classes, loss, init_cfg)
        self.in_channels = in_channels
        self.proj = nn.Linear(in_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_channels, self.num_classes)
        self._build_loss()

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if feats.dim() == 2:
            feats = feats.unsqueeze(1)
        return self.fc(self.dropout(self.proj(feats).max(dim=1).values))
