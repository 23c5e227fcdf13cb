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


def _fake_runner(n=5):
    return SimpleNamespace(epoch=0, max_epochs=2, train_dataloader=list(range(n)),
                           val_dataloader=list(range(2)), test_dataloader=list(range(3)))


def test_progress_hook_draws_on_a_terminal():
    import io

    from rich.console import Console
    stream = io.StringIO()
    hook = HOOKS.build(dict(type='RichProgressHook', enabled=True,
                            console=Console(file=stream, force_terminal=True, width=120)))
    runner = _fake_runner()
    hook.before_train_epoch(runner)
    for i in range(5):
        hook.after_train_iter(runner, i, outputs=dict(loss=torch.tensor(0.25)))
    task = hook._progress.tasks[0]
    assert task.completed == 5 and task.total == 5
    hook.after_train_epoch(runner)
    text = stream.getvalue()
    assert 'train 1/2' in text and '5/5' in text and 'loss 0.2500' in text and 'it/s' in text


def test_progress_hook_silent_without_terminal():
    import io

    from rich.console import Console
    stream = io.StringIO()  # not a tty, like CI logs
    hook = HOOKS.build(dict(type='RichProgressHook', console=Console(file=stream)))
    runner = _fake_runner()
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0)
    hook.after_val_epoch(runner)
    assert hook._progress is None and stream.getvalue() == ''


def test_visual_warmup_hook_runs_once_before_training_and_not_on_resume():
    import pytest
    calls, lines = [], []

    class Model:
        def warm_up_visual(self, dataset, on_epoch, **kwargs):
            calls.append((dataset, kwargs))
            rows = [dict(stage='encoder', epoch=1, loss=1.5, acc=0.25),
                    dict(stage='encoder', epoch=2, loss=0.5, acc=0.75),
                    dict(stage='head', epoch=1, loss=0.25, acc=1.0)]
            for row in rows:
                on_epoch(row)
                lines.append('(work of the next epoch)')  # logged as it ends, not after
            return rows

    hook = HOOKS.build(dict(type='VisualWarmupHook', epochs=2, lr=1e-3, freeze_after=True,
                            head_epochs=1))
    runner = SimpleNamespace(iter=0, model=Model(), train_dataloader=SimpleNamespace(dataset='ds'),
                             logger=SimpleNamespace(info=lines.append))
    hook.before_train(runner)
    assert calls == [('ds', dict(epochs=2, lr=1e-3, head_lr=None, batch_size=16,
                                 weight_decay=1e-4, seed=0, freeze_after=True,
                                 head_epochs=1))]
    assert 'encoder epoch 1/2 loss 1.5000 acc 0.2500' in lines[0]
    assert 'encoder epoch 2/2 loss 0.5000 acc 0.7500' in lines[2]
    assert 'head epoch 1/1 loss 0.2500 acc 1.0000' in lines[4]
    runner.iter = 40  # resumed: the checkpoint holds the warmed-up weights
    hook.before_train(runner)
    assert len(calls) == 1 and 'resumed' in lines[-1]
    with pytest.raises(TypeError, match='warm_up_visual'):
        hook.before_train(SimpleNamespace(iter=0, model=object(), logger=runner.logger,
                                          train_dataloader=runner.train_dataloader))
    with pytest.raises(ValueError, match='epochs'):
        HOOKS.build(dict(type='VisualWarmupHook', epochs=0, lr=1e-3))
