import numpy as np
import pytest

from vtt.evaluation import best_f1_threshold, equal_error_rate
from vtt.registry import METRICS


def evaluate(scores, gt, threshold=0.5, **kwargs):
    metric = METRICS.build(dict(type='BinaryClsMetric', **kwargs))
    metric.process(None, [dict(pred_score=s, pred_label=int(s >= threshold), gt_label=g)
                          for s, g in zip(scores, gt)])
    return metric.evaluate(len(scores))


def test_separable_scores():
    result = evaluate([0.1, 0.2, 0.3, 0.6, 0.8, 0.9], [0, 0, 0, 1, 1, 1])
    assert result['binary/auc'] == 1.0 and result['binary/eer'] == 0.0
    assert result['binary/f1'] == 1.0 and result['binary/accuracy'] == 1.0
    assert result['binary/best_threshold'] == pytest.approx(0.45)  # centred in the gap
    assert result['binary/positives'] == 3 and result['binary/negatives'] == 3


def test_threshold_metrics_follow_the_models_decisions():
    scores, gt = [0.1, 0.4, 0.45, 0.55, 0.7, 0.9], [0, 0, 1, 0, 1, 1]
    result = evaluate(scores, gt, threshold=0.5)
    # decisions at 0.5: 0 0 0 1 1 1 -> TP 2, FP 1, FN 1
    assert result['binary/precision'] == pytest.approx(2 / 3)
    assert result['binary/recall'] == pytest.approx(2 / 3)
    threshold, f1 = best_f1_threshold(np.array(gt), np.array(scores))
    # 0.45 is the lowest positive score of the best F1; centred towards 0.4 below it
    assert threshold == pytest.approx(0.425) and f1 == pytest.approx(2 * 0.75 / 1.75)
    assert result['binary/best_f1'] == pytest.approx(f1)


def test_equal_error_rate():
    # one negative above one positive among 4 + 4: FPR = FNR = 0.25 at the crossing
    gt = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.6, 0.8, 0.85, 0.9])
    assert equal_error_rate(gt, scores) == pytest.approx(0.25)
    assert equal_error_rate(gt, 1 - scores) == pytest.approx(0.75)


def test_one_class_only_reports_what_is_defined():
    result = evaluate([0.2, 0.7], [1, 1])
    assert 'binary/auc' not in result and result['binary/recall'] == 0.5


def test_test_split_reports_no_fitted_threshold():
    scores, gt = [0.1, 0.2, 0.7, 0.9], [0, 1, 1, 1]
    result = evaluate(scores, gt, calibrate=False)
    assert 'binary/best_threshold' not in result and 'binary/best_f1' not in result
    expected = -np.mean(np.log([0.9, 0.2, 0.7, 0.9]))
    assert result['binary/log_loss'] == pytest.approx(expected)
