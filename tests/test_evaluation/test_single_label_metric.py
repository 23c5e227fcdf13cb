import pytest

from vtt.registry import METRICS


def test_hand_computed_metrics():
    metric = METRICS.build(dict(type='SingleLabelMetric'))
    metric.dataset_meta = dict(classes=['wheat', 'maize', 'soy'])
    gt = [0, 0, 1, 1, 2, 2]
    pred = [0, 1, 1, 1, 2, 0]
    metric.process(None, [dict(pred_label=p, gt_label=g) for p, g in zip(pred, gt)])
    results = metric.evaluate(6)
    assert results['cls/accuracy'] == pytest.approx(4 / 6)
    # wheat: P=1/2 R=1/2 F1=0.5; maize: P=2/3 R=1 F1=0.8; soy: P=1 R=1/2 F1=2/3
    assert results['cls/f1_wheat'] == pytest.approx(0.5)
    assert results['cls/f1_maize'] == pytest.approx(0.8)
    assert results['cls/f1_soy'] == pytest.approx(2 / 3)
    assert results['cls/macro_f1'] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert results['cls/confusion_matrix'] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_absent_class_does_not_count_in_macro_average():
    # perfect predictions on 2 of 3 classes, the third absent and never predicted: 1.0, not
    # the 0.667 of averaging an undefined F1 as 0
    metric = METRICS.build(dict(type='SingleLabelMetric', num_classes=3, prefix='val'))
    metric.process(None, [dict(pred_label=0, gt_label=0), dict(pred_label=1, gt_label=1)])
    results = metric.evaluate(2)
    assert results['val/macro_f1'] == pytest.approx(1.0)
    assert results['val/confusion_matrix'][2] == [0, 0, 0]
    # a class that is predicted but absent from the ground truth does count (F1 = 0)
    metric = METRICS.build(dict(type='SingleLabelMetric', num_classes=3))
    metric.process(None, [dict(pred_label=0, gt_label=0), dict(pred_label=2, gt_label=1)])
    results = metric.evaluate(2)
    assert results['cls/macro_f1'] == pytest.approx((1.0 + 0.0 + 0.0) / 3)


def test_class_count_fallback_uses_the_gathered_results():
    # without num_classes or dataset classes the count comes from the largest label of ALL
    # ranks' results: compute_metrics gets the gathered list, self.results is this rank's
    metric = METRICS.build(dict(type='SingleLabelMetric'))
    metric.results = [(0, 0, None)]  # this rank saw only class 0
    gathered = [(0, 0, None), (3, 3, None), (1, 1, None)]
    results = metric.compute_metrics(gathered)
    assert len(results['confusion_matrix']) == 4 and 'f1_3' in results


def test_needs_ground_truth():
    metric = METRICS.build(dict(type='SingleLabelMetric'))
    with pytest.raises(KeyError, match='gt_label'):
        metric.process(None, [dict(pred_label=0)])


def test_log_loss_from_scores():
    import math
    metric = METRICS.build(dict(type='SingleLabelMetric', num_classes=2))
    metric.process(None, [dict(pred_label=0, gt_label=0, pred_score=[0.8, 0.2]),
                          dict(pred_label=0, gt_label=1, pred_score=[0.6, 0.4])])
    results = metric.evaluate(2)
    assert results['cls/log_loss'] == pytest.approx(-(math.log(0.8) + math.log(0.4)) / 2)
