"""A regression head that owns its loss and its target normalisation (TimesCLIP yield)."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import pack_predictions
from .cls_head import build_loss
from .mlp_head import MLPHead

__all__ = ['RegressionHead']


@MODELS.register_module()
class RegressionHead(BaseModule):
    """Two-layer MLP (:class:`MLPHead`): ``[B, in_channels] -> [B, num_targets]``.

    The loss is computed on the target z-scored with the TRAINING split's mean and std
    (``set_train_statistics`` takes ``target_mean``/``target_std`` from the dataset's
    ``train_statistics()`` through ``TrainStatsHook``); they are buffers, so a checkpoint
    carries them and ``predict`` returns values in the target's own units.

    Args:
        in_channels (int): Feature size.
        num_targets (int): Values predicted per sample. Defaults to 1.
        hidden_channels (int, optional): Hidden size; defaults to ``in_channels // 2``.
        dropout (float): Dropout before each linear layer. Defaults to 0.1.
        loss (dict): Loss on ``(prediction, target)`` in normalised units. Defaults to MSE.
        normalize_target (bool): Z-score the target with the training statistics. Defaults
            to True.

    ``loss`` reads ``data_samples['target'] [B]`` or ``[B, num_targets]`` and returns
    ``loss_reg``; ``predict`` records ``pred_value`` (``[num_targets]``, or a number when
    ``num_targets == 1``) and ``gt_target``.
    """

    def __init__(self, in_channels: int, num_targets: int = 1,
                 hidden_channels: Optional[int] = None, dropout: float = 0.1,
                 loss: dict = dict(type='MSELoss'), normalize_target: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if int(num_targets) < 1:
            raise ConfigError(f'num_targets must be positive, got {num_targets}')
        self.in_channels, self.num_targets = int(in_channels), int(num_targets)
        self.mlp = MLPHead(self.in_channels, self.num_targets, hidden_channels, dropout)
        self.loss_module = build_loss(loss)
        self.normalize_target = normalize_target
        self.register_buffer('target_mean', torch.zeros(self.num_targets))
        self.register_buffer('target_std', torch.ones(self.num_targets))

    def set_train_statistics(self, stats: dict) -> None:
        """``target_mean`` / ``target_std`` of the training split (when normalising)."""
        if not self.normalize_target or 'target_mean' not in stats:
            return
        mean = torch.as_tensor(stats['target_mean'], dtype=torch.float32).flatten()
        std = torch.as_tensor(stats['target_std'], dtype=torch.float32).flatten()
        if mean.numel() != self.num_targets:
            raise ConfigError(f'the training data has {mean.numel()} targets, the head '
                              f'num_targets={self.num_targets}')
        self.target_mean.copy_(mean)
        self.target_std.copy_(std.clamp(min=1e-8))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Predictions in normalised units, ``[B, num_targets]``."""
        return self.mlp(feats)

    def _target(self, data_samples: dict, like: torch.Tensor) -> torch.Tensor:
        if 'target' not in data_samples:
            raise KeyError(f'{type(self).__name__} needs data_samples["target"] (a regression '
                           f'dataset); got {sorted(data_samples)}')
        target = torch.as_tensor(data_samples['target'], device=like.device).float()
        return target.view(like.shape[0], self.num_targets)

    def loss(self, feats: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        pred = self(feats)
        target = self._target(data_samples, pred)
        if self.normalize_target:
            target = (target - self.target_mean) / self.target_std
        return dict(loss_reg=self.loss_module(pred, target))

    def predict(self, feats: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        value = self(feats).detach().float()
        if self.normalize_target:
            value = value * self.target_std + self.target_mean
        if self.num_targets == 1:
            value = value[:, 0]
        return pack_predictions(dict(pred_value=value), data_samples)
