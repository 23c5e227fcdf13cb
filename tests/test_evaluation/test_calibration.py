"""Top-k, ECE and temperature scaling over ragged candidate lists."""
import logging
import math

import pytest
import torch

from vtt.evaluation.metrics import (
    calibration,
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    top_k_accuracy,
)

INF = float('-inf')


def test_top_k_counts_misses_as_wrong_and_ignores_padding():
    scores = torch.tensor([[3.0, 2.0, 1.0, INF],
                           [1.0, 2.0, 3.0, 4.0],
                           [5.0, INF, INF, INF],
                           [1.0, 2.0, INF, INF]])
    targets = torch.tensor([0, 0, 0, -1])  # ranks 0, 3, 0, not a candidate
    out = top_k_accuracy(scores, targets, ks=(1, 3, 5))
    assert out == {'top1': 0.5, 'top3': 0.5, 'top5': 0.75}


def test_ece_by_hand():
    # two rows at confidence 0.9 (one right), one at 0.6 (right): bins (0.8, 0.867] ... use
    # the definition: |0.5 - 0.9| * 2/3 + |1 - 0.6| * 1/3
    probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    targets = torch.tensor([0, 1, 1])
    assert expected_calibration_error(probs, targets) == pytest.approx(0.4 * 2 / 3 + 0.4 / 3)
    perfect = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(perfect, torch.tensor([0, 1])) == pytest.approx(0.0)


def test_temperature_scaling_recovers_the_generating_temperature_and_lowers_ece():
    # logits drawn from a softmax at temperature 1, then shown 4x too sharp
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4000, 6, generator=gen) * 2
    targets = torch.multinomial(logits.softmax(-1), 1, generator=gen).squeeze(1)
    sharp = logits * 4
    sharp[:100, 4:] = INF  # some rows with fewer candidates
    targets[:100] = targets[:100].clamp(max=3)
    t = fit_temperature(sharp, targets)
    assert t == pytest.approx(4.0, rel=0.1)
    before = calibration_report(sharp, targets)
    after = calibration_report(sharp, targets, temperature=t)
    assert after['ece'] < before['ece'] / 3
    assert after['top1'] == before['top1']  # scaling never changes the ranking


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r'\[N, K\]'):
        top_k_accuracy(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match='no candidate'):
        top_k_accuracy(torch.full((1, 2), INF), torch.tensor([0]))
    with pytest.raises(ValueError, match='column'):
        top_k_accuracy(torch.zeros(1, 2), torch.tensor([2]))
    assert fit_temperature(torch.zeros(2, 2), torch.tensor([-1, -1])) == 1.0
    assert math.isnan(expected_calibration_error(torch.zeros(0, 2), torch.zeros(0)))


def test_a_split_ranked_all_right_keeps_temperature_one_with_a_warning(monkeypatch):
    said = []
    monkeypatch.setattr(calibration, 'print_log',
                        lambda msg, **kw: said.append((msg, kw.get('level'))))
    # every true candidate first (or tied first): NLL falls as T -> 0, no minimiser; L-BFGS
    # would return whatever small T its line search reached
    scores = torch.tensor([[2.0, 0.0, INF], [0.5, 1.0, -1.0], [1.0, 1.0, 0.0], [3.0, INF, INF]])
    targets = torch.tensor([0, 1, 0, 0])
    t = fit_temperature(scores, targets, max_iter=200)
    assert t == 1.0
    assert len(said) == 1 and said[0][1] == logging.WARNING
    assert 'no candidate scores above the true one in any of the 3 rows' in said[0][0]
    # one mistake gives a finite best temperature, fitted as before: the NLL is flat there
    mixed = torch.cat([scores, torch.tensor([[0.0, 2.0, INF]])])
    mixed_targets = torch.cat([targets, torch.tensor([0])])
    t = fit_temperature(mixed, mixed_targets)
    assert 0.01 < t < 100 and t != 1.0
    nll = [torch.nn.functional.cross_entropy(mixed / s, mixed_targets).item()
           for s in (t * 0.9, t, t * 1.1)]
    assert nll[1] <= min(nll[0], nll[2])
    assert len(said) == 1
    # rows with a single candidate only: nothing to fit, and nothing to warn about
    assert fit_temperature(torch.tensor([[1.0, INF]]), torch.tensor([0])) == 1.0
    assert len(said) == 1
