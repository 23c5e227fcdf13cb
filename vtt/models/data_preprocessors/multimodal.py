"""Batches of paired modalities: ``inputs = {modality: tensor}``."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseDataPreprocessor

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['MultimodalDataPreprocessor']


@MODELS.register_module()
class MultimodalDataPreprocessor(BaseDataPreprocessor):
    """Move a batch of paired modalities to the model's device and z-score each series
    modality per channel with its TRAINING split's statistics (buffers, so checkpoints carry
    them; ``TrainStatsHook`` fills them through :meth:`set_train_statistics`).

    Args:
        num_variates (dict): ``{modality: C}`` for series modalities ``[B, C, L]`` (z-scored
            over channel ``C``), ``{modality: None}`` for modalities passed through as they are
            (feature maps ``[B, T, C, H, W]``, already normalised features). The keys are the
            modalities every batch must have.
        normalize (bool): Apply the z-scores. Defaults to True.

    Shapes: ``inputs {m: [B, C_m, L]}`` raw -> the same, normalised float32.
    """

    def __init__(self, num_variates: Dict[str, Optional[int]], normalize: bool = True):
        super().__init__()
        if not isinstance(num_variates, dict) or not num_variates:
            raise ConfigError('num_variates must be a dict {modality: channels or None}, got '
                              f'{num_variates!r}')
        self.num_variates = dict(num_variates)
        self.normalize = normalize
        self.modalities = tuple(self.num_variates)
        for m, c in self.num_variates.items():
            if c is None:
                continue
            self.register_buffer(f'mean_{m}', torch.zeros(int(c)))
            self.register_buffer(f'std_{m}', torch.ones(int(c)))
        self.register_buffer('statistics_ready', torch.tensor(False))

    @property
    def series_modalities(self):
        return [m for m, c in self.num_variates.items() if c is not None]

    def set_train_statistics(self, stats: dict) -> None:
        """``stats[m] = dict(mean=[C_m], std=[C_m])`` for every series modality (what the
        paired datasets' ``train_statistics()`` return)."""
        missing = [m for m in self.series_modalities if m not in stats]
        if missing:
            raise ConfigError(f'the training statistics have no entry for {missing} (keys: '
                              f'{sorted(stats)}); use a paired dataset whose modalities are '
                              f'{list(self.modalities)}')
        for m in self.series_modalities:
            mean = torch.as_tensor(stats[m]['mean'], dtype=torch.float32).flatten()
            std = torch.as_tensor(stats[m]['std'], dtype=torch.float32).flatten()
            if mean.numel() != self.num_variates[m]:
                raise ConfigError(f'statistics of {mean.numel()} channels for modality {m!r}, '
                                  f'built for num_variates[{m!r}]={self.num_variates[m]}')
            getattr(self, f'mean_{m}').copy_(mean)
            getattr(self, f'std_{m}').copy_(std.clamp_min(1e-6))
        self.statistics_ready.fill_(True)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if not isinstance(inputs, dict) or set(inputs) != set(self.modalities):
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ConfigError(f'batch inputs must be a dict with the modalities '
                              f'{list(self.modalities)}, got {got}')
        out = {}
        for m in self.modalities:
            x = inputs[m].float()
            if self.normalize and self.num_variates[m] is not None:
                if x.dim() != 3 or x.shape[1] != self.num_variates[m]:
                    raise ConfigError(f'modality {m!r}: expected [B, {self.num_variates[m]}, '
                                      f'L], got {tuple(x.shape)}')
                if not bool(self.statistics_ready):
                    raise RuntimeError(
                        'normalisation statistics are not set: train with TrainStatsHook, load '
                        'a checkpoint trained that way, or call set_train_statistics()')
                x = ((x - getattr(self, f'mean_{m}').view(1, -1, 1))
                     / getattr(self, f'std_{m}').view(1, -1, 1))
            out[m] = x
        return dict(inputs=out, data_samples=data.get('data_samples'))
