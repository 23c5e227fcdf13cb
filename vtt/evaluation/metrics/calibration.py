"""Calibration of scores over a variable candidate list: ECE, temperature scaling, top-k.

The product stage turns each candidate's log-likelihood into a probability with a softmax over
that image's candidates. Scores come as a padded ``float [N, K]`` tensor in which a
non-candidate slot holds ``-inf`` (so images may have different numbers of candidates), and
``targets`` as ``int64 [N]`` the true candidate's column, or -1 when the true product is not
among the candidates (it then counts as wrong at every k, and is left out of the temperature
fit, which has nothing to put probability on).

Written here rather than taken from a library: torchmetrics' calibration error and the usual
temperature-scaling code assume one fixed class set per batch, not a ragged candidate list
with misses; both are a few lines.
"""
from typing import Dict, Sequence

import torch

__all__ = ['candidate_probabilities', 'expected_calibration_error', 'fit_temperature',
           'top_k_accuracy', 'calibration_report']


def _check(scores: torch.Tensor, targets: torch.Tensor):
    scores = torch.as_tensor(scores, dtype=torch.float64)
    targets = torch.as_tensor(targets, dtype=torch.long)
    if scores.dim() != 2 or targets.shape != scores.shape[:1]:
        raise ValueError(f'scores must be [N, K] and targets [N], got {tuple(scores.shape)} and '
                         f'{tuple(targets.shape)}')
    if bool(((targets < -1) | (targets >= scores.shape[1])).any()):
        raise ValueError(f'targets must be -1 or a column of scores (0..{scores.shape[1] - 1})')
    if bool(torch.isinf(scores).all(1).any()):
        raise ValueError('a row of scores has no candidate (all -inf); drop it first')
    return scores, targets


def candidate_probabilities(scores, temperature: float = 1.0) -> torch.Tensor:
    """``softmax(scores / temperature)`` over each row's candidates (``-inf`` slots get 0)."""
    scores = torch.as_tensor(scores, dtype=torch.float64)
    return (scores / temperature).softmax(-1)


def expected_calibration_error(probs, targets, bins: int = 15) -> float:
    """ECE with ``bins`` equal-width confidence bins (Guo et al. 2017): the bin-size-weighted
    mean of |accuracy - mean confidence|, confidence being the top probability."""
    probs, targets = torch.as_tensor(probs, dtype=torch.float64), torch.as_tensor(targets)
    if len(targets) == 0:
        return float('nan')
    confidence, predicted = probs.max(-1)
    correct = (predicted == targets).double()
    # bin b holds confidences in (b/bins, (b+1)/bins]; confidence 0 joins the first bin
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1
    ece = torch.zeros((), dtype=torch.float64)
    for b in range(bins):
        inside = index == b
        if inside.any():
            ece += inside.double().mean() * (correct[inside].mean() -
                                             confidence[inside].mean()).abs()
    return float(ece)


def fit_temperature(scores, targets, max_iter: int = 100) -> float:
    """The temperature ``T > 0`` minimising the negative log-likelihood of ``softmax(scores /
    T)`` on (validation) rows whose true product is a candidate; 1.0 when there are none.

    Optimises ``log T`` with L-BFGS (a one-parameter convex-in-practice problem)."""
    scores, targets = _check(scores, targets)
    keep = targets >= 0
    if not keep.any():
        return 1.0
    scores, targets = scores[keep], targets[keep]
    padding = torch.isinf(scores)
    scores = scores.masked_fill(padding, 0.0)  # -inf / T would give NaN gradients
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=max_iter,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        logits = (scores / log_t.exp()).masked_fill(padding, -1e30)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(1e-3, 1e3))


def top_k_accuracy(scores, targets, ks: Sequence[int] = (1, 3, 5)) -> Dict[str, float]:
    """``{'top1': ..., 'top3': ...}``: share of rows whose true candidate ranks in the top k
    (a row whose truth is not a candidate, target -1, is wrong at every k)."""
    scores, targets = _check(scores, targets)
    order = scores.argsort(-1, descending=True)
    rank = torch.full_like(targets, torch.iinfo(torch.long).max)  # not a candidate
    hit = order == targets.clamp(min=0)[:, None]
    found = hit.any(-1) & (targets >= 0)
    rank[found] = hit[found].float().argmax(-1)
    return {f'top{k}': float((rank < k).double().mean()) for k in ks}


def calibration_report(scores, targets, temperature: float = 1.0,
                       bins: int = 15, ks: Sequence[int] = (1, 3, 5)) -> Dict[str, float]:
    """Top-k accuracies, ECE and mean confidence at ``temperature`` (1.0: the raw scores)."""
    scores, targets = _check(scores, targets)
    probs = candidate_probabilities(scores, temperature)
    out = top_k_accuracy(scores, targets, ks)
    out.update(ece=expected_calibration_error(probs, targets, bins),
               confidence=float(probs.max(-1).values.mean()), temperature=float(temperature))
    return out
