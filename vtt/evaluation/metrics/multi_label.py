"""Metrics of multi-label predictions (the meteo element recogniser)."""
from typing import List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from vtt.registry import METRICS

from .binary import best_f1_threshold
from .utils import ground_truth

__all__ = ['MultiLabelMetric', 'best_f1_thresholds']


def best_f1_thresholds(gt: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per-label thresholds ``[L]`` maximising each label's F1 (see
    :func:`~vtt.evaluation.metrics.binary.best_f1_threshold`); 0.5 for a label without both
    positives and negatives in ``gt [N, L]``."""
    gt, scores = np.asarray(gt), np.asarray(scores, dtype=np.float64)
    thresholds = np.full(gt.shape[1], 0.5)
    for j in range(gt.shape[1]):
        if 0 < gt[:, j].sum() < len(gt):
            thresholds[j] = best_f1_threshold(gt[:, j], scores[:, j])[0]
    return thresholds


@METRICS.register_module()
class MultiLabelMetric(BaseMetric):
    """mAP, micro-F1, macro-F1 and per-class AP of multi-label predictions.

    Expects predictions with ``pred_score [L]`` (independent probabilities), ``gt_label [L]``
    (multi-hot) and optionally ``pred_label [L]`` (the model's 0/1 decisions, e.g. at
    calibrated per-label thresholds; otherwise ``pred_score >= threshold``).

    * ``mAP``: mean of the per-label average precision over the labels that have positives in
      the evaluated split (a label without positives has no defined AP);
    * ``micro_f1`` / ``macro_f1`` of the decisions (macro over labels with positives or
      predictions);
    * ``exact_match``: the share of samples whose whole label set is right (subset accuracy);
    * ``AP_<class>`` per label (NaN-free: labels without positives are left out);
    * with ``calibrate=True`` also ``thresholds``, the per-label best-F1 thresholds of the
      evaluated split (for a calibration hook on VALIDATION; keep it False on test).
    All from scikit-learn.

    One model can carry several decodings in its records (the CNN-RNN head: ``parallel_label``
    and ``beam_label``, with ``pred_score`` and ``beam_score``); one metric per decoding, each
    with its own ``label_key``/``score_key`` and prefix, reports them side by side.

    Args:
        threshold (float): Decision threshold when predictions carry no ``label_key``.
        calibrate (bool): Report per-label thresholds. Defaults to False.
        score_key (str): The record field with the scores. Defaults to ``'pred_score'``.
        label_key (str): The record field with the decisions. Defaults to ``'pred_label'``.
        prefix (str): Defaults to ``'multilabel'``.
    """

    default_prefix = 'multilabel'

    def __init__(self, threshold: float = 0.5, calibrate: bool = False,
                 score_key: str = 'pred_score', label_key: str = 'pred_label',
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.threshold = float(threshold)
        self.calibrate = calibrate
        self.score_key, self.label_key = score_key, label_key

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = ground_truth(sample, self)
            if self.score_key not in sample:
                raise KeyError(f'{type(self).__name__}: the predictions have no '
                               f'{self.score_key!r} (they have {sorted(sample)})')
            score = np.asarray(sample[self.score_key], dtype=np.float64)
            pred = sample.get(self.label_key)
            pred = (score >= self.threshold) if pred is None else np.asarray(pred)
            self.results.append((score, pred.astype(np.int64),
                                 np.asarray(gt).round().astype(np.int64)))

    def _class_names(self, num_labels: int) -> List[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if classes and len(classes) == num_labels:
            return [str(c) for c in classes]
        return [str(i) for i in range(num_labels)]

    def compute_metrics(self, results: list) -> dict:
        scores = np.stack([s for s, _, _ in results])
        pred = np.stack([p for _, p, _ in results])
        gt = np.stack([g for _, _, g in results])
        names = self._class_names(gt.shape[1])
        with_positives = np.nonzero(gt.sum(0) > 0)[0]
        metrics = {}
        ap = {names[j]: float(average_precision_score(gt[:, j], scores[:, j]))
              for j in with_positives}
        metrics['mAP'] = float(np.mean(list(ap.values()))) if ap else 0.0
        metrics['micro_f1'] = float(f1_score(gt, pred, average='micro', zero_division=0))
        present = np.nonzero((gt.sum(0) > 0) | (pred.sum(0) > 0))[0]
        metrics['macro_f1'] = float(f1_score(gt[:, present], pred[:, present], average='macro',
                                             zero_division=0)) if len(present) else 0.0
        metrics['exact_match'] = float(accuracy_score(gt, pred))
        for name, value in ap.items():
            metrics[f'AP_{name}'] = value
        if self.calibrate:
            metrics['thresholds'] = best_f1_thresholds(gt, scores).tolist()
        return metrics
