from mmengine.hooks import EarlyStoppingHook

from vtt.registry import HOOKS

__all__ = ['ResumableEarlyStoppingHook']


@HOOKS.register_module()
class ResumableEarlyStoppingHook(EarlyStoppingHook):
    """mmengine's ``EarlyStoppingHook`` whose state survives ``--resume``.

    mmengine 0.10.7 keeps the best score and the count of epochs without improvement only in
    memory, so a resumed run would restart its patience from zero. This subclass stores both in
    the checkpoint (``checkpoint['early_stopping']``) and restores them on resume. Arguments are
    those of ``EarlyStoppingHook`` (``monitor``, ``rule``, ``patience`` ...), except that
    ``min_delta`` defaults to 0: mmengine's default of 0.1 ignores any improvement of a
    metric in [0, 1] (accuracy, F1) smaller than 0.1, which stops training far too early.
    """

    def __init__(self, monitor: str, rule: str = None, min_delta: float = 0.0, **kwargs):
        super().__init__(monitor=monitor, rule=rule, min_delta=min_delta, **kwargs)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['early_stopping'] = dict(
            monitor=self.monitor, best_score=float(self.best_score), wait_count=self.wait_count)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('early_stopping')
        if runner._resume and state and state.get('monitor') == self.monitor:
            self.best_score = state['best_score']
            self.wait_count = state['wait_count']
