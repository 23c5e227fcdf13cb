from mmengine.hooks import EarlyStoppingHook

from vtt.registry import HOOKS

__all__ = ['ResumableEarlyStoppingHook']


@HOOKS.register_module()
class ResumableEarlyStoppingHook(EarlyStoppingHook):
    """mmengine's ``EarlyStoppingHook`` whose state survives ``--resume``.

    mmengine 0.10.7 keeps the best score and the count of epochs without improvement only in
    memory, so a resumed run would restart its patience from zero. This subclass stores both in
    the checkpoint (``checkpoint['early_stopping']``) and restores them on resume. Arguments are
    those of ``EarlyStoppingHook`` (``monitor``, ``rule``, ``patience``, ``min_delta`` ...).
    """

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['early_stopping'] = dict(
            monitor=self.monitor, best_score=float(self.best_score), wait_count=self.wait_count)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('early_stopping')
        if runner._resume and state and state.get('monitor') == self.monitor:
            self.best_score = state['best_score']
            self.wait_count = state['wait_count']
