from mmengine.hooks import Hook

from vtt.registry import HOOKS

__all__ = ['DatasetEpochHook']


@HOOKS.register_module()
class DatasetEpochHook(Hook):
    """Tell a training dataset which epoch starts (``dataset.set_epoch(epoch)``, when it has
    one), as mmengine's ``DistSamplerSeedHook`` tells the sampler.

    A dataset whose per-item randomness advances with every draw (the product dataset's
    candidate sampling) keeps that state in the process; after ``--resume`` it would start
    over and the resumed run would train on other draws than an uninterrupted one. With the
    epoch it can put its state where the uninterrupted run has it. (A DataLoader with
    ``persistent_workers=True`` copies the dataset into its workers once, so there the epoch
    does not reach them.)
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        if hasattr(dataset, 'set_epoch'):
            dataset.set_epoch(runner.epoch)
