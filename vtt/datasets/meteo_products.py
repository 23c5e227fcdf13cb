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
definitions come from ``labels.yaml``. :class:`MeteoProductDataset` serves the product stage's
examples (image, elements, candidates, answer) and :func:`product_collate` batches them.
"""
import json
import os.path as osp
import random
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from vtt.registry import DATASETS, FUNCTIONS
from vtt.utils.errors import ConfigError, DataFormatError
from vtt.utils.io import read_text

__all__ = [
    'element_match', 'jaccard', 'product_candidates', 'hard_negatives', 'training_candidates',
    'element_overlap_choice', 'candidate_recall', 'element_consistency', 'element_names',
    'product_names', 'load_detected_elements',
    'MeteoProductDataset', 'product_collate'
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


def element_names(element_ids: Iterable[str], vocab, field: str = 'en') -> List[str]:
    """How the prompt names elements: their ``field`` (``'en'``, ``'zh'``) in the vocabulary,
    or the id (``field='id'``, or when that name is empty)."""
    if field == 'id':
        return list(element_ids)
    return [vocab.element_info[e].get(field) or e for e in element_ids]


def product_names(product_ids: Iterable[str], vocab, field: str = 'zh') -> List[str]:
    """How the prompt names products: their ``zh`` name in the vocabulary (``field='zh'``) or
    the id (``field='id'``)."""
    if field == 'id':
        return list(product_ids)
    return [vocab.product_names.get(p, p) for p in product_ids]


def load_detected_elements(path: str, vocab) -> Dict[str, List[str]]:
    """The element stage's predictions: ``tools/meteo/infer.py``'s JSON lines (``{"path":
    ..., "elements": [{"id": ...}, ...]}``) -> ``{path: [element id, ...]}``. Records the
    gate rejected (no ``elements`` key) map to an empty list."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'detected-elements file not found: {path} (write it with '
                                f'tools/meteo/infer.py FOLDER --gate ... --elements ... --out)')
    out = {}
    for number, line in enumerate(read_text(path).split('\n'), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            elements = record.get('elements') or []
            if not isinstance(elements, list):
                raise TypeError('field "elements" must be a list')
            ids = [e['id'] if isinstance(e, dict) else e for e in elements]
            key = record['path']
            if not isinstance(key, str) or not key:
                raise TypeError('field "path" must be a non-empty string')
            if not all(isinstance(e, str) for e in ids):
                raise TypeError('every element id must be a string')
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataFormatError(f'{path} line {number}: expected {{"path": ..., '
                                  f'"elements": [{{"id": ...}}]}}: {error}') from None
        unknown = [e for e in ids if e not in vocab.element_info]
        if unknown:
            raise DataFormatError(f'{path} line {number}: field "elements" has unknown '
                                  f'element ids {unknown} (not in {vocab.path})')
        out[osp.normpath(key)] = ids
    return out


@DATASETS.register_module()
class MeteoProductDataset(Dataset):
    """Examples of the product stage: a chart, its elements, candidate products and the answer.

    Wraps a chart dataset of the ``'product'`` task (:class:`MeteoChartDataset` or
    :class:`SyntheticMeteoChartDataset`, built from ``charts``) and adds to every item::

        elements            the element ids shown to the model: ground truth
                            (elements_from='truth') or the element stage's predictions
                            (elements_from='detected', read from detected_file)
        candidates          product ids: the half-match filter's candidates for those elements
                            (threshold), plus in training the hard negatives of the answer and
                            the answer itself, shuffled (train=True); in evaluation the filter's
                            list as ranked (the answer may be missing: then it cannot be chosen)
        element_names       display names of the elements (name_field: 'en', 'zh' or 'id')
        candidate_names     display names of the candidates (product_field: 'zh' or 'id')
        answer              the true product id; label its index in the vocabulary

    Items: ``{'inputs': float32 [3, H, W] in [0, 1], 'data_samples': {'label': int, 'index':
    int, 'path': str, 'elements': [...], 'element_names': [...], 'candidates': [...],
    'candidate_names': [...], 'candidate_labels': [...], 'answer': str}}``; batch them with
    ``collate_fn=dict(type='vtt.product_collate')`` (the scope prefix is needed: mmengine's
    runner looks collate functions up in its root registry).

    Args:
        charts (dict): The chart dataset config (its ``task`` is set to ``'product'``).
        train (bool): Training examples (hard negatives, answer always present, shuffled).
        elements_from (str): ``'truth'`` or ``'detected'``. Defaults to ``'truth'``.
        detected_file (str, optional): JSON lines of ``tools/meteo/infer.py`` (paths relative
            to the chart folder, as it writes them) for ``elements_from='detected'``.
        threshold (float): The candidate filter's minimum element match. Defaults to 0.5.
        negative_range (tuple, optional): Jaccard range of hard negatives (training).
            Defaults to (0.3, 0.8); None: no hard negatives.
        max_candidates (int, optional): Cap on training candidates (answer kept).
        name_field (str): How elements are named in the prompt. Defaults to ``'en'``.
        product_field (str): How products are named. Defaults to ``'zh'`` (``labels.yaml``'s
            product name; ``'id'`` for the id).
        seed (int, optional): Seeds the training shuffles per (seed, index, draw); None: fresh
            randomness.
    """

    def __init__(self, charts: dict, train: bool = False, elements_from: str = 'truth',
                 detected_file: Optional[str] = None, threshold: float = 0.5,
                 negative_range: Optional[Sequence[float]] = (0.3, 0.8),
                 max_candidates: Optional[int] = None, name_field: str = 'en',
                 product_field: str = 'zh', seed: Optional[int] = None):
        if elements_from not in ('truth', 'detected'):
            raise ConfigError(f"elements_from must be 'truth' or 'detected', got "
                              f'{elements_from!r}')
        if name_field not in ('en', 'zh', 'id') or product_field not in ('zh', 'id'):
            raise ConfigError(f"name_field must be 'en', 'zh' or 'id' and product_field 'zh' "
                              f"or 'id'; got {name_field!r}, {product_field!r}")
        _check_threshold(threshold)
        self.charts = DATASETS.build(dict(charts, task='product'))
        self.vocab = self.charts.vocab
        self.train, self.threshold = train, threshold
        self.negative_range = tuple(negative_range) if negative_range is not None else None
        self.max_candidates, self.seed = max_candidates, seed
        self.name_field, self.product_field = name_field, product_field
        self._draws = 0
        if elements_from == 'detected':
            if detected_file is None:
                raise ConfigError("elements_from='detected' needs detected_file (the JSON lines "
                                  'tools/meteo/infer.py writes)')
            detected = load_detected_elements(detected_file, self.vocab)
            missing = [r['rel_path'] for r in self.charts.records
                       if osp.normpath(r['rel_path']) not in detected]
            if missing:
                raise DataFormatError(f'{detected_file}: no prediction for {len(missing)} '
                                      f'images of split {self.charts.split!r}, e.g. '
                                      f'{missing[:3]}')
            self.elements = [detected[osp.normpath(r['rel_path'])] for r in self.charts.records]
        else:
            self.elements = [list(r['labels']) for r in self.charts.records]

    @property
    def metainfo(self) -> dict:
        return dict(self.charts.metainfo, vocab_path=self.vocab.path)

    def __len__(self) -> int:
        return len(self.charts)

    def candidates_of(self, index: int) -> List[str]:
        record, elements = self.charts.records[index], self.elements[index]
        if not self.train:
            return [pid for pid, _ in product_candidates(elements, self.vocab, self.threshold)]
        if self.seed is None:
            rng = random.Random()
        else:
            self._draws += 1
            rng = random.Random(hash((self.seed, index, self._draws)))
        return training_candidates(record['product'], elements, self.vocab, self.threshold,
                                   self.negative_range, self.max_candidates, rng)

    def set_epoch(self, epoch: int) -> None:
        """Put the draw counter where an uninterrupted run has it at the start of ``epoch``
        (each training epoch draws once per item), so a resumed run samples the same
        candidates; called by :class:`vtt.engine.hooks.DatasetEpochHook`."""
        self._draws = int(epoch) * len(self)

    def image_decides(self, index: int) -> bool:
        """Whether only the image can tell this chart's product: its elements are consistent
        with more than one product (each has all its required elements on the chart and allows
        the others as optional; :meth:`MeteoVocabulary.allows`), so the elements as text name
        several answers."""
        return sum(self.vocab.allows(pid, self.elements[index])
                   for pid in self.vocab.products) > 1

    def sample_classes(self) -> np.ndarray:
        """``int64 [N]``: 1 for the charts whose product only the image decides
        (:meth:`image_decides`), 0 for those the elements already decide. With
        ``ClassBalancedSampler`` half the training draws are then charts that make the model
        look at the image (on the demo charts they are about one in six)."""
        return np.array([int(self.image_decides(i)) for i in range(len(self))], dtype=np.int64)

    def train_statistics(self) -> dict:
        """The chart dataset's ``class_counts`` (images per product) and ``num_samples``, plus
        how often the filter keeps the answer on this split (``candidate_recall``)."""
        return dict(self.charts.train_statistics(), candidate_recall=self.candidate_recall())

    def candidate_recall(self) -> Dict[str, float]:
        """How often the true product survives the filter on this split (see
        :func:`candidate_recall`)."""
        return candidate_recall(self.charts.records, self.elements, self.vocab, self.threshold)

    def __getitem__(self, index: int) -> dict:
        item = self.charts[index]
        record = self.charts.records[index]
        elements = [e for e in self.vocab.elements if e in set(self.elements[index])]
        candidates = self.candidates_of(index)
        samples = dict(item['data_samples'])
        samples.update(
            elements=elements, element_names=element_names(elements, self.vocab, self.name_field),
            candidates=candidates,
            candidate_names=product_names(candidates, self.vocab, self.product_field),
            candidate_labels=[self.vocab.products.index(p) for p in candidates],
            answer=record['product'],
            answer_name=product_names([record['product']], self.vocab, self.product_field)[0])
        return dict(inputs=item['inputs'], data_samples=samples)


@FUNCTIONS.register_module()
def product_collate(batch: Sequence[dict]) -> dict:
    """Batch :class:`MeteoProductDataset` items: ``inputs`` stacked ``[B, 3, H, W]``;
    ``data_samples`` a dict of per-sample lists (candidate lists differ in length), with
    ``label`` as an ``int64 [B]`` tensor."""
    inputs = default_collate([item['inputs'] for item in batch])
    keys = batch[0]['data_samples'].keys()
    samples = {key: [item['data_samples'][key] for item in batch] for key in keys}
    samples['label'] = torch.as_tensor(samples['label'], dtype=torch.long)
    return dict(inputs=inputs, data_samples=samples)
