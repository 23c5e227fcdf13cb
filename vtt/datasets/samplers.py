"""Samplers for imbalanced classification data."""
import math
from typing import Iterator, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from vtt.registry import DATA_SAMPLERS
from vtt.utils.errors import ConfigError

__all__ = ['ClassBalancedSampler']


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Draw samples with replacement so that every class is drawn equally often (about 1:1
    for the meteo gate), ``len(dataset)`` draws per epoch in all.

    torch's ``WeightedRandomSampler`` does the drawing idea but has neither per-epoch seeding
    (``set_epoch``, which mmengine calls) nor a split across DDP ranks; this adds both: the
    draws of an epoch come from one generator seeded with ``seed + epoch``, identical on every
    rank, and rank ``r`` takes every ``world_size``-th draw.

    Args:
        dataset: Must have ``sample_classes()`` -> ``int [N]`` (the class of every sample).
        seed (int, optional): Shared seed; drawn and synchronised across ranks when None.
    """

    def __init__(self, dataset, seed: Optional[int] = None):
        if not hasattr(dataset, 'sample_classes'):
            raise ConfigError(f'ClassBalancedSampler needs a dataset with sample_classes(); '
                              f'{type(dataset).__name__} has none')
        classes = np.asarray(dataset.sample_classes())
        counts = np.bincount(classes)
        weights = 1.0 / counts[classes]
        self.weights = torch.as_tensor(weights / weights.sum(), dtype=torch.double)
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.num_samples = math.ceil(len(classes) / self.world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        draws = torch.multinomial(self.weights, self.num_samples * self.world_size,
                                  replacement=True, generator=generator)
        return iter(draws[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples
