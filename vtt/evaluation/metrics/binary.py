"""Metrics of a yes/no classifier with a score (the meteo gate)."""
from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import (
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from vtt.registry import METRICS

from .utils import ground_truth

__all__ = ['BinaryClsMetric', 'best_f1_threshold', 'equal_error_rate']


def best_f1_threshold(gt: np.ndarray, scores: np.ndarray) -> tuple:
    """``(threshold, f1)``: a score threshold with the highest F1 (predict positive when
    ``score >= threshold``), from scikit-learn's precision-recall curve.

    The curve's threshold is the lowest score that is still predicted positive; on a
    separable split that sits right on the edge of the positives. The threshold returned is
    the midpoint between that score and the next lower score, which gives the same
    decisions on this split and leaves the margin to both classes for new data."""
    gt, scores = np.asarray(gt), np.asarray(scores, dtype=np.float64)
    precision, recall, thresholds = precision_recall_curve(gt, scores)
    if not len(thresholds):
        return 0.5, 0.0
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    best = int(np.argmax(f1[:-1]))
    threshold = float(thresholds[best])
    below = scores[scores < threshold]
    if below.size:
        threshold = (threshold + float(below.max())) / 2
    return threshold, float(f1[best])


def equal_error_rate(gt: np.ndarray, scores: np.ndarray) -> float:
    """The error rate where the false-positive rate equals the false-negative rate
    (interpolated between the two ROC points around the crossing)."""
    fpr, tpr, _ = roc_curve(gt, scores)
    fnr = 1 - tpr
    i = int(np.nonzero(fnr <= fpr)[0][0])
    if i == 0:
        return float(fpr[0])
    # the crossing of (fpr - fnr) between points i-1 and i
    d0, d1 = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]
    t = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


@METRICS.register_module()
class BinaryClsMetric(BaseMetric):
    """AUC, EER, and F1 / precision / recall of binary predictions.

    Expects predictions with ``pred_score`` (probability of the positive class),
    ``pred_label`` (the model's decision at its threshold) and ``gt_label`` (0/1).
    Results (prefix ``binary``): ``auc``, ``eer``, ``f1``, ``precision``, ``recall``,
    ``accuracy`` (at the model's threshold), ``log_loss`` (binary cross-entropy of the
    scores: a tie-free criterion for choosing a checkpoint when AUC saturates), ``positives``,
    ``negatives``; with ``calibrate=True`` also ``best_f1`` and ``best_threshold`` (the
    threshold that maximises F1 on the evaluated split, see :func:`best_f1_threshold`;
    ``ThresholdCalibrationHook`` stores the validation split's into the model). Evaluate
    the test split with ``calibrate=False``: a threshold fitted on test must not be reported
    next to test scores. All from scikit-learn.

    Args:
        calibrate (bool): Report ``best_threshold``/``best_f1``. Defaults to True.
    """

    default_prefix = 'binary'

    def __init__(self, calibrate: bool = True, collect_device: str = 'cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.calibrate = calibrate

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = ground_truth(sample, self)
            self.results.append((float(sample['pred_score']), int(sample['pred_label']),
                                 int(round(float(gt)))))

    def compute_metrics(self, results: list) -> dict:
        scores = np.array([s for s, _, _ in results])
        pred = np.array([p for _, p, _ in results])
        gt = np.array([g for _, _, g in results])
        metrics = dict(
            f1=float(f1_score(gt, pred, zero_division=0)),
            precision=float(precision_score(gt, pred, zero_division=0)),
            recall=float(recall_score(gt, pred, zero_division=0)),
            accuracy=float((gt == pred).mean()),
            positives=int(gt.sum()), negatives=int((1 - gt).sum()))
        metrics['log_loss'] = float(log_loss(gt, np.clip(scores, 1e-7, 1 - 1e-7),
                                             labels=[0, 1]))
        if 0 < gt.sum() < len(gt):
            metrics['auc'] = float(roc_auc_score(gt, scores))
            metrics['eer'] = equal_error_rate(gt, scores)
            if self.calibrate:
                metrics['best_threshold'], metrics['best_f1'] = best_f1_threshold(gt, scores)
        return metrics
