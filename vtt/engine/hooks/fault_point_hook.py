from mmengine.hooks import Hook

from vtt.registry import HOOKS
from vtt.utils.faults import fault_point

__all__ = ['FaultPointHook']


@HOOKS.register_module()
class FaultPointHook(Hook):
    """Fault points at every training and validation iteration (``train.iter``,
    ``val.iter``), for the kill-and-resume tests: with ``VTT_FAULT_POINT=val.iter:3`` the run
    kills itself with SIGKILL at its third validation iteration. ``tools/train.py`` adds this
    hook only when ``VTT_FAULT_POINT`` is set; it does nothing else and holds no state, so it
    does not change what a run computes."""

    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        fault_point('train.iter')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        fault_point('val.iter')

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        fault_point('test.iter')
