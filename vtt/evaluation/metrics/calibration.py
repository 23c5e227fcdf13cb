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
import logging
from typing import Dict, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from vtt.registry import METRICS

__all__ = ['candidate_probabilities', 'expected_calibration_error', 'fit_temperature',
           'top_k_accuracy', 'calibration_report', 'CandidateRankingMetric']


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

    Optimises ``log T`` with L-BFGS (a one-parameter convex-in-practice problem).

    When no such row scores another candidate above its true one (a separated split, e.g. a
    small validation split the model gets all right), the likelihood keeps rising as
    ``T -> 0`` and has no minimiser: the optimiser would stop at whatever tiny T its line
    search reached and make every later mistake a near-certain one. The split then says
    nothing about the right temperature, so this returns 1.0 (the raw log-likelihoods) and
    logs a warning instead. Rows with a single candidate carry no information (their
    probability is 1 at every T) and do not count either way."""
    scores, targets = _check(scores, targets)
    keep = targets >= 0
    if not keep.any():
        return 1.0
    scores, targets = scores[keep], targets[keep]
    padding = torch.isinf(scores)
    with_choice = int(((~padding).sum(1) > 1).sum())
    if not with_choice:
        return 1.0  # one candidate per row: probability 1 at every T, nothing to fit
    if _separated(scores, targets):
        print_log(f'fit_temperature: no candidate scores above the true one in any of the '
                  f'{with_choice} rows with a choice, so no finite '
                  f'temperature fits them best (the likelihood rises as T -> 0); keeping T = '
                  f'1.0. A split with some mistakes in it is needed to fit T.',
                  logger='current', level=logging.WARNING)
        return 1.0
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


def _separated(scores: torch.Tensor, targets: torch.Tensor) -> bool:
    """True when no row has a candidate scored above its target (ties included: a tied row's
    likelihood also only rises as ``T -> 0``), so that ``NLL(T)`` has no finite minimiser."""
    true = scores.gather(1, targets[:, None])[:, 0]
    others = scores.scatter(1, targets[:, None], float('-inf')).max(1).values
    return bool((true >= others).all())


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


@METRICS.register_module()
class CandidateRankingMetric(BaseMetric):
    """Ranking of candidate lists (the product stage): top-k, calibration, consistency, speed.

    Reads records with ``pred_scores [K]`` (log-likelihoods), ``pred_probs [K]`` (at the
    model's temperature), ``candidate_labels`` (vocabulary indices), ``gt_label``,
    ``pred_product``, ``elements`` (the element ids the model was shown), ``latency_s`` and
    ``tokens``. Reports (prefix ``product/`` by default):

    * ``top1``/``top3``/``top5``: the true product ranks in the top k of the candidates (an
      image whose product did not survive the candidate filter, or that has no candidate, is
      wrong at every k);
    * ``candidate_recall``: share of images whose true product is a candidate;
    * ``ece`` (raw scores, T = 1) and ``ece_scaled`` (``pred_probs``, the model's
      temperature) with ``bins`` bins, over images with candidates; with ``fit_temperature``
      (VALIDATION only) also ``temperature``, the T minimising the negative log-likelihood of
      this split, and ``ece_fitted`` at that T (:class:`TemperatureScalingHook` stores it in
      the model);
    * ``element_consistency``: share of images whose chosen product's required elements are
      all among the elements the model was shown, and ``overlap_baseline_top1``: the top-1 of
      the element-overlap baseline on the same elements (the most specific best-matching
      candidate; :func:`~vtt.datasets.meteo_products.element_overlap_choice`), the number the
      model has to beat (both need ``vocab_path`` in the dataset meta);
    * ``latency_s`` (mean per image) and ``tokens_per_s`` (prompt + candidate tokens);
    * ``visual_head_top1`` when the predictions carry ``visual_head_label`` (a model with a
      product head on its visual tokens): the top-1 of that head alone among the same
      candidates, i.e. what the image's belief chooses without the LM.

    Args:
        topk (tuple): The k of top-k. Defaults to (1, 3, 5).
        bins (int): ECE bins. Defaults to 15.
        fit_temperature (bool): Fit T on the evaluated split. Defaults to False.
    """

    default_prefix = 'product'

    def __init__(self, topk: Sequence[int] = (1, 3, 5), bins: int = 15,
                 fit_temperature: bool = False, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk, self.bins, self.fit = tuple(topk), bins, fit_temperature

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [k for k in ('pred_scores', 'candidate_labels', 'gt_label')
                       if k not in sample]
            if missing:
                raise KeyError(f'CandidateRankingMetric needs {missing} in the predictions '
                               f'(ChartProductClassifier writes them); got {sorted(sample)}')
            labels = list(sample['candidate_labels'])
            gt = int(sample['gt_label'])
            self.results.append(dict(
                scores=torch.as_tensor(sample['pred_scores'], dtype=torch.float64).cpu(),
                probs=torch.as_tensor(sample.get('pred_probs', []), dtype=torch.float64).cpu(),
                target=labels.index(gt) if gt in labels else -1, gt=gt,
                product=sample.get('pred_product'), elements=list(sample.get('elements', [])),
                latency=float(sample.get('latency_s', 0.0)),
                tokens=int(sample.get('tokens', 0)),
                head=sample.get('visual_head_label')))

    def _vocabulary_metrics(self, results) -> dict:
        """Element consistency and the element-overlap baseline (need the vocabulary)."""
        path = (self.dataset_meta or {}).get('vocab_path')
        if not path:
            return {}
        from vtt.datasets.meteo_charts import MeteoVocabulary
        from vtt.datasets.meteo_products import element_consistency, element_overlap_choice
        vocab = MeteoVocabulary.from_yaml(path)
        elements = [r['elements'] for r in results]
        baseline = [element_overlap_choice(e, vocab) for e in elements]
        truth = [vocab.products[r['gt']] for r in results]
        return dict(
            element_consistency=element_consistency([r['product'] for r in results], elements,
                                                    vocab),
            overlap_baseline_top1=sum(b == t for b, t in zip(baseline, truth)) / len(results))

    def compute_metrics(self, results: list) -> dict:
        width = max([len(r['scores']) for r in results] + [1])
        scores = torch.full((len(results), width), float('-inf'), dtype=torch.float64)
        probs = torch.zeros(len(results), width, dtype=torch.float64)
        for i, r in enumerate(results):
            if len(r['scores']):
                scores[i, :len(r['scores'])] = r['scores']
                probs[i, :len(r['probs'])] = r['probs']
            else:
                scores[i, 0] = 0.0  # no candidate: a placeholder that is never right
        targets = torch.tensor([r['target'] for r in results])
        out = top_k_accuracy(scores, targets, self.topk)
        out['candidate_recall'] = float((targets >= 0).double().mean())
        has = torch.tensor([len(r['scores']) > 0 for r in results])
        if has.any():
            raw = candidate_probabilities(scores[has])
            out['ece'] = expected_calibration_error(raw, targets[has], self.bins)
            out['ece_scaled'] = expected_calibration_error(probs[has], targets[has], self.bins)
            if self.fit:
                t = fit_temperature(scores[has], targets[has])
                out['temperature'] = t
                out['ece_fitted'] = expected_calibration_error(
                    candidate_probabilities(scores[has], t), targets[has], self.bins)
        out.update(self._vocabulary_metrics(results))
        latency = sum(r['latency'] for r in results)
        out['latency_s'] = latency / len(results)
        out['tokens_per_s'] = sum(r['tokens'] for r in results) / max(latency, 1e-9)
        if any(r['head'] is not None for r in results):
            out['visual_head_top1'] = sum(r['head'] is not None and int(r['head']) == r['gt']
                                          for r in results) / len(results)
        return out
