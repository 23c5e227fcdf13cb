"""Exponential moving averages that behave the same in one process and under DDP.

vtt updates every EMA (a momentum target encoder, a codebook's statistics) **inside the model's
forward/loss in training mode**, never in an overridden ``train_step``: mmengine's
``MMDistributedDataParallel`` has its own ``train_step`` that never calls the model's, while
``loss()`` runs in every setting (mmpretrain's BYOL does the same). Updating at the start of
``loss()`` from the online weights of that moment is exactly "after each optimizer step": step
``k`` sees the EMA of the weights after steps ``0..k-1``.

``momentum`` always has mmengine's meaning: the weight of the NEW value,
``average = (1 - momentum) * average + momentum * value``. The papers' "momentum 0.99" / "decay
0.99" is ``momentum=0.01`` here.
"""
from typing import Sequence

import torch
import torch.distributed as dist
from mmengine.model import ExponentialMovingAverage
from torch import nn

from vtt.utils.errors import ConfigError

__all__ = ['MomentumEncoder', 'ema_update_', 'check_momentum']


def check_momentum(momentum: float, key: str = 'momentum') -> float:
    """Validate an EMA ``momentum`` (weight of the new value) and return it as float."""
    momentum = float(momentum)
    if not 0.0 < momentum <= 0.5:
        raise ConfigError(
            f'{key}={momentum}: vtt uses mmengine\'s meaning of EMA momentum, the weight of the '
            'NEW value (average = (1 - m) * average + m * value), so it must be in (0, 0.5]. '
            f'A decay of 0.99 (weight of the old value, as papers write it) is {key}=0.01.')
    return momentum


@torch.no_grad()
def ema_update_(averages: Sequence[torch.Tensor], values: Sequence[torch.Tensor],
                momentum: float, all_reduce: bool = False) -> None:
    """In place: ``average <- (1 - momentum) * average + momentum * value`` for each pair.

    Args:
        averages: Tensors updated in place.
        values: New observations, same shapes.
        momentum (float): Weight of the new value.
        all_reduce (bool): First average ``values`` over all ranks (when ``torch.distributed``
            is initialised), so that every rank keeps the same averages even though each saw
            different data (e.g. a codebook's cluster statistics).
    """
    averages, values = list(averages), [v.detach() for v in values]
    if all_reduce and dist.is_available() and dist.is_initialized() \
            and dist.get_world_size() > 1:
        values = [v.clone() for v in values]
        for value in values:
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
            value.div_(dist.get_world_size())
    torch._foreach_lerp_(averages, values, momentum)


class MomentumEncoder(ExponentialMovingAverage):
    """An EMA copy of an online module that produces self-supervised targets.

    mmengine's :class:`ExponentialMovingAverage` (so checkpoints hold ``module.*`` and ``steps``
    and resuming continues the average) with three choices made for target networks:

    * never trained by gradients (``requires_grad=False``) and kept in eval mode even when the
      surrounding model trains, so targets carry no dropout noise;
    * the update is one multi-tensor ``lerp`` (``torch._foreach_lerp_``) instead of a Python
      loop over parameters;
    * call :meth:`update_parameters` at the start of ``loss()`` in training mode (see the module
      docstring): the first call copies the online weights, and a call that finds the online
      weights unchanged since the previous one (no optimizer step in between: gradient
      accumulation, several forwards per step) does nothing, so the average moves exactly
      once per optimizer step. "Unchanged" is read from the parameters' version counters,
      which every in-place update (optimizer step, ``load_state_dict``) bumps.

    Args:
        model (nn.Module): The online module to follow.
        momentum (float): Weight of the new value per update (0.01 = decay 0.99).
    """

    def __init__(self, model: nn.Module, momentum: float = 0.01):
        super().__init__(model, momentum=check_momentum(momentum), interval=1,
                         update_buffers=False)
        self.module.eval()
        self._seen_versions = None

    def train(self, mode: bool = True):
        super().train(mode)
        self.module.eval()
        return self

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        online = dict(model.named_parameters())
        versions = tuple((p._version, p.data_ptr()) for p in online.values())
        if versions == self._seen_versions:
            return  # no optimizer step since the last update
        self._seen_versions = versions
        names = list(self.avg_parameters)
        averages = [self.avg_parameters[n] for n in names]
        values = [online[n].detach() for n in names]
        if int(self.steps) == 0:
            torch._foreach_copy_(averages, values)
        else:
            torch._foreach_lerp_(averages, values, self.momentum)
        for b_avg, b_src in zip(self.module.buffers(), model.buffers()):
            b_avg.copy_(b_src)
        self.steps += 1
