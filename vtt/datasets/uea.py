"""UEA/UCR time-series classification archives in the ``.ts`` format (the TimeMAE data).

A problem ``<name>`` is a pair of files ``<name>_TRAIN.ts`` / ``<name>_TEST.ts`` in ``data_root``.
With ``data_root=None`` the copies bundled inside the installed ``aeon`` package are used
(``aeon/datasets/data/<Name>/``; e.g. BasicMotions, JapaneseVowels, GunPoint), so these work
offline; :func:`bundled_uea_names` lists them. Files are parsed with aeon's own
``load_from_ts_file`` (install the ``uea`` extra: ``pip install -e ".[uea]"``).

Splits: ``'train'`` and ``'val'`` are a seeded stratified split of the TRAIN file,
``'trainval'`` is the whole TRAIN file and ``'test'`` the TEST file (never used for model
selection).

Series may be univariate or multivariate and of equal or unequal length. Every series is padded
at the end (or truncated) to ``max_length`` steps with ``pad_value``; a boolean mask marks the
valid steps. By default ``max_length`` is the longest series of the TRAIN file, and the test
split is padded to the longest TEST series where that is longer, so no test step is dropped.
Items are ``inputs: float32 [V, T]`` in raw units and
``data_samples: {label: int64 [], index: int, mask: bool [T]}``, so mmengine's
``default_collate`` gives ``inputs [B, V, T]`` and ``mask [B, T]``.
"""
import glob
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from vtt.registry import DATASETS
from vtt.utils.errors import DataFormatError

from .base import (
    BaseTimeSeriesDataset,
    encode_labels,
    load_once,
    sort_class_labels,
    stratified_split,
)

__all__ = ['UEADataset', 'bundled_uea_names', 'bundled_uea_root', 'load_ts_file']

UEA_SPLITS = ('train', 'val', 'trainval', 'test')


def _aeon_datasets():
    try:
        import aeon.datasets as aeon_datasets
    except ImportError as error:  # pragma: no cover - aeon is in the `uea` extra
        raise ImportError('UEADataset needs the aeon package to read .ts files: '
                          'pip install -e ".[uea]" (or pip install aeon)') from error
    return aeon_datasets


def bundled_uea_root() -> str:
    """The folder inside the installed aeon package that holds its bundled datasets."""
    return os.path.join(os.path.dirname(os.path.abspath(_aeon_datasets().__file__)), 'data')


def _is_classification_ts(path: str) -> bool:
    """Whether a .ts header declares class labels (``@classLabel true ...``)."""
    try:
        with open(path, encoding='utf-8') as handle:
            for line in handle:
                text = line.strip().lower()
                if text.startswith('@data'):
                    return False
                if text.startswith('@classlabel'):
                    return text.split()[1:2] == ['true']
    except OSError:
        return False
    return False


_BUNDLED: Optional[Dict[str, str]] = None


def _bundled_problems() -> Dict[str, str]:
    """``{name: folder}`` of the classification problems aeon bundles (TRAIN and TEST file)."""
    global _BUNDLED
    if _BUNDLED is None:
        found = {}
        root = bundled_uea_root()
        for train_file in sorted(glob.glob(os.path.join(root, '*', '*_TRAIN.ts'))):
            name = os.path.basename(train_file)[:-len('_TRAIN.ts')]
            folder = os.path.dirname(train_file)
            if (os.path.isfile(os.path.join(folder, f'{name}_TEST.ts'))
                    and _is_classification_ts(train_file)):
                found[name] = folder
        _BUNDLED = found
    return _BUNDLED


def bundled_uea_names() -> List[str]:
    """Names of the classification problems bundled with aeon (usable with ``data_root=None``).

    With aeon 1.6.0: ACSF1, ArrowHead, BasicMotions, Covid3Month_disc, GunPoint,
    ItalyPowerDemand, JapaneseVowels, JapaneseVowels_eq, OSULeaf, PickupGestureWiimoteZ,
    PickupGestureWiimoteZ_eq, UnitTest.
    """
    return sorted(_bundled_problems())


