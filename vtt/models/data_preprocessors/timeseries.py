from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['TimeSeriesDataPreprocessor']


@MODELS.register_module()
class TimeSeriesDataPreprocessor(BaseDataPreprocessor):
    """Move a batch to the model's device and z-score it per variate.

    The mean and std are buffers of the model, filled from the *training split* before training
    (``TrainStatsHook`` calls :meth:`set_statistics`), so they are saved in every checkpoint and
    ``tools/test.py`` / inference normalise new data exactly as training did.

    Args:
        num_variates (int): V, the size of the statistics.
        normalize (bool): Apply the z-score. Defaults to True.
        augment (dict, optional): A batch augmentation applied after the z-score in training
            only, e.g. ``dict(type='RandomScaleJitterShift')``; it gets ``(inputs, mask)`` and
            returns both (the step mask moves with a shifted series). Defaults to None.
        fill_padding (str, optional): What the padded steps of variable-length series (the
            ``mask`` of ``data_samples``, False = padding) hold after normalisation. None keeps
            the dataset's pad value; ``'last'`` repeats each series' last valid value, so a
            model that does not read the mask (TimesCLIP's plots and numeric patches) sees a
            flat continuation instead of a jump to the pad value. Defaults to None.

    Shapes: ``inputs [B, V, T]`` raw -> ``[B, V, T]`` normalised float32.
    """

    def __init__(self, num_variates: int, normalize: bool = True,
                 augment: Optional[dict] = None, fill_padding: Optional[str] = None):
        super().__init__()
        if fill_padding not in (None, 'last'):
            raise ConfigError(f"fill_padding must be None or 'last', got {fill_padding!r}")
        self.fill_padding = fill_padding
        self.augment = None if augment is None else MODELS.build(augment)
        self.num_variates = num_variates
        self.normalize = normalize
        self.register_buffer('mean', torch.zeros(num_variates))
        self.register_buffer('std', torch.ones(num_variates))
        self.register_buffer('statistics_ready', torch.tensor(False))

    def set_statistics(self, mean: Sequence[float], std: Sequence[float]) -> None:
        mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean.numel() != self.num_variates or std.numel() != self.num_variates:
            raise ConfigError(f'statistics for {mean.numel()} variates given to a preprocessor '
                             f'built for num_variates={self.num_variates}; set '
                             'model.data_preprocessor.num_variates to match the data')
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(1e-6))
        self.statistics_ready.fill_(True)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs'].float()
        if self.normalize:
            if inputs.shape[1] != self.num_variates:
                raise ConfigError(f'batch has {inputs.shape[1]} variates, the model expects '
                                 f'{self.num_variates}')
            if not bool(self.statistics_ready):
                raise RuntimeError(
                    'normalisation statistics are not set: train with TrainStatsHook (in '
                    'default_hooks; it fills them from the training split), load a checkpoint '
                    'trained that way, or call data_preprocessor.set_statistics(mean, std)')
            inputs = (inputs - self.mean.view(1, -1, 1)) / self.std.view(1, -1, 1)
        data_samples = data.get('data_samples')
        mask = None if data_samples is None else data_samples.get('mask')
        if training and self.augment is not None:
            inputs, mask = self.augment(inputs, mask)
            if mask is not None:
                data_samples = dict(data_samples, mask=mask)
        if self.fill_padding == 'last' and mask is not None:
            inputs = hold_last_valid(inputs, mask)
        return dict(inputs=inputs, data_samples=data_samples)


def hold_last_valid(inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Replace every padded step by the series' last valid value before it.

    Shapes: ``inputs [B, V, T]``, ``mask [B, T]`` bool (True = valid) -> ``[B, V, T]``. Steps
    before the first valid one take the first valid value; an all-padding series is unchanged.
    """
    mask = mask.to(device=inputs.device, dtype=torch.bool)
    if mask.shape != (inputs.shape[0], inputs.shape[2]):
        raise ValueError(f'mask must be [B, T] = {(inputs.shape[0], inputs.shape[2])}, got '
                         f'{tuple(mask.shape)}')
    steps = torch.arange(inputs.shape[2], device=inputs.device).expand_as(mask)
    # index of the last valid step at or before t (-1 while none has been seen yet) ...
    last = torch.where(mask, steps, torch.full_like(steps, -1)).cummax(dim=1).values
    # ... and, before the first valid step, the first valid one
    first = torch.where(mask, steps, torch.full_like(steps, inputs.shape[2])).min(dim=1).values
    index = torch.where(last < 0, first.clamp_max(inputs.shape[2] - 1).unsqueeze(1), last)
    filled = inputs.gather(2, index.unsqueeze(1).expand_as(inputs))
    return torch.where(mask.any(dim=1).view(-1, 1, 1), filled, inputs)
