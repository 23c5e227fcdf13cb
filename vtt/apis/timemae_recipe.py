"""TimeMAE's data-aware default protocol: every setting derived from the data, or chosen on
validation.

A user who points TimeMAE at a new classification set should not have to tune it. The rules
(documented with their evidence in ``docs/research_lines/timemae.md``, "Defaults that hold
up")::

    window      = clamp(round(T / 32), 1, 16)          ~32 tokens per series
    batch size  = clamp(N_train // 8, 8, 64) (at most N_train)
    layers      = 2 (N < 2000) or 4; width 64 (N < 2000) or 128
    augment     = RandomScaleJitterShift when N < 300 (scale / noise / shift), else none
    lr          = 1e-3 with augmentation, 3e-3 without (AdamW, 10% warm-up, cosine)
    steps       = max(1000 with augmentation / 1500 without, 30 epochs) for every run
    init        = chosen on the validation split: TimeMAE-pretrained or random
    final model = the chosen candidate retrained on the whole TRAIN file, an ensemble of
                  ``ensemble`` seeds (probabilities averaged) when N < 300, else one
                  model; TEST is used once

``T`` is the series length and ``N`` the number of training series (the TRAIN file).
:func:`derive_timemae_recipe` applies the rules; :func:`recipe_cfg_options` turns a recipe into
``--cfg-options`` for ``configs/timemae/auto_pretrain.py`` / ``auto_finetune.py``, so any run of
the protocol can be repeated with ``tools/train.py``.
"""
import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional

from vtt.utils.errors import ConfigError

__all__ = ['TimeMAERecipe', 'derive_timemae_recipe', 'recipe_cfg_options']

#: Training sets smaller than this get RandomScaleJitterShift.
AUGMENT_BELOW = 300
#: Training sets from this size get the larger encoder.
LARGE_FROM = 2000


@dataclass(frozen=True)
class TimeMAERecipe:
    """The derived settings (see the module docstring for the rules)."""
    window: int
    embed_dims: int
    num_layers: int
    batch_size: int
    pretrain_epochs: int
    finetune_epochs: int
    final_epochs: int
    warmup_iters: int
    pretrain_iters: int
    finetune_iters: int
    final_iters: int
    augment: bool
    lr: float
    ensemble: int

    def as_dict(self) -> dict:
        return asdict(self)


def _iters_per_epoch(num_series: int, batch_size: int) -> int:
    return max(1, math.ceil(num_series / batch_size))


def derive_timemae_recipe(num_train: int, num_trainval: int, length: int,
                          min_steps: Optional[int] = None, min_epochs: int = 30,
                          ensemble: int = 3) -> TimeMAERecipe:
    """Derive the protocol's settings from the data's size.

    Args:
        num_train (int): Series in the ``'train'`` split (the selection runs train on it).
        num_trainval (int): Series in the TRAIN file (pretraining and the final model).
        length (int): Steps per series (the longest, for variable-length sets).
        min_steps (int, optional): Fewest optimizer steps of every training run. Defaults to
            1000 for augmented (small) sets and 1500 for the others.
        min_epochs (int): Fewest epochs of every training run. Defaults to 30.
        ensemble (int): Seeds of the final model of a small (augmented) set; larger sets get
            one model. Defaults to 3.

    Returns:
        TimeMAERecipe: the settings; epochs are whole epochs covering the step target.
    """
    if num_train < 1 or num_trainval < num_train or length < 1:
        raise ConfigError(f'derive_timemae_recipe needs 1 <= num_train <= num_trainval and '
                          f'length >= 1; got num_train={num_train}, num_trainval={num_trainval},'
                          f' length={length}')
    if ensemble < 1:
        raise ConfigError(f'ensemble must be >= 1, got {ensemble}')
    window = int(min(16, max(1, round(length / 32))))
    batch_size = int(min(num_train, min(64, max(8, num_train // 8))))
    large = num_trainval >= LARGE_FROM
    augment = num_trainval < AUGMENT_BELOW
    if min_steps is None:
        min_steps = 1000 if augment else 1500
    if min_steps < 1 or min_epochs < 1:
        raise ConfigError(f'min_steps and min_epochs must be >= 1, got {min_steps}, '
                          f'{min_epochs}')

    def epochs_for(num_series: int) -> int:
        per_epoch = _iters_per_epoch(num_series, batch_size)
        return max(min_epochs, math.ceil(min_steps / per_epoch))

    pretrain_epochs = epochs_for(num_trainval)
    finetune_epochs = epochs_for(num_train)
    final_epochs = epochs_for(num_trainval)
    return TimeMAERecipe(
        window=window,
        embed_dims=128 if large else 64,
        num_layers=4 if large else 2,
        batch_size=batch_size,
        pretrain_epochs=pretrain_epochs,
        finetune_epochs=finetune_epochs,
        final_epochs=final_epochs,
        warmup_iters=max(1, min_steps // 10),
        pretrain_iters=pretrain_epochs * _iters_per_epoch(num_trainval, batch_size),
        finetune_iters=finetune_epochs * _iters_per_epoch(num_train, batch_size),
        final_iters=final_epochs * _iters_per_epoch(num_trainval, batch_size),
        augment=augment,
        lr=1e-3 if augment else 3e-3,
        ensemble=int(ensemble) if augment else 1,
    )


def recipe_cfg_options(recipe: TimeMAERecipe, stage: str,
                       pretrained: Optional[str] = None) -> Dict[str, object]:
    """``--cfg-options`` (dotted keys) that set ``recipe`` in ``configs/timemae/auto_*.py``.

    Args:
        recipe (TimeMAERecipe): From :func:`derive_timemae_recipe`.
        stage (str): ``'pretrain'`` (auto_pretrain.py, TRAIN file), ``'select'``
            (auto_finetune.py on the ``'train'`` split, validated at the end) or ``'final'``
            (auto_finetune.py on the whole TRAIN file, no validation).
        pretrained (str, optional): Pretraining checkpoint the backbone starts from
            (``'select'``/``'final'``); None trains from random initialisation.
    """
    if stage not in ('pretrain', 'select', 'final'):
        raise ConfigError(f"stage must be 'pretrain', 'select' or 'final', got {stage!r}")
    epochs, iters = dict(pretrain=(recipe.pretrain_epochs, recipe.pretrain_iters),
                         select=(recipe.finetune_epochs, recipe.finetune_iters),
                         final=(recipe.final_epochs, recipe.final_iters))[stage]
    warmup = min(recipe.warmup_iters, max(1, iters // 10))
    options = {
        'model.backbone.window_slicer.window': recipe.window,
        'model.backbone.window_slicer.embed_dims': recipe.embed_dims,
        'model.backbone.encoder.num_layers': recipe.num_layers,
        'model.data_preprocessor.augment': (dict(type='RandomScaleJitterShift')
                                            if recipe.augment else None),
        'train_dataloader.batch_size': recipe.batch_size,
        'optim_wrapper.optimizer.lr': recipe.lr,
        'train_cfg.max_epochs': epochs,
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.04, by_epoch=False, begin=0, end=warmup),
            dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=iters,
                 T_max=iters - warmup, eta_min=1e-6),
        ],
        'default_hooks.checkpoint.interval': epochs,
    }
    if stage != 'pretrain':
        options['model.backbone.init_cfg'] = None if pretrained is None else dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')
        options['train_cfg.val_interval'] = epochs
    if stage == 'final':
        options.update({'train_dataloader.dataset.split': 'trainval', 'val_dataloader': None,
                        'val_cfg': None, 'val_evaluator': None})
    return options
