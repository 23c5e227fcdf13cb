"""Candidate products from elements: the filter, hard negatives, the baseline, recall."""
import json
import random

import pytest
import torch

from vtt.datasets.meteo_charts import MeteoVocabulary
from vtt.datasets.meteo_products import (
    candidate_recall,
    element_consistency,
    element_match,
    element_overlap_choice,
    hard_negatives,
    jaccard,
    product_candidates,
    training_candidates,
)
from vtt.datasets.synthetic.meteo_charts import ELEMENTS, PRODUCTS
from vtt.utils.errors import ConfigError, DataFormatError


@pytest.fixture(scope='module')
def vocab():
    # the synthetic charts' vocabulary, as write_meteo_charts puts it in labels.yaml
    return MeteoVocabulary(
        [dict(id=k, zh=zh, en=en, aliases=list(al)) for k, (zh, en, al) in ELEMENTS.items()],
        [dict(id=k, zh=zh, elements=list(req), optional_elements=list(opt))
         for k, (zh, _, req, opt) in PRODUCTS.items()])


def test_match_and_jaccard():
    assert element_match({'wind'}, {'wind', 'temperature'}) == 0.5
    assert element_match(set(), {'wind'}) == 0.0
    assert jaccard({'a', 'b'}, {'b', 'c'}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0


def test_candidates_follow_the_half_match_rule_best_first(vocab):
    ranked = product_candidates({'wind', 'temperature'}, vocab)
    names = [pid for pid, _ in ranked]
    # full matches first, the more specific (two required elements) before the one-element
    assert names[0] == '850hpa_wind_temperature'
    assert set(names[1:3]) == {'2m_temperature', '24h_max_wind'}
    # half matches: every product that requires wind or temperature plus one element missing
    assert {'500hpa_height_wind', '500hpa_height_temperature',
            'precipitation_wind'} <= set(names[3:])
    assert all(m >= 0.5 for _, m in ranked)
    assert 'radar_composite' not in names
    assert element_overlap_choice({'wind', 'temperature'}, vocab) == '850hpa_wind_temperature'
    assert element_overlap_choice(set(), vocab) is None
    with pytest.raises(ConfigError, match='threshold'):
        product_candidates({'wind'}, vocab, threshold=0)


def test_hard_negatives_are_look_alikes(vocab):
    negatives = hard_negatives('surface_analysis', vocab)  # {pressure, front}
    assert negatives == ['surface_pressure']  # {pressure}: Jaccard 0.5
    assert '500hpa_height_wind' in hard_negatives('850hpa_wind_temperature', vocab)  # 1/3
    assert hard_negatives('radar_composite', vocab) == []
    with pytest.raises(KeyError, match='unknown product'):
        hard_negatives('nope', vocab)


def test_training_candidates_always_hold_the_answer_in_a_random_place(vocab):
    positions = set()
    for seed in range(20):
        rng = random.Random(seed)
        # no element detected: the filter drops everything, training still shows the answer
        # and its hard negative
        names = training_candidates('surface_analysis', set(), vocab, rng=rng)
        assert 'surface_analysis' in names and 'surface_pressure' in names
        names = training_candidates('850hpa_wind_temperature', {'wind', 'temperature'}, vocab,
                                    rng=rng)
        assert len(names) == len(set(names))
        positions.add(names.index('850hpa_wind_temperature'))
    assert len(positions) > 3
    capped = training_candidates('850hpa_wind_temperature', {'wind', 'temperature'}, vocab,
                                 max_candidates=3, rng=random.Random(0))
    assert len(capped) == 3 and '850hpa_wind_temperature' in capped


def test_recall_and_consistency(vocab):
    records = [dict(product='surface_analysis'), dict(product='radar_composite')]
    out = candidate_recall(records, [{'pressure'}, {'wind'}], vocab)
    assert out['recall'] == 0.5 and out['num_samples'] == 2
    assert element_consistency(['surface_analysis', None], [{'pressure', 'front'}, set()],
                               vocab) == 0.5
    assert element_consistency(['surface_analysis'], [{'pressure'}], vocab) == 0.0


@pytest.fixture(scope='module')
def chart_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('charts') / 'charts')


def product_dataset(root, **kwargs):
    from vtt.registry import DATASETS
    charts = dict(type='SyntheticMeteoChartDataset', data_root=root, split='all',
                  generator=dict(seed=0, num_meteo=12, num_negative=2, size=(64, 64)))
    return DATASETS.build(dict(type='MeteoProductDataset', charts=charts, **kwargs))


def test_dataset_items_and_collate(chart_root):
    from vtt.datasets import product_collate
    data = product_dataset(chart_root)
    assert len(data) == 12  # charts with a product only
    item = data[1]
    samples = item['data_samples']
    record = data.charts.records[1]
    assert samples['elements'] == record['labels'] and samples['answer'] == record['product']
    assert samples['candidates'][0] == element_overlap_choice(record['labels'], data.vocab)
    assert samples['candidate_names'][0] == data.vocab.product_names[samples['candidates'][0]]
    assert samples['element_names'][0] == ELEMENTS[samples['elements'][0]][1]  # English
    batch = product_collate([data[0], data[1]])
    assert batch['inputs'].shape == (2, 3, 64, 64) and batch['data_samples']['label'].dtype \
        == torch.long
    assert batch['data_samples']['candidates'][1] == samples['candidates']
    assert data.train_statistics()['candidate_recall']['recall'] == 1.0