def load_ts_file(path: str) -> dict:
    """Read a classification ``.ts`` file with aeon's loader.

    Returns:
        dict: ``series`` (list of float64 arrays ``[V, T_i]``, one per case), ``labels``
        (list of str ``[N]``), ``meta`` (aeon's header metadata).

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: aeon cannot parse it, it has no class labels, or the cases have
            different numbers of variates.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'UEA file not found: {path}')
    aeon_datasets = _aeon_datasets()
    try:
        data, labels, meta = aeon_datasets.load_from_ts_file(path, return_meta_data=True)
    except Exception as error:  # aeon raises IOError/ValueError/... with its own message
        raise DataFormatError(f'{path}: cannot parse the .ts file ({type(error).__name__}: '
                              f'{error})') from None
    if not meta.get('classlabel', False):
        raise DataFormatError(f'{path}: the header declares no class labels (@classLabel false:'
                              ' a regression problem?); UEADataset reads classification files')
    if isinstance(data, np.ndarray):
        if data.ndim == 2:  # univariate squeezed by aeon
            data = data[:, None, :]
        series = [np.asarray(x, dtype=np.float64) for x in data]
    else:
        series = [np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in data]
    labels = [str(v).strip() for v in np.asarray(labels).tolist()]
    if len(series) == 0:
        raise DataFormatError(f'{path}: no cases after @data')
    if len(labels) != len(series):
        raise DataFormatError(f'{path}: {len(series)} cases but {len(labels)} labels')
    num_variates = series[0].shape[0]
    for i, x in enumerate(series):
        if x.shape[0] != num_variates:
            raise DataFormatError(f'{path}: case {i} has {x.shape[0]} variates, case 0 has '
                                  f'{num_variates}')
        if x.shape[1] == 0:
            raise DataFormatError(f'{path}: case {i} is an empty series')
    return dict(series=series, labels=labels, meta=meta)


def _fill_nan_1d(values: np.ndarray) -> np.ndarray:
    """Forward fill then backward fill the NaNs of a 1-D array (all-NaN stays NaN)."""
    valid = ~np.isnan(values)
    if valid.all() or not valid.any():
        return values
    index = np.where(valid, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled = values[index]  # forward fill; leading NaNs keep index 0 (NaN)
    first = int(np.flatnonzero(valid)[0])
    filled[:first] = values[first]  # backward fill of the leading gap
    return filled


def _check_finite(series: List[np.ndarray], path: str, name: str, file_split: str,
                  fill_nan: bool) -> List[np.ndarray]:
    """Fail on NaN/inf values (naming dataset, file, case and variate) or fill NaNs."""
    out = []
    for i, x in enumerate(series):
        if np.isinf(x).any():
            v, t = np.argwhere(np.isinf(x))[0]
            raise DataFormatError(f'{path}: dataset {name!r}, {file_split} file, sample {i} '
                                  f'(0-based case index), variate {v}, step {t}: infinite value')
        nan = np.isnan(x)
        if nan.any():
            if not fill_nan:
                v, t = np.argwhere(nan)[0]
                raise DataFormatError(
                    f'{path}: dataset {name!r}, {file_split} file, sample {i} (0-based case '
                    f'index), variate {v}, step {t}: missing/NaN value ({int(nan.sum())} in this '
                    'sample). Clean the file, or pass fill_nan=True to forward/backward fill '
                    'missing values per variate.')
            x = np.stack([_fill_nan_1d(row.copy()) for row in x])
            if np.isnan(x).any():
                v = int(np.flatnonzero(np.isnan(x).all(axis=1))[0])
                raise DataFormatError(f'{path}: dataset {name!r}, {file_split} file, sample {i}, '
                                      f'variate {v}: every value is missing, nothing to fill '
                                      'from')
        out.append(x)
    return out


def _pad(series: List[np.ndarray],
         max_length: int,
         pad_value: float,
         dtype: type = np.float32) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad at the end / truncate to ``max_length``.

    Returns:
        tuple: ``data`` ``[N, V, T]`` of ``dtype``, ``mask`` bool ``[N, T]``, ``lengths`` int64
        ``[N]`` (valid steps after truncation).
    """
    n, v = len(series), series[0].shape[0]
    data = np.full((n, v, max_length), pad_value, dtype=dtype)
    mask = np.zeros((n, max_length), dtype=bool)
    lengths = np.zeros(n, dtype=np.int64)
    for i, x in enumerate(series):
        length = min(x.shape[1], max_length)
        data[i, :, :length] = x[:, :length]
        mask[i, :length] = True
        lengths[i] = length
    return data, mask, lengths


