"""The weather-chart data contract (docs/research_lines/meteo.md) and its loader.

A chart collection is a folder::

    DATA_ROOT/
      images/        the image files
      labels.jsonl   one record per image:
                     {"path": "images/x.png", "is_meteo": 1, "labels": ["wind", "pressure"],
                      "product": "850hpa_pressure_wind", "split": "train", "source": "nmc"}
      logos/         watermark logos (PNG with alpha), used by the augmentations
      labels.yaml    the vocabulary: elements (id, zh, en, aliases) and products (id, zh,
                     elements, optional_elements)

``split`` and ``source`` are optional. A non-meteo image has ``is_meteo: 0`` and neither labels
nor a product. A meteo image's labels may use any alias, ``zh`` or ``en`` name of an element;
they are resolved to ids. A product's ``elements`` are required on every image of that product;
when ``optional_elements`` is given, no other element may appear on it.

Everything is validated before anything is used: :func:`load_meteo_annotations` reads the whole
file and raises ONE :class:`~vtt.utils.errors.DataFormatError` that lists every problem with its
file and line (bad JSON, missing or mistyped fields, unknown element or product, a product whose
elements disagree with the vocabulary, a duplicate path, a missing or unreadable image).
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import yaml
from PIL import Image
from torch.utils.data import Dataset

from vtt.registry import DATASETS, TRANSFORMS
from vtt.utils.errors import ConfigError, DataFormatError
from vtt.utils.io import read_text

from .base import stratified_split

__all__ = ['MeteoVocabulary', 'load_meteo_annotations', 'split_meteo_records', 'run_pipeline',
           'image_to_tensor',
           'MeteoChartDataset', 'SyntheticMeteoChartDataset']

#: How many problems one error message lists before it says "... and N more".
MAX_LISTED_PROBLEMS = 20
SPLITS = ('train', 'val', 'test')


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that records the line of every mapping under ``'__line__'``, so a
    problem in labels.yaml can be reported with its line (PyYAML keeps marks only on nodes)."""


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping['__line__'] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _raise_problems(path: str, problems: List[str]) -> None:
    if problems:
        listed = problems[:MAX_LISTED_PROBLEMS]
        more = len(problems) - len(listed)
        tail = f'\n  ... and {more} more' if more else ''
        raise DataFormatError(f'{path}: {len(problems)} problem(s); nothing was loaded:\n  '
                              + '\n  '.join(listed) + tail)


def _entry_id(entry: dict, name: str, seen, problems: List[str]):
    """``(where, id)`` of a vocabulary entry; id is None (and a problem recorded) when it is
    missing, not a string, or already used."""
    if not isinstance(entry, dict):
        problems.append(f'{name}: expected a mapping with an "id", got {entry!r:.60}')
        return name, None
    where = f'line {entry.get("__line__", "?")}: {name}'
    entry_id = entry.get('id')
    if not isinstance(entry_id, str) or not entry_id:
        problems.append(f'{where}: field "id" must be a non-empty string')
        return where, None
    if entry_id in seen:
        kind = name.split('[')[0][:-1]  # 'elements[3]' -> 'element'
        problems.append(f'{where}: duplicate {kind} id {entry_id!r}')
        return where, None
    return where, entry_id


