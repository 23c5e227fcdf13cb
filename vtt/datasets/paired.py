"""Paired modalities cut from the channels of one multichannel recording (CMG's data).

A recording whose channels come from several sensors of the same moment (BasicMotions:
accelerometer xyz + gyroscope xyz) is a matched pair of modalities per sample:
:class:`PairedModalitiesMixin` turns any vtt time-series dataset into one, and
:class:`PairedUEADataset` is the UEA/UCR reader with it.

Items are dicts ``inputs: {modality: float32 [C_m, T]}`` and the parent's ``data_samples``;
mmengine's ``default_collate`` collates the dict into ``{modality: [B, C_m, T]}``.
"""
from typing import Dict, Sequence

import numpy as np

from vtt.registry import DATASETS
from vtt.utils.errors import ConfigError

from .uea import UEADataset

__all__ = ['PairedModalitiesMixin', 'PairedUEADataset']


class PairedModalitiesMixin:
    """Serve a multichannel dataset as named modalities (channel groups).

    The class using it sets ``self.modality_channels = {modality: [channel indices]}`` (checked
    by :meth:`_check_modality_channels`) and inherits from a
    :class:`~vtt.datasets.base.BaseTimeSeriesDataset`.
    """

    modality_channels: Dict[str, Sequence[int]]

    def _check_modality_channels(self, modalities: Dict[str, Sequence[int]],
                                 num_variates: int, where: str) -> Dict[str, list]:
        if not isinstance(modalities, dict) or len(modalities) < 2:
            raise ConfigError(f'{where}: modalities must map at least 2 names to channel '
                              f'lists, e.g. dict(acc=[0, 1, 2], gyro=[3, 4, 5]); got '
                              f'{modalities!r}')
        out, seen = {}, set()
        for name, channels in modalities.items():
            channels = [int(c) for c in channels]
            bad = [c for c in channels if not 0 <= c < num_variates]
            if not channels or bad:
                raise ConfigError(f'{where}: modality {name!r} has channels {channels}; the '
                                  f'data has channels 0..{num_variates - 1}')
            if seen & set(channels):
                raise ConfigError(f'{where}: channels {sorted(seen & set(channels))} belong '
                                  'to two modalities')
            seen |= set(channels)
            out[str(name)] = channels
        return out

    @property
    def modalities(self) -> list:
        return list(self.modality_channels)

    def paired_metainfo(self, info: dict) -> dict:
        info = dict(info)
        info.update(modalities=self.modalities,
                    num_variates={m: len(c) for m, c in self.modality_channels.items()},
                    channels={m: list(c) for m, c in self.modality_channels.items()})
        return info

    def train_statistics(self) -> dict:
        """Statistics of the training split per modality: ``{m: {mean: float32 [C_m], std:
        float32 [C_m]}}`` and ``class_counts`` int64 ``[C]``."""
        stats = super().train_statistics()
        out = {m: dict(mean=np.asarray(stats['mean'])[c].copy(),
                       std=np.asarray(stats['std'])[c].copy())
               for m, c in self.modality_channels.items()}
        out['class_counts'] = stats['class_counts']
        return out

    def __getitem__(self, idx: int) -> dict:
        item = super().__getitem__(idx)
        data = item['inputs']
        item['inputs'] = {m: data[c] for m, c in self.modality_channels.items()}
        return item


@DATASETS.register_module()
class PairedUEADataset(PairedModalitiesMixin, UEADataset):
    """A UEA problem whose channels are several sensors, as paired modalities.

    Args:
        modalities (dict): ``{name: [channel indices]}``. Defaults to BasicMotions' sensors:
            ``dict(acc=[0, 1, 2], gyro=[3, 4, 5])`` (accelerometer xyz, gyroscope xyz).
        **kwargs: As :class:`~vtt.datasets.UEADataset` (``name``, ``split``, ``data_root``,
            ``val_ratio``, ...). Splits and statistics come from the TRAIN file only; TEST is
            the ``'test'`` split.
    """

    def __init__(self, modalities: Dict[str, Sequence[int]] = None, **kwargs):
        super().__init__(**kwargs)
        modalities = dict(acc=[0, 1, 2], gyro=[3, 4, 5]) if modalities is None else modalities
        self.modality_channels = self._check_modality_channels(
            modalities, self.num_variates, f'PairedUEADataset({self.name})')

    @property
    def metainfo(self) -> dict:
        return self.paired_metainfo(super().metainfo)
