import os.path as osp

from mmengine.dist import master_only
from mmengine.hooks import Hook

from vtt.registry import HOOKS
from vtt.utils.io import dump_json_atomic
from vtt.visualization import plot_confusion_matrix

__all__ = ['ConfusionMatrixHook']


@HOOKS.register_module()
class ConfusionMatrixHook(Hook):
    """After testing, save the confusion matrix from the metrics as JSON and PNG in the work dir
    (``test_confusion_matrix.json`` / ``.png``; rows = true class, columns = predicted).

    Args:
        key_suffix (str): Metric key to look for. Defaults to ``'confusion_matrix'``.
        filename (str): Base name of the files. Defaults to ``'test_confusion_matrix'``.
    """

    priority = 'LOW'

    def __init__(self, key_suffix: str = 'confusion_matrix',
                 filename: str = 'test_confusion_matrix'):
        self.key_suffix = key_suffix
        self.filename = filename
        self.saved = []

    @master_only
    def after_test_epoch(self, runner, metrics=None) -> None:
        matrices = {k: v for k, v in (metrics or {}).items() if k.endswith(self.key_suffix)}
        if not matrices:
            runner.logger.warning(f'ConfusionMatrixHook: no metric ending in {self.key_suffix!r}')
            return
        key, matrix = next(iter(matrices.items()))
        matrix = [[int(x) for x in row] for row in matrix]
        dataset = runner.test_dataloader.dataset
        classes = list(getattr(dataset, 'metainfo', {}).get('classes') or range(len(matrix)))
        base = osp.join(runner.work_dir, self.filename)
        dump_json_atomic(dict(metric=key, classes=[str(c) for c in classes], matrix=matrix),
                         base + '.json')
        plot_confusion_matrix(matrix, base + '.png', classes, title='Test confusion matrix')
        self.saved = [base + '.json', base + '.png']
        runner.logger.info(f'Confusion matrix saved to {base}.json and {base}.png')
