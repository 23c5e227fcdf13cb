import random
from types import SimpleNamespace

import numpy as np
import torch

from vtt.registry import HOOKS


def test_early_stopping_state_survives_checkpoint():
    hook = HOOKS.build(dict(type='ResumableEarlyStoppingHook', monitor='cls/macro_f1',
                            rule='greater', patience=3))
    assert hook.min_delta == 0.0  # small F1 gains count as improvement
    runner = SimpleNamespace(train_loop=SimpleNamespace(stop_training=False), _resume=True,
                             logger=SimpleNamespace(info=lambda *a: None))
    for score in (0.50, 0.501, 0.49, 0.48):
        hook.after_val_epoch(runner, {'cls/macro_f1': score})
    assert hook.best_score == 0.501 and hook.wait_count == 2
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    fresh = HOOKS.build(dict(type='ResumableEarlyStoppingHook', monitor='cls/macro_f1',
                             rule='greater', patience=3))
    fresh.after_load_checkpoint(runner, checkpoint)
    assert fresh.best_score == 0.501 and fresh.wait_count == 2
    fresh.after_val_epoch(runner, {'cls/macro_f1': 0.47})
    assert runner.train_loop.stop_training  # patience ran out across the "resume"


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_rng_hook_restores_epoch_end_state_on_resume():
    hook = HOOKS.build(dict(type='RNGStateHook'))
    runner = SimpleNamespace(_resume=True)
    torch.manual_seed(0)
    hook.after_train_epoch(runner)
    expected = _draw()  # what the next epoch would draw
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)  # saved after more draws (e.g. best ckpt)
    resumed = HOOKS.build(dict(type='RNGStateHook'))
    resumed.after_load_checkpoint(runner, checkpoint)
    _draw()  # model init etc. between loading and training must not matter
    resumed.before_train_epoch(runner)
    assert _draw() == expected


def test_rng_hook_keeps_validation_neutral():
    hook = HOOKS.build(dict(type='RNGStateHook'))
    torch.manual_seed(1)
    state = torch.get_rng_state()
    hook.before_val(None)
    torch.rand(10)
    hook.after_val(None)
    assert torch.equal(torch.get_rng_state(), state)
