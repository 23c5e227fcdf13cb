import random

import numpy as np
import torch
from mmengine.hooks import Hook

from vtt.registry import HOOKS

__all__ = ['RNGStateHook']


def get_rng_states() -> dict:
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(_as_python_state(states['python']))
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda']])


def _as_python_state(state):
    # The Mersenne Twister state is (version, tuple_of_ints, gauss); a checkpoint round trip
    # may turn the inner tuple into a list.
    version, internal, gauss = state
    return version, tuple(internal), gauss


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run continue with the random numbers an uninterrupted run would draw.

    Like the HF Trainer, the python / numpy / torch (and CUDA) generator states are stored in
    checkpoints and restored on resume. With mmengine's epoch loop three details matter:

    * the state stored is the one at the end of the last training epoch (captured before any
      checkpoint of that epoch is written), also in the best checkpoint saved during
      validation afterwards;
    * validation and test leave the generators as they found them, so that state is exactly
      the state at the start of the next training epoch;
    * on resume the state is restored right before the first training epoch (nothing between
      loading and training may draw from it).
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._stash = None
        self._epoch_end = None

    def before_train_epoch(self, runner) -> None:
        self._epoch_end = None
        if self._pending is not None:
            set_rng_states(self._pending)
            self._pending = None

    def after_train_epoch(self, runner) -> None:
        self._epoch_end = get_rng_states()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_states'] = self._epoch_end or get_rng_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resume continues training; a `load_from` (fine-tune / test) starts fresh.
        if runner._resume and 'rng_states' in checkpoint:
            self._pending = checkpoint['rng_states']

    def _protect(self, runner) -> None:
        self._stash = get_rng_states()

    def _restore(self, runner) -> None:
        if self._stash is not None:
            set_rng_states(self._stash)
            self._stash = None

    before_val = _protect
    after_val = _restore
    before_test = _protect
    after_test = _restore
