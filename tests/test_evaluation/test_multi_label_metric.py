import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from vtt.evaluation import best_f1_thresholds
from vtt.registry import METRICS


def evaluate(scores, gt, pred=None, **kwargs):
    metric = METRICS.build(dict(type='MultiLabelMetric', **kwargs))
    metric.dataset_meta = dict(classes=['wind', 'pressure', 'radar'])
    samples = []
    for i in range(len(scores)):
        sample = dict(pred_score=scores[i], gt_label=gt[i])
        if pred is not None:
            sample['pred_label'] = pred[i]
        samples.append(sample)
    metric.process(None, samples)
    return metric.evaluate(len(samples))


SCORES = np.array([[0.9, 0.2, 0.1], [0.8, 0.7, 0.3], [0.3, 0.6, 0.2], [0.1, 0.4, 0.4]])
GT = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])  # 'radar' never positive


def test_map_over_labels_with_positives_only():
    result = evaluate(SCORES, GT)
    assert result['multilabel/AP_wind'] == 1.0
    expected = average_precision_score(GT[:, 1], SCORES[:, 1])
    assert result['multilabel/AP_pressure'] == pytest.approx(expected)
    assert 'multilabel/AP_radar' not in result
    assert result['multilabel/mAP'] == pytest.approx((1.0 + expected) / 2)


def test_f1_uses_the_models_decisions_when_given():
    # at 0.5: wind 1 1 0 0 (right), pressure 0 1 1 0 (right), radar none -> perfect
    assert evaluate(SCORES, GT)['multilabel/micro_f1'] == 1.0
    pred = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0], [0, 0, 0]])  # one FP, one FN
    result = evaluate(SCORES, GT, pred=pred)
    assert result['multilabel/micro_f1'] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    # macro over wind (1.0), pressure (2/3) and radar (0: predicted but never true)
    assert result['multilabel/macro_f1'] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert result['multilabel/exact_match'] == 0.5  # rows 0 and 2 are wrong


def test_per_label_thresholds_on_validation():
    result = evaluate(SCORES, GT, calibrate=True)
    thresholds = result['multilabel/thresholds']
    assert thresholds == pytest.approx(best_f1_thresholds(GT, SCORES).tolist())
    assert 0.3 < thresholds[0] < 0.8 and 0.4 < thresholds[1] < 0.6 and thresholds[2] == 0.5
    assert 'multilabel/thresholds' not in evaluate(SCORES, GT)


def test_one_metric_per_decoding_reads_its_own_fields():
    beam = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])   # misses one pressure
    samples = [dict(pred_score=SCORES[i], gt_label=GT[i], parallel_label=(SCORES[i] >= 0.5),
                    beam_label=beam[i], beam_score=beam[i] * 0.9) for i in range(4)]
    results = {}
    for cfg in (dict(prefix='parallel', label_key='parallel_label'),
                dict(prefix='beam', score_key='beam_score', label_key='beam_label')):
        metric = METRICS.build(dict(type='MultiLabelMetric', **cfg))
        metric.process(None, samples)
        results.update(metric.evaluate(4))
    assert results['parallel/micro_f1'] == 1.0
    assert results['beam/micro_f1'] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))
    assert results['beam/AP_1'] == pytest.approx(average_precision_score(GT[:, 1], beam[:, 1]))
    with pytest.raises(KeyError, match="no 'beam_score'"):
        METRICS.build(dict(type='MultiLabelMetric', score_key='beam_score')).process(
            None, [dict(pred_score=SCORES[0], gt_label=GT[0])])