class MeteoVocabulary:
    """Elements and products of ``labels.yaml``, validated.

    Attributes:
        elements (list[str]): Element ids in file order (the multi-label index order).
        products (list[str]): Product ids in file order (the product class order).
        element_info (dict): id -> ``{'zh', 'en', 'aliases'}``.
        product_elements (dict): product id -> required element ids (a frozenset).
        product_optional (dict): product id -> optional element ids, or None when the product
            does not restrict its other elements.
        product_names (dict): product id -> ``zh`` name (the id when none is given).
    """

    def __init__(self, elements: Sequence[dict], products: Sequence[dict],
                 path: str = 'labels.yaml'):
        self.path = path
        problems = []
        self.elements, self.element_info, self._names = [], {}, {}
        for i, entry in enumerate(elements):
            where, eid = _entry_id(entry, f'elements[{i}]', self.element_info, problems)
            if eid is None:
                continue
            aliases = entry.get('aliases') or []
            if not isinstance(aliases, list):
                problems.append(f'{where} ({eid}): field "aliases" must be a list')
                aliases = []
            self.elements.append(eid)
            self.element_info[eid] = dict(zh=entry.get('zh', ''), en=entry.get('en', ''),
                                          aliases=[str(a) for a in aliases])
            for name in [eid, entry.get('zh'), entry.get('en'), *aliases]:
                if not name:
                    continue
                key = str(name).strip().lower()
                if self._names.get(key, eid) != eid:
                    problems.append(f'{where} ({eid}): name or alias {name!r} already names '
                                    f'element {self._names[key]!r}')
                self._names.setdefault(key, eid)
        self.products, self.product_elements, self.product_optional = [], {}, {}
        self.product_names = {}
        for i, entry in enumerate(products):
            where, pid = _entry_id(entry, f'products[{i}]', self.product_elements, problems)
            if pid is None:
                continue
            sets = {}
            for field in ('elements', 'optional_elements'):
                value = entry.get(field)
                if value is None:
                    sets[field] = None
                    continue
                if not isinstance(value, list):
                    problems.append(f'{where} ({pid}): field {field!r} must be a list')
                    value = []
                resolved, _ = self.resolve_all(value, f'{where} ({pid}): field {field!r}',
                                               problems)
                sets[field] = frozenset(resolved)
            if not entry.get('elements'):
                problems.append(f'{where} ({pid}): field "elements" must list at least one '
                                f'element')
            self.products.append(pid)
            self.product_elements[pid] = sets['elements'] or frozenset()
            self.product_optional[pid] = sets['optional_elements']
            self.product_names[pid] = entry.get('zh') or pid
        if not self.elements:
            problems.append('no elements defined (top-level key "elements")')
        _raise_problems(path, problems)

    @classmethod
    def from_yaml(cls, path: str) -> 'MeteoVocabulary':
        """Read and validate ``labels.yaml``."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'vocabulary file not found: {path} (the data contract '
                                    f'needs labels.yaml with "elements" and "products")')
        text = read_text(path)
        try:
            content = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as error:
            raise DataFormatError(f'{path}: not valid YAML: {error}') from None
        if not isinstance(content, dict):
            raise DataFormatError(f'{path}: expected a mapping with keys "elements" and '
                                  f'"products"')
        for key in ('elements', 'products'):
            if not isinstance(content.get(key, []), list):
                raise DataFormatError(f'{path}: top-level key {key!r} must be a list')
        return cls(content.get('elements', []), content.get('products', []), path=path)

    def resolve(self, name) -> Optional[str]:
        """The element id that ``name`` (an id, alias, zh or en name; case-insensitive)
        denotes, or None."""
        return self._names.get(str(name).strip().lower())

    def resolve_all(self, names: Sequence, where: str, problems: List[str]):
        """``(ids, all_known)``: the element ids of ``names``; each unknown name adds a problem
        that starts with ``where``."""
        ids, known = set(), True
        for name in names:
            eid = self.resolve(name)
            if eid is None:
                known = False
                problems.append(f'{where} has unknown element {name!r} (not an id, alias, zh or '
                                f'en name in {self.path})')
            else:
                ids.add(eid)
        return ids, known

    def allows(self, product: str, element_ids) -> bool:
        """Whether a chart with exactly these elements can be ``product``: all its required
        elements are there and every other one is optional for it (any, when the product lists
        no ``optional_elements``). The rule labels.yaml's checks apply to every record."""
        elements = set(element_ids)
        optional = self.product_optional[product]
        return self.product_elements[product] <= elements and (
            optional is None or not elements - self.product_elements[product] - optional)

    def multi_hot(self, element_ids: Sequence[str]) -> torch.Tensor:
        """``float32 [L]``: 1 at the index of each element id, in :attr:`elements` order."""
        target = torch.zeros(len(self.elements))
        for eid in element_ids:
            target[self.elements.index(eid)] = 1.0
        return target


