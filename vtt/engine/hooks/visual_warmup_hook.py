from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['VisualWarmupHook']


@HOOKS.register_module()
class VisualWarmupHook(Hook):
    """Train the model's visual encoder on the training images before the first epoch.

    Calls ``model.warm_up_visual(train dataset, epochs, lr, ...)`` (e.g.
    :meth:`~vtt.models.algorithms.ChartProductClassifier.warm_up_visual`: a linear head on the
    visual tokens predicts each image's label, then is dropped, or, with
    ``visual.product_head``, is kept and refitted alone for ``head_epochs``) once, before
    training starts, and logs each warm-up epoch's loss and accuracy. A resumed run skips it:
    the warmed-up weights are in the checkpoint it resumes from.

    Args:
        epochs (int): Passes over the training set.
        lr (float): The encoder's learning rate (AdamW).
        head_lr (float, optional): The temporary head's. Defaults to ``10 * lr``.
        batch_size (int): Images per step. Defaults to 16.
        weight_decay (float): Defaults to 1e-4.
        seed (int): Seeds the shuffling. Defaults to 0.
        freeze_after (bool): Freeze the warmed-up encoders for the rest of training (their
            weights are still saved). Defaults to False.
        head_epochs (int): For a model with a kept product head: epochs of the head alone on
            the warmed-up encoders' features afterwards. Defaults to 30.
    """

    priority = 'LOW'  # after the hooks that prepare training (statistics, seeds)

    def __init__(self, epochs: int, lr: float, head_lr=None, batch_size: int = 16,
                 weight_decay: float = 1e-4, seed: int = 0, freeze_after: bool = False,
                 head_epochs: int = 30):
        if epochs < 1 or lr <= 0 or batch_size < 1:
            raise ValueError(f'VisualWarmupHook needs epochs >= 1, lr > 0 and batch_size >= 1; '
                             f'got {epochs}, {lr}, {batch_size}')
        self.kwargs = dict(epochs=int(epochs), lr=float(lr), head_lr=head_lr,
                           batch_size=int(batch_size), weight_decay=float(weight_decay),
                           seed=int(seed), freeze_after=bool(freeze_after),
                           head_epochs=int(head_epochs))

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            runner.logger.info('VisualWarmupHook: resumed run, the encoder was warmed up before')
            return
        model = unwrapped_model(runner)
        if not hasattr(model, 'warm_up_visual'):
            raise TypeError(f'VisualWarmupHook: {type(model).__name__} has no warm_up_visual '
                            f'method')
        totals = dict(encoder=self.kwargs['epochs'], head=self.kwargs['head_epochs'])

        def log(row):  # as each epoch ends, not all at once after the warm-up
            stage = row.get('stage', 'encoder')
            runner.logger.info(f"VisualWarmupHook: {stage} epoch {row['epoch']}/"
                               f"{totals.get(stage, '?')} loss {row['loss']:.4f} "
                               f"acc {row['acc']:.4f}")

        model.warm_up_visual(runner.train_dataloader.dataset, on_epoch=log, **self.kwargs)