@DATASETS.register_module()
class UEADataset(BaseTimeSeriesDataset):
    """A UEA/UCR classification problem read from ``<name>_TRAIN.ts`` / ``<name>_TEST.ts``.

    Args:
        name (str): Problem name, e.g. ``'BasicMotions'`` (the file prefix).
        data_root (str, optional): Folder holding the two ``.ts`` files. ``None`` uses the copy
            bundled with aeon (only some problems; see :func:`bundled_uea_names`).
        split (str): ``'train'``, ``'val'`` (seeded stratified split of the TRAIN file),
            ``'trainval'`` (the whole TRAIN file) or ``'test'`` (the TEST file).
        val_ratio (float): Fraction of the TRAIN file held out as ``'val'``. Defaults to 0.2.
        split_seed (int): ``random_state`` of the train/val split
            (:func:`vtt.datasets.stratified_split`; unstratified, with a warning, when a class
            is too small). Defaults to 42.
        max_length (int, optional): Steps every series of every split is padded (at the end)
            or truncated to. ``None`` (the default) pads ``'train'``, ``'val'`` and
            ``'trainval'`` to the longest series of the TRAIN file, and ``'test'`` to the
            longest series of either file, so no test series is truncated (the mask marks the
            valid steps). ``metainfo['max_length']`` is the length of this split.
        pad_value (float): Value of padded steps. Defaults to 0.0.
        fill_nan (bool): Missing values (``?``/``NaN`` in the file) are an error naming the
            dataset, file, sample and variate. With ``True`` they are forward-filled, then
            backward-filled, per variate and sample instead. Defaults to False.

    Labels are mapped to indices by the sorted unique labels of the TRAIN file (numeric labels
    sorted numerically); a TEST label unseen in TRAIN is an error.

    Items are dicts ``inputs: float32 [V, T]`` and
    ``data_samples: {label: int64 [], index: int (case index in its file), mask: bool [T]}``.
    """

    def __init__(self,
                 name: str,
                 data_root: Optional[str] = None,
                 split: str = 'train',
                 val_ratio: float = 0.2,
                 split_seed: int = 42,
                 max_length: Optional[int] = None,
                 pad_value: float = 0.0,
                 fill_nan: bool = False):
        if split not in UEA_SPLITS:
            raise ValueError(f'split must be one of {UEA_SPLITS}, got {split!r}')
        if not 0 <= float(val_ratio) < 1:
            raise ValueError(f'val_ratio must be in [0, 1), got {val_ratio!r}')
        if max_length is not None and (int(max_length) != max_length or max_length < 1):
            raise ValueError(f'max_length must be a positive integer or None, got '
                             f'{max_length!r}')
        self.name = str(name)
        self.split = split
        self.val_ratio = float(val_ratio)
        self.split_seed = split_seed
        self.pad_value = float(pad_value)
        self.fill_nan = fill_nan
        self.data_root = self._resolve_root(data_root)
        self.train_file = os.path.join(self.data_root, f'{self.name}_TRAIN{self.file_suffix}')
        self.test_file = os.path.join(self.data_root, f'{self.name}_TEST{self.file_suffix}')
        for path in (self.train_file, self.test_file):
            if not os.path.isfile(path):
                raise FileNotFoundError(self._missing_message(path, data_root))

        train = self._parse(self.train_file)
        test = self._parse(self.test_file)
        train_series = _check_finite(train['series'], self.train_file, self.name, 'TRAIN',
                                     fill_nan)
        test_series = _check_finite(test['series'], self.test_file, self.name, 'TEST', fill_nan)
        num_variates = train_series[0].shape[0]
        if test_series[0].shape[0] != num_variates:
            raise DataFormatError(f'{self.test_file}: {test_series[0].shape[0]} variates, but '
                                  f'the TRAIN file has {num_variates}')

        self.classes = sort_class_labels(train['labels'])

        def unseen(i: int, label: str) -> str:
            return (f'{self.test_file}: sample {i} has label {label!r}, which never occurs in '
                    f'{self.train_file}; TRAIN classes are {self.classes}')

        train_labels = encode_labels(train['labels'], self.classes, unseen)
        test_labels = encode_labels(test['labels'], self.classes, unseen)
        self.num_variates = num_variates
        # The training splits (and their statistics) use the TRAIN file's length; the test
        # split may be longer so that no test step is dropped.
        self._train_length = (int(max_length) if max_length is not None else max(
            x.shape[1] for x in train_series))
        if max_length is None and split == 'test':
            self.max_length = max([self._train_length] + [x.shape[1] for x in test_series])
        else:
            self.max_length = self._train_length

        where = f'{self.train_file} (dataset {self.name!r})'
        splits = stratified_split(train_labels, (1 - self.val_ratio, self.val_ratio, 0),
                                  split_seed, unstratified_fallback=True, where=where)
        if len(splits['train']) == 0:  # needed by train_statistics() whatever the split
            raise DataFormatError(f'{where}: cannot split {len(train_labels)} training cases '
                                  f'with val_ratio={self.val_ratio}: no case left for training')
        if split == 'test':
            series, labels = test_series, test_labels
            self.indices = np.arange(len(series))
        else:
            series, labels = train_series, train_labels
            self.indices = dict(train=splits['train'], val=splits['val'],
                                trainval=splits['all'])[split]
        if len(self.indices) == 0:
            raise DataFormatError(f'{self.train_file}: the {split} split is empty '
                                  f'(val_ratio={self.val_ratio}, {len(series)} cases)')
        data, mask, lengths = _pad([series[i] for i in self.indices], self.max_length,
                                   self.pad_value)
        self.data = torch.from_numpy(data)
        self.mask = torch.from_numpy(mask)
        self.lengths = torch.from_numpy(lengths)
        self.labels = torch.from_numpy(labels[self.indices])
        # Kept for train_statistics(): the TRAIN series and labels of the 'train' split.
        self._stat_series = [train_series[i] for i in splits['train']]
        self._stat_labels = train_labels[splits['train']]

    #: File name ending of ``<name>_TRAIN`` / ``<name>_TEST``.
    file_suffix = '.ts'

    def _parse(self, path: str) -> dict:
        """``dict(series=[float64 [V, T_i]], labels=[str])`` of one file, parsed once."""
        return load_once(load_ts_file, path)

    def _resolve_root(self, data_root: Optional[str]) -> str:
        if data_root is not None:
            return str(data_root)
        bundled = _bundled_problems()
        if self.name not in bundled:
            close = [n for n in bundled if n.lower() == self.name.lower()]
            hint = f' Did you mean {close[0]!r}?' if close else ''
            raise FileNotFoundError(
                f'UEA dataset {self.name!r} is not bundled with aeon (bundled: '
                f'{sorted(bundled)}).{hint} Download <name>_TRAIN.ts / <name>_TEST.ts from '
                'https://timeseriesclassification.com and set data_root to their folder.')
        return bundled[self.name]

    def _missing_message(self, path: str, data_root: Optional[str]) -> str:
        if data_root is None:
            return f'UEA file not found: {path} (the aeon installation looks incomplete)'
        return (f'UEA file not found: {path}. Put {self.name}_TRAIN.ts and {self.name}_TEST.ts '
                f'in data_root (now {data_root!r}), or set data_root=None to use the copies '
                f'bundled with aeon, which has only {bundled_uea_names()}.')

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), num_variates=self.num_variates,
                    max_length=self.max_length, name=self.name)

    def _train_arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``'train'`` split in float64, at the training length (steps beyond an explicit
        ``max_length`` do not count)."""
        data, mask, _ = _pad(self._stat_series, self._train_length, self.pad_value, np.float64)
        return data, self._stat_labels, mask
