"""Top-k, ECE and temperature scaling over ragged candidate lists."""
import math

import pytest
import torch

from vtt.evaluation.metrics import (
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