def test_detected_elements_file(chart_root, tmp_path):
    data = product_dataset(chart_root)
    lines = [json.dumps(dict(path=r['rel_path'], elements=[{'id': 'wind', 'score': 0.9}]))
             for r in data.charts.records]
    good = tmp_path / 'detected.jsonl'
    good.write_text('\n'.join(lines) + '\n')
    detected = product_dataset(chart_root, elements_from='detected', detected_file=str(good))
    assert detected[0]['data_samples']['elements'] == ['wind']
    assert detected.candidate_recall()['recall'] < 1.0  # wind alone misses most products
    (tmp_path / 'short.jsonl').write_text(lines[0] + '\n')
    with pytest.raises(DataFormatError, match='no prediction for 11 images'):
        product_dataset(chart_root, elements_from='detected',
                        detected_file=str(tmp_path / 'short.jsonl'))
    (tmp_path / 'bad.jsonl').write_text(lines[0] + '\n' + json.dumps(
        dict(path='x.png', elements=[{'id': 'snow'}])) + '\n')
    with pytest.raises(DataFormatError, match=r'bad.jsonl line 2: .*unknown element'):
        product_dataset(chart_root, elements_from='detected',
                        detected_file=str(tmp_path / 'bad.jsonl'))
    with pytest.raises(ConfigError, match='detected_file'):
        product_dataset(chart_root, elements_from='detected')


def test_ranking_metric_reports_the_baseline_and_consistency(chart_root):
    from vtt.registry import METRICS
    data = product_dataset(chart_root)
    metric = METRICS.build(dict(type='CandidateRankingMetric', fit_temperature=True))
    metric.dataset_meta = data.metainfo
    predictions = []
    for i in range(len(data)):
        samples = data[i]['data_samples']
        k = len(samples['candidates'])
        scores = torch.arange(k, 0, -1).float()  # the filter's order: the baseline's choice
        predictions.append(dict(pred_scores=scores, pred_probs=scores.softmax(-1),
                                candidate_labels=samples['candidate_labels'],
                                gt_label=samples['label'], elements=samples['elements'],
                                pred_product=samples['candidates'][0], latency_s=0.5,
                                tokens=10))
    metric.process({}, predictions)
    out = metric.evaluate(len(data))
    assert out['product/top1'] == pytest.approx(out['product/overlap_baseline_top1'])
    assert out['product/element_consistency'] == 1.0
    assert out['product/tokens_per_s'] == pytest.approx(20.0)
    assert out['product/temperature'] > 0 and 0 <= out['product/ece_fitted'] <= 1
    assert 'product/visual_head_top1' not in out  # no product head, no such number
    # a product head's own choice among the candidates: right on the first 3 images only
    metric = METRICS.build(dict(type='CandidateRankingMetric'))
    metric.dataset_meta = data.metainfo
    metric.process({}, [dict(p, visual_head_label=p['gt_label'] if i < 3 else -1)
                        for i, p in enumerate(predictions)])
    assert metric.evaluate(len(data))['product/visual_head_top1'] == pytest.approx(3 / len(data))


def test_set_epoch_makes_a_resumed_dataset_draw_what_an_uninterrupted_one_draws(chart_root):
    from types import SimpleNamespace

    from vtt.registry import HOOKS
    running = product_dataset(chart_root, train=True, seed=0)
    for epoch in range(2):  # an uninterrupted run: two epochs of draws
        running.set_epoch(epoch)  # a no-op here: the counter is already there
        drawn = [running.candidates_of(i) for i in range(len(running))]
    resumed = product_dataset(chart_root, train=True, seed=0)  # a fresh process at epoch 1
    hook = HOOKS.build(dict(type='DatasetEpochHook'))
    hook.before_train_epoch(SimpleNamespace(epoch=1, train_dataloader=SimpleNamespace(
        dataset=resumed)))
    assert [resumed.candidates_of(i) for i in range(len(resumed))] == drawn
    fresh = product_dataset(chart_root, train=True, seed=0)  # without the epoch: other draws
    assert [fresh.candidates_of(i) for i in range(len(fresh))] != drawn


def test_vocabulary_allows_required_plus_optional_elements_only(vocab):
    assert vocab.allows('surface_pressure', {'pressure'})
    assert vocab.allows('surface_pressure', {'pressure', 'front'})  # front is optional
    assert not vocab.allows('surface_pressure', {'pressure', 'wind'})  # wind is not
    assert not vocab.allows('surface_analysis', {'pressure'})  # front is required


def test_charts_only_the_image_decides_and_balanced_draws_of_them(chart_root):
    from vtt.registry import DATA_SAMPLERS
    data = product_dataset(chart_root, train=True, seed=0)
    # surface_pressure or surface_analysis; 850 hPa wind+temperature or 500 hPa height+wind;
    # then charts one product fits (satellite_ir allows no typhoon_track)
    data.elements = [['pressure', 'front'], ['height', 'wind', 'temperature'], ['pressure'],
                     ['typhoon_track', 'satellite_cloud'], ['wind', 'temperature']] + \
        [['radar_echo']] * (len(data) - 5)
    classes = data.sample_classes()
    assert classes.dtype.kind == 'i' and classes.tolist() == [1, 1] + [0] * (len(data) - 2)
    # ClassBalancedSampler draws the two kinds about equally often (2 of 12 charts here)
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', dataset=data, seed=0))
    draws = [i for epoch in range(20) for i in (sampler.set_epoch(epoch) or sampler)]
    share = sum(classes[i] for i in draws) / len(draws)
    assert len(draws) == 20 * len(data) and 0.4 < share < 0.6
