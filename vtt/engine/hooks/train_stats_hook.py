from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['TrainStatsHook']


@HOOKS.register_module()
class TrainStatsHook(Hook):
    """Give the model statistics of the training split before training starts.

    Calls ``train_dataloader.dataset.train_statistics()`` (normalisation mean/std per variate,
    class counts) and ``model.set_train_statistics(stats)``. The model keeps them in buffers, so
    they are saved with every checkpoint and reused by ``tools/test.py`` and inference; the
    validation and test splits never contribute to them.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = unwrapped_model(runner)
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'train_statistics'):
            raise TypeError(f'{type(dataset).__name__} has no train_statistics(); TrainStatsHook '
                            'needs a vtt time-series dataset')
        if not hasattr(model, 'set_train_statistics'):
            raise TypeError(f'{type(model).__name__} has no set_train_statistics()')
        stats = dataset.train_statistics()
        model.set_train_statistics(stats)
        counts = stats.get('class_counts')
        runner.logger.info(
            f'TrainStatsHook: normalisation from {len(dataset)} training samples'
            + (f', class counts {list(map(int, counts))}' if counts is not None else ''))
