"""Candidate products from elements: the filter, hard negatives, the baseline, recall."""
import random

import pytest

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
from vtt.utils.errors import ConfigError


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
