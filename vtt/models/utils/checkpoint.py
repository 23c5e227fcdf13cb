"""Residual layer scales, and reading checkpoints written by earlier layouts (key maps)."""
from typing import Optional

import torch
from torch import nn

__all__ = ['add_layer_scales', 'upgrade_layer_scale_keys', 'upgrade_timemae_pretrainer_keys']


def add_layer_scales(block: nn.Module, init: Optional[float]) -> None:
    """Give a residual block learnable scalar scales ``scale1``/``scale2`` of its two sublayers,
    initialised to ``init`` (None: no scales, i.e. fixed at 1), and the pre-hook that lets it
    load state dicts written before it had them (:func:`upgrade_layer_scale_keys`)."""
    if init is None:
        block.scale1 = block.scale2 = None
    else:
        block.scale1 = nn.Parameter(torch.tensor(float(init)))
        block.scale2 = nn.Parameter(torch.tensor(float(init)))
    block.register_load_state_dict_pre_hook(upgrade_layer_scale_keys)


def upgrade_layer_scale_keys(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """Load-state-dict pre-hook of blocks with learnable residual scales ``scale1``/``scale2``:
    a state dict written before blocks had them gets 1.0, with which the block computes exactly
    what it computed then."""
    if getattr(module, 'scale1', None) is None:
        return
    if not any(k.startswith(prefix) for k in state_dict):
        return
    for name in ('scale1', 'scale2'):
        state_dict.setdefault(prefix + name, torch.ones(()))


#: Top-level keys of a TimeMAE pretraining checkpoint written before the shared backbone:
#: ``{old prefix: new prefix}``.
TIMEMAE_LEGACY_PREFIXES = {
    'window_slicer.': 'backbone.window_slicer.',
    'encoder.': 'backbone.encoder.',
    'momentum_encoder.': 'momentum_encoder.module.',
}


def upgrade_timemae_pretrainer_keys(state_dict: dict, prefix: str = '') -> bool:
    """Rename, in place, the keys of a TimeMAE pretraining state dict of the former layout
    (``window_slicer.*``, ``encoder.*``, ``momentum_encoder.*`` at the top level) to the
    current one (``backbone.window_slicer.*``, ``backbone.encoder.*``,
    ``momentum_encoder.module.*`` plus its update counter). Returns whether anything changed;
    a current state dict is left alone."""
    if not any(k.startswith(prefix + 'window_slicer.') for k in state_dict):
        return False
    if any(k.startswith(prefix + 'backbone.') for k in state_dict):
        return False
    for key in list(state_dict):
        for old, new in TIMEMAE_LEGACY_PREFIXES.items():
            if key.startswith(prefix + old):
                state_dict[prefix + new + key[len(prefix + old):]] = state_dict.pop(key)
                break
    if any(k.startswith(prefix + 'momentum_encoder.module.') for k in state_dict):
        # The old EMA had been updated; a counter > 0 keeps the next update an average.
        state_dict.setdefault(prefix + 'momentum_encoder.steps', torch.tensor(1))
    return True
