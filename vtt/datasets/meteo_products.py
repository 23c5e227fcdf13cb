"""Candidate products of a weather chart from its elements (stage 3 of the chart cascade).

The product stage never chooses among all products: it scores a short list of CANDIDATES, the
products whose required elements were mostly detected::

    match(E_det, p) = |E_det & E_p| / |E_p|          (E_p: p's required elements)
    candidates(E_det) = [p for p in products if match(E_det, p) >= 0.5], best match first

Training shows the model HARD NEGATIVES too: products whose element sets resemble the true
one's (Jaccard(E_true_product, E_q) in [0.3, 0.8]), so it learns to separate look-alikes.

The element-overlap baseline picks the candidate with the highest match (ties: the product
with more required elements, i.e. the most specific one, then vocabulary order); the product
classifier has to beat it.

Shapes are Python sets and lists; every function takes a :class:`MeteoVocabulary` so product
definitions come from ``labels.yaml``.
"""
import random
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from vtt.utils.errors import ConfigError

__all__ = [
    'element_match', 'jaccard', 'product_candidates', 'hard_negatives', 'training_candidates',
    'element_overlap_choice', 'candidate_recall', 'element_consistency'
]


def element_match(detected: Iterable[str], required: Iterable[str]) -> float:
    """``|detected & required| / |required|`` (1.0 for a product that requires nothing)."""
    required = set(required)
    if not required:
        return 1.0
    return len(set(detected) & required) / len(required)


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """``|a & b| / |a | b|`` (0.0 for two empty sets)."""
    a, b = set(a), set(b)
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f'the candidate threshold must lie in (0, 1], got {threshold}')


def product_candidates(detected: Iterable[str], vocab,
                       threshold: float = 0.5) -> List[Tuple[str, float]]:
    """Products whose element match reaches ``threshold``, as ``(product id, match)``.

    Ordered by match (highest first), then by the number of required elements (more specific
    first), then vocabulary order; this is also the element-overlap baseline's ranking.

    Args:
        detected: Element ids of the image (detected, or ground truth).
        vocab (MeteoVocabulary): Products and their required elements.
        threshold (float): Minimum match. Defaults to 0.5 (the plan's rule).
    """
    _check_threshold(threshold)
    detected = set(detected)
    scored = []
    for order, pid in enumerate(vocab.products):
        required = vocab.product_elements[pid]
        match = element_match(detected, required)
        if match >= threshold:
            scored.append((-match, -len(required), order, pid, match))
    return [(pid, match) for *_, pid, match in sorted(scored)]


def hard_negatives(product: str, vocab, low: float = 0.3, high: float = 0.8) -> List[str]:
    """Products other than ``product`` whose required-element sets have a Jaccard similarity
    with ``product``'s in ``[low, high]``, in vocabulary order."""
    if product not in vocab.product_elements:
        raise KeyError(f'unknown product {product!r} (not in {vocab.path})')
    if not 0.0 <= low <= high <= 1.0:
        raise ConfigError(f'hard-negative Jaccard range must satisfy 0 <= low <= high <= 1, '
                          f'got [{low}, {high}]')
    own = vocab.product_elements[product]
    return [q for q in vocab.products
            if q != product and low <= jaccard(own, vocab.product_elements[q]) <= high]


def training_candidates(product: str, detected: Iterable[str], vocab,
                        threshold: float = 0.5, negative_range: Optional[Sequence[float]] = (
                            0.3, 0.8), max_candidates: Optional[int] = None,
                        rng: Optional[random.Random] = None) -> List[str]:
    """The candidate list of one training example, shuffled.

    The filter's candidates for ``detected``, plus the hard negatives of ``product``
    (``negative_range``; None: none), plus ``product`` itself if the filter dropped it (the
    model must see the answer among the options to learn it). With ``max_candidates`` the
    true product is kept and the others are sampled down. The order is shuffled by ``rng``
    (so the answer's position carries no signal).
    """
    rng = rng or random.Random()
    names = [pid for pid, _ in product_candidates(detected, vocab, threshold)]
    if negative_range is not None:
        names += [q for q in hard_negatives(product, vocab, *negative_range) if q not in names]
    others = [q for q in names if q != product]
    if max_candidates is not None:
        if max_candidates < 1:
            raise ConfigError(f'max_candidates must be at least 1, got {max_candidates}')
        others = rng.sample(others, min(len(others), max_candidates - 1))
    chosen = others + [product]
    rng.shuffle(chosen)
    return chosen


def element_overlap_choice(detected: Iterable[str], vocab,
                           threshold: float = 0.5) -> Optional[str]:
    """The element-overlap baseline: the first of :func:`product_candidates` (None when no
    product passes the filter)."""
    ranked = product_candidates(detected, vocab, threshold)
    return ranked[0][0] if ranked else None


def candidate_recall(records: Sequence[dict], detected: Sequence[Iterable[str]], vocab,
                     threshold: float = 0.5) -> Dict[str, float]:
    """How often the true product survives the candidate filter.

    Args:
        records: Items with a ``'product'`` (the truth).
        detected: The element ids of each record (detected by the element stage, or truth).

    Returns:
        dict: ``recall`` (share of records whose product is a candidate), ``mean_candidates``,
        ``empty`` (share with no candidate at all), ``num_samples``.
    """
    if len(records) != len(detected):
        raise ValueError(f'{len(records)} records but {len(detected)} element sets')
    hits = sizes = empty = 0
    for record, elements in zip(records, detected):
        names = [pid for pid, _ in product_candidates(elements, vocab, threshold)]
        hits += record['product'] in names
        sizes += len(names)
        empty += not names
    n = max(len(records), 1)
    return dict(recall=hits / n, mean_candidates=sizes / n, empty=empty / n,
                num_samples=len(records))


def element_consistency(predicted: Sequence[Optional[str]], elements: Sequence[Iterable[str]],
                        vocab) -> float:
    """Share of predictions whose product's required elements are all among the image's
    elements (``elements``: ground truth, to judge a prediction; a missing prediction counts
    as inconsistent)."""
    if len(predicted) != len(elements):
        raise ValueError(f'{len(predicted)} predictions but {len(elements)} element sets')
    good = sum(p is not None and vocab.product_elements[p] <= set(e)
               for p, e in zip(predicted, elements))
    return good / max(len(predicted), 1)
