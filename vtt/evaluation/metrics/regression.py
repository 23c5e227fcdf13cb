"""Metrics of regression predictions (TimesCLIP yield)."""
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)

from vtt.registry import METRICS

__all__ = ['RegressionMetric']


@METRICS.register_module()
class RegressionMetric(BaseMetric):
    """RMSE, MAE, R2 and MAPE of ``pred_value`` against ``gt_target`` (scikit-learn).

    ``mape`` is a fraction (0.05 = 5%), scikit-learn's ``mean_absolute_percentage_error``; it is
    meaningless for targets near zero (yields are positive). With several targets per sample
    every metric is averaged over them (``multioutput='uniform_average'``).

    Args:
        prefix (str): Defaults to ``'regression'``.
    """

    default_prefix = 'regression'

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'gt_target' not in sample or 'pred_value' not in sample:
                raise KeyError(f'{type(self).__name__} needs pred_value and gt_target in the '
                               f'predictions (a regression head on a regression dataset); '
                               f'got {sorted(sample)}')
            self.results.append((np.atleast_1d(np.asarray(sample['pred_value'], np.float64)),
                                 np.atleast_1d(np.asarray(sample['gt_target'], np.float64))))

    def compute_metrics(self, results: list) -> dict:
        pred = np.stack([p for p, _ in results])
        gt = np.stack([g for _, g in results])
        metrics = dict(rmse=float(np.sqrt(mean_squared_error(gt, pred))),
                       mae=float(mean_absolute_error(gt, pred)),
                       mape=float(mean_absolute_percentage_error(gt, pred)))
        metrics['r2'] = float(r2_score(gt, pred)) if len(gt) > 1 else float('nan')
        return metrics
