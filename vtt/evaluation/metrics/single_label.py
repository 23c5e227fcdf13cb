from typing import List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

from vtt.registry import METRICS

from .utils import ground_truth

__all__ = ['SingleLabelMetric']


@METRICS.register_module()
class SingleLabelMetric(BaseMetric):
    """Accuracy, macro-F1, per-class F1 and the confusion matrix of single-label predictions.

    Macro-F1 averages the F1 of the classes that occur in the ground truth or in the
    predictions: a class that is absent from the evaluated split and never predicted has no
    defined F1 and does not count (counting it as 0 would cap perfect predictions on 2 of 3
    classes at 0.667). Its per-class entry ``cls/f1_<class>`` is reported as 0.

    Expects the model's ``predict`` outputs: dicts with ``pred_label`` and ``gt_label``.
    Results (with the default prefix ``cls``): ``cls/accuracy``, ``cls/macro_f1``,
    ``cls/f1_<class>`` per class and ``cls/confusion_matrix`` (rows = true class, columns =
    predicted class, a nested list); when the predictions carry ``pred_score`` (class
    probabilities) also ``cls/log_loss``, the mean negative log-likelihood of the true class
    (a smooth criterion for model selection on small validation sets, where accuracy ties).
    Metrics come from scikit-learn.

    Args:
        num_classes (int, optional): Number of classes; defaults to the dataset's
            ``metainfo['classes']``.
        prefix (str): Key prefix. Defaults to ``'cls'``.
        label_key (str): The prediction field holding the predicted class. Defaults to
            ``'pred_label'``; models that predict several ways at once name the others (CMG's
            cross-modal classifier: ``'pred_label_gyro'``, with ``prefix='gyro'``).
        score_key (str): The field holding the class probabilities. Defaults to
            ``'pred_score'``.
    """

    default_prefix = 'cls'

    def __init__(self, num_classes: Optional[int] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, label_key: str = 'pred_label',
                 score_key: str = 'pred_score'):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes
        self.label_key, self.score_key = label_key, score_key

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = ground_truth(sample, self)
            if self.label_key not in sample:
                raise KeyError(f'SingleLabelMetric(label_key={self.label_key!r}): the '
                               f'predictions have no such field (fields: {sorted(sample)})')
            score = sample.get(self.score_key)
            score = None if score is None else np.asarray(score, dtype=np.float64)
            self.results.append((int(sample[self.label_key]), int(gt), score))

    def _class_names(self, results: list) -> List[str]:
        """Class names; without ``num_classes`` or dataset classes, as many as the largest
        label in ``results`` (the results gathered from every rank, not this rank's own)."""
        classes = (self.dataset_meta or {}).get('classes')
        n = self.num_classes or (len(classes) if classes else None)
        if n is None:
            n = 1 + max(max(p, g) for p, g, _ in results)
        if classes and len(classes) == n:
            return [str(c) for c in classes]
        return [str(i) for i in range(n)]

    def compute_metrics(self, results: list) -> dict:
        names = self._class_names(results)
        labels = list(range(len(names)))
        pred = np.array([p for p, _, _ in results])
        gt = np.array([g for _, g, _ in results])
        per_class = f1_score(gt, pred, labels=labels, average=None, zero_division=0)
        present = sorted(set(gt.tolist()) | set(pred.tolist()))
        metrics = dict(
            accuracy=float(accuracy_score(gt, pred)),
            macro_f1=float(f1_score(gt, pred, labels=present, average='macro',
                                    zero_division=0)))
        for name, value in zip(names, per_class):
            metrics[f'f1_{name}'] = float(value)
        scores = [s for _, _, s in results]
        if all(s is not None and len(s) == len(labels) for s in scores):
            probs = np.clip(np.stack(scores), 1e-12, 1.0)
            metrics['log_loss'] = float(log_loss(gt, probs / probs.sum(1, keepdims=True),
                                                 labels=labels))
        metrics['confusion_matrix'] = confusion_matrix(gt, pred, labels=labels).tolist()
        return metrics
