"""Wrapping pretrained towers (Hugging Face today, timm next): loading with helpful errors,
freezing that survives ``model.train()``, and checkpoints that record a frozen tower by its
source instead of saving it."""
import json
import os
from typing import Callable, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.utils.errors import PretrainedWeightsMismatchError, PretrainedWeightsNotFoundError

from .fingerprint import weights_fingerprint

__all__ = ['load_pretrained', 'build_hf_config', 'freeze_module', 'PretrainedTower']


def load_pretrained(loader: Callable, pretrained: str, what: str, config_key: str,
                    local_files_only: bool = False, offline: Optional[str] = None, **kwargs):
    """Call ``loader(pretrained, ...)`` (a ``from_pretrained``) and turn a failure to find the
    weights into an error that says what is missing and how to point the config at it.

    Args:
        loader: e.g. ``CLIPVisionModelWithProjection.from_pretrained``.
        pretrained (str): Hub id (``openai/clip-vit-base-patch16``) or local directory.
        what (str): Human name of the component, for the message.
        config_key (str): Config key that holds ``pretrained``, for the message.
        local_files_only (bool): Do not try the hub (offline use).
        offline (str, optional): What else the config key accepts offline, for the message
            (default: ``None`` for a randomly initialised model built from ``config``).
    """
    is_dir = os.path.isdir(os.path.expanduser(str(pretrained)))
    try:
        return loader(os.path.expanduser(str(pretrained)) if is_dir else pretrained,
                      local_files_only=local_files_only, **kwargs)
    except (OSError, ValueError) as error:
        if is_dir:
            hint = (f'the directory {pretrained!r} exists but does not hold a loadable model '
                    f'({error}). It should contain config.json and model.safetensors as written '
                    'by `save_pretrained`.')
        else:
            hint = (f'{pretrained!r} is not a local directory, and the Hugging Face hub is not '
                    f'reachable or has no cached copy ({type(error).__name__}). On a machine '
                    f'with internet run `hf download {pretrained} --local-dir DIR` (or '
                    '`save_pretrained(DIR)`), copy DIR here and point the config at it.')
        offline = offline or (f'`{config_key}=None` to build a randomly initialised model '
                              f'from the `config` dict (tests / offline demo)')
        raise PretrainedWeightsNotFoundError(
            f'cannot load the {what} weights: {hint} Set it with '
            f'`--cfg-options {config_key}=DIR`, or {offline}.') from None


def build_hf_config(config_cls, config: Optional[dict]):
    """An HF config object from a plain dict (``None`` gives the class defaults)."""
    return config_cls(**(config or {}))


def freeze_module(module: nn.Module) -> None:
    """Stop gradients to every parameter of ``module`` and put it in eval mode."""
    module.eval()
    for param in module.parameters():
        param.requires_grad_(False)


class PretrainedTower(BaseModule):
    """Base of modules that wrap a pretrained model in ``self.backbone``.

    What it gives a subclass (which builds ``self.backbone`` and then calls :meth:`_finish`):

    * **Freezing** (``frozen=True``): no gradients, and the backbone stays in eval mode (no
      dropout) even when the surrounding model is put in train mode.
    * **No re-initialisation**: mmengine's ``init_weights`` recursion would overwrite loaded
      weights; it stops here.
    * **Checkpoints without frozen weights.** A frozen backbone loaded from ``pretrained`` (hub
      id or local directory) is not written into checkpoints: the state dict records its
      source and the SHA-256 of its weights under ``<prefix>_extra_state`` instead, so a real
      TimesCLIP state dict drops from 498 MB to 23 MB. (The record is JSON in a uint8
      tensor: mmengine broadcasts state dicts between ranks and accepts only tensors.) Loading
      such a checkpoint keeps the backbone that was just re-created from the source and
      refuses, with
      :class:`PretrainedWeightsMismatchError`, when its hash differs from the recorded one.
      ``save_pretrained_weights=True`` keeps self-contained checkpoints (the backbone's weights
      are saved and loaded like any other). Backbones that train, or that were built from a
      config (``pretrained=None``), are always saved.

    Args:
        frozen (bool): Freeze the backbone.
        pretrained (str, optional): Where the weights came from (hub id or directory).
        save_pretrained_weights (bool): Save a frozen pretrained backbone in checkpoints.
        config_key (str): The config key of ``pretrained``, for messages.
    """

    def __init__(self, frozen: bool, pretrained: Optional[str] = None,
                 save_pretrained_weights: bool = False, config_key: str = 'pretrained'):
        super().__init__()
        self.frozen = frozen
        self.pretrained = pretrained
        self.save_pretrained_weights = save_pretrained_weights
        self.config_key = config_key
        self._register_state_dict_hook(_drop_frozen_weights)
        self.register_load_state_dict_pre_hook(_restore_frozen_weights)

    def _finish(self, backbone: nn.Module) -> None:
        if self.frozen:
            freeze_module(backbone)

    @property
    def weights_left_out(self) -> bool:
        """Whether checkpoints record the backbone by source instead of saving its weights."""
        return self.frozen and self.pretrained is not None and not self.save_pretrained_weights

    def init_weights(self) -> None:
        # Weights come from ``from_pretrained`` or from HF's own init at construction; letting
        # mmengine recurse into the HF model would re-initialise loaded weights.
        pass

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.backbone.eval()  # no dropout / stochastic depth in a frozen tower
        return self

    def get_extra_state(self) -> torch.Tensor:
        record = dict(pretrained=None if self.pretrained is None else str(self.pretrained),
                      weights_sha256=weights_fingerprint(self.backbone),
                      weights_saved=not self.weights_left_out)
        return torch.tensor(list(json.dumps(record).encode()), dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        # Checked (and acted on) by _restore_frozen_weights before any weight is loaded.
        pass


def _drop_frozen_weights(module: PretrainedTower, state_dict, prefix, local_metadata):
    if module.weights_left_out:
        for key in [k for k in state_dict if k.startswith(prefix + 'backbone.')]:
            del state_dict[key]
    return state_dict


def _restore_frozen_weights(module: PretrainedTower, state_dict, prefix, local_metadata, strict,
                            missing_keys, unexpected_keys, error_msgs):
    record = state_dict.get(prefix + '_extra_state')
    if isinstance(record, torch.Tensor):
        record = json.loads(bytes(record.tolist()).decode())
    if not isinstance(record, dict) or record.get('weights_saved', True):
        return  # a self-contained checkpoint (or one written before records existed)
    where = prefix.rstrip('.') or 'the model'
    current = weights_fingerprint(module.backbone)
    if record.get('weights_sha256') != current:
        raise PretrainedWeightsMismatchError(
            f'{where}: the checkpoint was trained on the frozen weights of '
            f'{record.get("pretrained")!r} (SHA-256 {str(record.get("weights_sha256"))[:16]}...) '
            f'and does not contain them, but the weights loaded now from {module.pretrained!r} '
            f'hash to {current[:16]}...; the checkpoint\'s other weights were trained against '
            f'the former. Point {module.config_key} at the same weights as in training, or '
            'train with save_pretrained_weights=True for self-contained checkpoints.')
    # The backbone already holds exactly these weights: hand them to the loader so that strict
    # loading finds every key.
    for name, tensor in module.backbone.state_dict().items():
        state_dict.setdefault(prefix + 'backbone.' + name, tensor)
