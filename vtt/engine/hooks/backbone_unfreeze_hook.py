from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['BackboneUnfreezeHook']


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Two-phase transfer: train only the head for ``unfreeze_epoch`` epochs, then everything.

    While frozen, the backbone's parameters have ``requires_grad=False`` (so the optimizer,
    which holds them from the start with their own ``paramwise_cfg`` learning rate, skips them)
    and its BatchNorm layers stay in eval mode (their running statistics keep the pretrained
    values). From epoch ``unfreeze_epoch`` on, everything trains. The phase follows the epoch
    counter, so a resumed run lands in the right phase.

    Args:
        unfreeze_epoch (int): Epochs of head-only training. Defaults to 5 (the meteo plan).
        module (str): The model attribute to freeze. Defaults to ``'backbone'``.
    """

    priority = 'NORMAL'

    def __init__(self, unfreeze_epoch: int = 5, module: str = 'backbone'):
        if unfreeze_epoch < 0:
            raise ValueError(f'unfreeze_epoch must be >= 0, got {unfreeze_epoch}')
        self.unfreeze_epoch = int(unfreeze_epoch)
        self.module = module

    def _target(self, runner):
        model = unwrapped_model(runner)
        return getattr(model, self.module)

    def before_train_epoch(self, runner) -> None:
        frozen = runner.epoch < self.unfreeze_epoch
        for param in self._target(runner).parameters():
            param.requires_grad_(not frozen)
        if runner.epoch == self.unfreeze_epoch and self.unfreeze_epoch > 0:
            runner.logger.info(f'BackboneUnfreezeHook: {self.module} trains from epoch '
                               f'{runner.epoch + 1}')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # the train loop calls model.train() after before_train_epoch: re-freeze BatchNorm
        if runner.epoch < self.unfreeze_epoch:
            self._target(runner).eval()