def _readable_image(path: str) -> Optional[str]:
    """None when Pillow can decode ``path``, else the reason."""
    try:
        with Image.open(path) as image:
            image.verify()
        return None
    except Exception as error:  # Pillow raises many types for broken files
        return f'{type(error).__name__}: {error}'


def load_meteo_annotations(ann_file: str, vocab: MeteoVocabulary,
                           data_root: Optional[str] = None,
                           check_images: bool = True) -> List[dict]:
    """Read and validate every record of ``labels.jsonl``.

    Args:
        ann_file (str): The JSON-lines file.
        vocab (MeteoVocabulary): The vocabulary the labels and products must come from.
        data_root (str, optional): Folder that image paths are relative to. Defaults to the
            folder of ``ann_file``.
        check_images (bool): Decode-check every image (a header-and-data check by Pillow,
            without loading pixels). Defaults to True.

    Returns:
        list[dict]: One dict per record, in file order: ``path`` (absolute), ``rel_path``,
        ``is_meteo`` (0/1), ``labels`` (element ids in vocabulary order), ``product`` (id or
        None), ``split`` and ``source`` (None when absent), ``line``.

    Raises:
        DataFormatError: listing every problem with its line; nothing is returned.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    data_root = data_root if data_root is not None else osp.dirname(osp.abspath(ann_file))
    problems, records, seen = [], [], {}
    for line_no, line in enumerate(read_text(ann_file).split('\n'), start=1):
        if not line.strip():
            continue
        where = f'line {line_no}'
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f'{where}: not valid JSON ({error.msg} at column {error.colno})')
            continue
        if not isinstance(item, dict):
            problems.append(f'{where}: expected a JSON object')
            continue
        path = item.get('path')
        if not isinstance(path, str) or not path:
            problems.append(f'{where}: field "path" must be a non-empty string')
            continue
        norm = osp.normpath(path)
        if norm in seen:
            problems.append(f'{where}: field "path" {path!r} duplicates line {seen[norm]}')
            continue
        seen[norm] = line_no
        is_meteo = item.get('is_meteo')
        if is_meteo not in (0, 1) or isinstance(is_meteo, bool):
            problems.append(f'{where}: field "is_meteo" must be 0 or 1, got {is_meteo!r}')
            continue
        raw_labels = item.get('labels') or []
        product = item.get('product')
        if not isinstance(raw_labels, list):
            problems.append(f'{where}: field "labels" must be a list')
            continue
        labels, known = vocab.resolve_all(raw_labels, f'{where}: field "labels"', problems)
        if is_meteo == 0 and (raw_labels or product):
            problems.append(f'{where}: a non-meteo image (is_meteo 0) must have no labels '
                            f'and no product')
        if product is not None and not isinstance(product, str):
            problems.append(f'{where}: field "product" must be a string or null, got '
                            f'{product!r:.60}')
        elif product is not None:
            if product not in vocab.product_elements:
                problems.append(f'{where}: field "product" {product!r} is not a product of '
                                f'{vocab.path}')
            elif known and is_meteo == 1:
                missing = vocab.product_elements[product] - labels
                if missing:
                    problems.append(f'{where}: product {product!r} requires element(s) '
                                    f'{sorted(missing)} (per {vocab.path}) but "labels" '
                                    f'lacks them')
                allowed = vocab.product_optional[product]
                if allowed is not None:
                    extra = labels - vocab.product_elements[product] - allowed
                    if extra:
                        problems.append(f'{where}: product {product!r} does not allow '
                                        f'element(s) {sorted(extra)} (per {vocab.path})')
        for field in ('split', 'source'):
            if item.get(field) is not None and not isinstance(item[field], str):
                problems.append(f'{where}: field {field!r} must be a string')
        if item.get('split') is not None and item['split'] not in SPLITS:
            problems.append(f'{where}: field "split" must be one of {SPLITS}, got '
                            f'{item["split"]!r}')
        full = osp.join(data_root, path)
        if not osp.isfile(full):
            problems.append(f'{where}: image {path!r} not found under {data_root}')
        elif check_images:
            reason = _readable_image(full)
            if reason:
                problems.append(f'{where}: image {path!r} is unreadable ({reason})')
        records.append(dict(path=full, rel_path=path, is_meteo=int(is_meteo),
                            labels=[e for e in vocab.elements if e in labels],
                            product=product, split=item.get('split'),
                            source=item.get('source'), line=line_no))
    if not records and not problems:
        problems.append('no records')
    _raise_problems(ann_file, problems)
    return records


def split_meteo_records(records: List[dict], split: str, split_by: str = 'stratified',
                        ratios: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0,
                        sources: Optional[Dict[str, Sequence[str]]] = None,
                        where: str = 'labels.jsonl') -> List[dict]:
    """The records of one split.

    Args:
        records (list[dict]): From :func:`load_meteo_annotations`.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        split_by (str): ``'field'`` (each record's ``split``; every record must have one),
            ``'source'`` (``sources`` maps each split to the sources it holds, so no source
            leaks across splits) or ``'stratified'`` (seeded, stratified by product, with
            non-meteo images as one more stratum). Defaults to ``'stratified'``.
        ratios (Sequence[float]): train/val/test fractions for ``'stratified'``.
        seed (int): Seed of the stratified split.
        sources (dict, optional): For ``'source'``: ``{'train': [...], 'val': [...],
            'test': [...]}``.
        where (str): The annotation file, for messages.
    """
    if split == 'all':
        return list(records)
    if split not in SPLITS:
        raise ConfigError(f'split must be one of {SPLITS} or "all", got {split!r}')
    if split_by == 'field':
        missing = [r['line'] for r in records if r['split'] is None]
        if missing:
            raise DataFormatError(f'{where}: split_by="field" needs a "split" on every record; '
                                  f'line(s) {missing[:10]} have none')
        return [r for r in records if r['split'] == split]
    if split_by == 'source':
        if not sources or split not in sources:
            raise ConfigError(f'split_by="source" needs sources={{"{split}": [...], ...}}')
        owners = {}
        for name, held in sources.items():
            for source in held:
                if source in owners:
                    raise ConfigError(f'source {source!r} is in both {owners[source]!r} and '
                                      f'{name!r}; a source must belong to one split')
                owners[source] = name
        unassigned = sorted({str(r['source']) for r in records if r['source'] not in owners})
        if unassigned:
            raise DataFormatError(f'{where}: records from source(s) {unassigned} belong to no '
                                  f'split of `sources`')
        return [r for r in records if owners[r['source']] == split]
    if split_by == 'stratified':
        strata = np.array([r['product'] or ('meteo' if r['is_meteo'] else 'negative')
                           for r in records])
        index = stratified_split(strata, ratios=ratios, seed=seed, unstratified_fallback=True,
                                 where=where)[split]
        return [records[i] for i in index]
    raise ConfigError(f'split_by must be "field", "source" or "stratified", got {split_by!r}')


def run_pipeline(transforms: Sequence, results: dict, seed=None) -> dict:
    """Apply ``transforms`` in order; with a ``seed``, their numpy randomness comes from it
    and the global random state is restored afterwards (repeatable val/test augmentation)."""
    if seed is None or not transforms:
        for transform in transforms:
            results = transform(results)
        return results
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return run_pipeline(transforms, results)
    finally:
        np.random.set_state(state)


def image_to_tensor(image) -> torch.Tensor:
    """An RGB PIL image (or an image tensor, returned as is) as ``float32 [3, H, W]`` in
    ``[0, 1]``."""
    if torch.is_tensor(image):
        return image
    array = np.asarray(image.convert('RGB'), dtype=np.uint8).copy()
    return torch.from_numpy(array).permute(2, 0, 1).float() / 255.0


@DATASETS.register_module()
class MeteoChartDataset(Dataset):
    """Weather-chart images of the data contract, for one task of the cascade.

    Tasks: ``'gate'`` (every image; target ``is_meteo``), ``'elements'`` (meteo images only;
    multi-hot target over the vocabulary's elements) and ``'product'`` (meteo images with a
    product; target the product's index).

    Args:
        data_root (str): The collection folder.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        task (str): ``'gate'``, ``'elements'`` or ``'product'``. Defaults to ``'gate'``.
        ann_file (str): Relative to ``data_root``. Defaults to ``'labels.jsonl'``.
        vocab_file (str): Relative to ``data_root`` (or absolute). Defaults to
            ``'labels.yaml'``.
        split_by, ratios, seed, sources: See :func:`split_meteo_records`.
        pipeline (list[dict | callable]): Transforms applied to ``{'img': PIL.Image (RGB),
            'data_root', 'is_meteo', 'labels', 'product', 'product_name'}`` (see
            :mod:`vtt.datasets.transforms`); the last must leave a ``float32 [3, H, W]``
            tensor or a PIL image in ``'img'``. The targets come from the record, never from
            the transformed results. Defaults to none (the image is converted to
            ``uint8 -> float32 [3, H, W]`` in ``[0, 1]``).
        check_images (bool): Decode-check every image when loading. Defaults to True.
        pipeline_seed (int, optional): Seed the random transforms per item with
            ``(pipeline_seed, index)``, so an augmented val/test split is the same at every
            evaluation and in every run (the global random state is restored afterwards).
            Defaults to None (training: fresh randomness every epoch).

    Items: ``{'inputs': float32 [3, H, W] in [0, 1], 'data_samples': {'label': ...,
    'index': int, 'is_meteo': int, 'path': str}}`` where ``label`` is a float (gate),
    ``float32 [L]`` multi-hot (elements) or an int (product); everything collates with
    PyTorch's default collate. The record itself (element ids, product) is
    ``dataset.records[index]``.
    """

    TASKS = ('gate', 'elements', 'product')

    def __init__(self, data_root: str, split: str = 'train', task: str = 'gate',
                 ann_file: str = 'labels.jsonl', vocab_file: str = 'labels.yaml',
                 split_by: str = 'stratified', ratios: Sequence[float] = (0.7, 0.15, 0.15),
                 seed: int = 0, sources: Optional[Dict[str, Sequence[str]]] = None,
                 pipeline: Optional[Sequence] = None, check_images: bool = True,
                 pipeline_seed: Optional[int] = None):
        if task not in self.TASKS:
            raise ConfigError(f'task must be one of {self.TASKS}, got {task!r}')
        self.data_root, self.split, self.task = data_root, split, task
        self._prepare(data_root)
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'data_root {data_root} not found: put the charts there in the meteo data '
                f'contract (images/, {ann_file}, {vocab_file}, logos/; see '
                f'docs/research_lines/meteo.md) or set the dataset\'s data_root')
        ann_path = osp.join(data_root, ann_file)
        self.vocab = MeteoVocabulary.from_yaml(osp.join(data_root, vocab_file))
        records = load_meteo_annotations(ann_path, self.vocab, data_root=data_root,
                                         check_images=check_images)
        records = split_meteo_records(records, split, split_by=split_by, ratios=ratios,
                                      seed=seed, sources=sources, where=ann_path)
        if task == 'elements':
            records = [r for r in records if r['is_meteo']]
        elif task == 'product':
            records = [r for r in records if r['is_meteo'] and r['product']]
        if not records:
            raise DataFormatError(f'{ann_path}: split {split!r} has no records for task '
                                  f'{task!r}')
        self.records = records
        self.pipeline = self._build_pipeline(pipeline or [])
        self.pipeline_seed = pipeline_seed

    def _prepare(self, data_root: str) -> None:
        """Hook for subclasses that create the data on first use."""

    @staticmethod
    def _build_pipeline(pipeline):
        return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]

    @property
    def metainfo(self) -> dict:
        classes = {'gate': ['other', 'meteo'], 'elements': list(self.vocab.elements),
                   'product': list(self.vocab.products)}[self.task]
        return dict(classes=classes, task=self.task)

    def __len__(self) -> int:
        return len(self.records)

    def target(self, record: dict):
        if self.task == 'gate':
            return float(record['is_meteo'])
        if self.task == 'elements':
            return self.vocab.multi_hot(record['labels'])
        return self.vocab.products.index(record['product'])

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        try:
            with Image.open(record['path']) as image:
                image = image.convert('RGB')
        except OSError as error:
            raise DataFormatError(f'{record["path"]} (labels.jsonl line {record["line"]}): '
                                  f'cannot read the image: {error}') from None
        product = record['product']
        results = dict(img=image, data_root=self.data_root, is_meteo=record['is_meteo'],
                       labels=list(record['labels']), product=product,
                       product_name=self.vocab.product_names.get(product) if product else None)
        seed = None if self.pipeline_seed is None else [int(self.pipeline_seed), int(index)]
        image = image_to_tensor(run_pipeline(self.pipeline, results, seed)['img'])
        return dict(inputs=image,
                    data_samples=dict(label=self.target(record), index=index,
                                      is_meteo=record['is_meteo'], path=record['rel_path']))

    def sample_classes(self) -> np.ndarray:
        """``int64 [N]``: the class of every item, for ``ClassBalancedSampler`` (gate:
        is_meteo; product: the product index). Multi-label elements have no single class."""
        if self.task == 'gate':
            return np.array([r['is_meteo'] for r in self.records], np.int64)
        if self.task == 'product':
            return np.array([self.vocab.products.index(r['product']) for r in self.records],
                            np.int64)
        raise ConfigError('the elements task is multi-label: it has no single class per '
                          'image to balance; use a loss weighting instead')

    def train_statistics(self) -> dict:
        """``class_counts`` of this split: ``[negatives, charts]`` (gate), images per product
        (product) or positives per element (elements), for class-balanced losses and
        samplers, and ``num_samples``."""
        if self.task == 'gate':
            positives = sum(r['is_meteo'] for r in self.records)
            counts = [len(self.records) - positives, positives]
        elif self.task == 'product':
            counts = [sum(r['product'] == p for r in self.records) for p in self.vocab.products]
        else:
            counts = [sum(e in r['labels'] for r in self.records) for e in self.vocab.elements]
        return dict(class_counts=counts, num_samples=len(self.records))


@DATASETS.register_module()
class SyntheticMeteoChartDataset(MeteoChartDataset):
    """:class:`MeteoChartDataset` on SYNTHETIC charts, generated on first use.

    If ``data_root`` holds no ``labels.jsonl`` the collection is generated there with
    :func:`vtt.datasets.synthetic.write_meteo_charts` (deterministic for its arguments, written
    atomically); then it is loaded exactly like a user's chart folder.

    Args:
        data_root (str): Where the generated collection lives.
        generator (dict, optional): Arguments of ``write_meteo_charts`` (``seed``,
            ``num_meteo``, ``num_negative``, ``size`` ...). Defaults to its defaults.
        **kwargs: Everything :class:`MeteoChartDataset` takes.
    """

    def __init__(self, data_root: str, generator: Optional[dict] = None, **kwargs):
        self.generator = dict(generator or {})
        super().__init__(data_root, **kwargs)

    def _prepare(self, data_root: str) -> None:
        from .synthetic import write_meteo_charts
        if osp.isfile(osp.join(data_root, 'labels.jsonl')):
            return
        try:
            write_meteo_charts(data_root, **self.generator)
        except OSError:
            # another process (a DDP rank, a parallel test) finished first
            if not osp.isfile(osp.join(data_root, 'labels.jsonl')):
                raise
