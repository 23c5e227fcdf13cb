"""What vtt's time-series classification datasets share.

* :func:`load_once` parses each data file once per process (the train, val and test datasets of
  one config read the same files),
* :func:`sort_class_labels` and :func:`encode_labels` map raw labels to class indices with one
  ordering rule,
* :func:`stratified_split` makes the seeded stratified train/val/test split,
* :class:`BaseTimeSeriesDataset` serves the items and computes :meth:`train_statistics`.

Every dataset holds ``data: float32 [N, V, T]`` (samples x variates x steps, raw units),
``labels: int64 [N]``, ``indices: int64 [N]`` (row of each sample in its file) and, for series
that may be padded, ``mask: bool [N, T]`` (True on valid steps).
"""
import math
import os
import warnings
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

from vtt.utils.errors import DataFormatError

__all__ = [
    'BaseTimeSeriesDataset', 'load_once', 'sort_class_labels', 'encode_labels',
    'stratified_split'
]

#: Parsed files kept by :func:`load_once` (least recently used first out).
LOAD_CACHE_SIZE = 16
_LOAD_CACHE: 'OrderedDict[tuple, object]' = OrderedDict()


def load_once(parser: Callable, path: str, **kwargs):
    """``parser(path, **kwargs)``, parsed once per process and file version.

    The result is cached under the parser, the absolute path, the file's modification time and
    size, and the keyword arguments (compared by ``repr``), so an edited file is parsed again.
    The cache keeps the :data:`LOAD_CACHE_SIZE` most recently used results.

    Args:
        parser (Callable): Reads ``path`` and returns the parsed content; it raises
            ``FileNotFoundError`` for a missing file (a missing file is never cached).
        path (str): The data file.
        **kwargs: Passed on to ``parser``.

    Returns:
        The (shared) result of ``parser``; callers must not modify it in place.
    """
    path = str(path)
    if not os.path.isfile(path):
        return parser(path, **kwargs)
    stat = os.stat(path)
    key = (parser, os.path.abspath(path), stat.st_mtime_ns, stat.st_size,
           tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    if key in _LOAD_CACHE:
        _LOAD_CACHE.move_to_end(key)
    else:
        _LOAD_CACHE[key] = parser(path, **kwargs)
        while len(_LOAD_CACHE) > LOAD_CACHE_SIZE:
            _LOAD_CACHE.popitem(last=False)
    return _LOAD_CACHE[key]


def sort_class_labels(labels: Sequence) -> List[str]:
    """Sorted unique labels as strings, the class order of every vtt dataset.

    Labels that read as finite numbers (``'1'``, ``'10'``, ``'-2'``, ``'2.5'``) sort numerically
    and come before the others, which sort as text; so ``['10', '2', 'b', 'a']`` gives
    ``['2', '10', 'a', 'b']``.

    Args:
        labels (Sequence): Raw labels ``[N]``; each is compared as ``str(label)``.

    Returns:
        list[str]: The unique labels in class-index order.
    """

    def key(text: str) -> tuple:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return (0, value, text)
        return (1, 0.0, text)

    return sorted({str(label) for label in labels}, key=key)


def encode_labels(labels: Sequence, classes: Sequence[str],
                  unknown_message: Callable[[int, str], str]) -> np.ndarray:
    """Class index of every label.

    Args:
        labels (Sequence): Raw labels ``[N]``, matched as ``str(label)``.
        classes (Sequence[str]): Class names in index order.
        unknown_message (Callable): ``(position, label) -> message`` of the
            :class:`DataFormatError` raised for the first label that is not in ``classes``;
            the message should name the file and row.

    Returns:
        np.ndarray: int64 ``[N]``.
    """
    index = {str(c): i for i, c in enumerate(classes)}
    codes = np.empty(len(labels), dtype=np.int64)
    for position, label in enumerate(labels):
        text = str(label)
        if text not in index:
            raise DataFormatError(unknown_message(position, text))
        codes[position] = index[text]
    return codes


def _split_off(indices: np.ndarray, labels: np.ndarray, size: int, seed: int, unstratified: bool,
               where: str, part: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(rest, part)`` of ``indices`` with ``len(part) == size``, stratified by ``labels``."""
    if size == 0:
        return indices, indices[:0]
    if size >= len(indices):
        return indices[:0], indices
    try:
        return train_test_split(indices, test_size=size, stratify=labels, random_state=seed)
    except ValueError as error:
        if not unstratified:
            raise
        warnings.warn(f'{where}: cannot stratify the {part} split ({error}); using an '
                      f'unstratified split with seed {seed} instead', UserWarning, stacklevel=3)
        return train_test_split(indices, test_size=size, random_state=seed)


def stratified_split(labels: np.ndarray,
                     ratios: Sequence[float] = (0.72, 0.08, 0.2),
                     seed: int = 42,
                     unstratified_fallback: bool = False,
                     where: str = 'stratified_split') -> Dict[str, np.ndarray]:
    """Seeded stratified train/val/test indices.

    The test part is split off first (``ceil(ratios[2] * N)`` samples), then the validation part
    from the rest (``ceil(ratios[1] * N)`` samples), both with scikit-learn's
    ``train_test_split(random_state=seed)``. For 5557 samples and (0.72, 0.08, 0.2) this gives
    4000 / 445 / 1112 as in the seed report. A two-way train/val split with validation fraction
    ``v`` is ``ratios=(1 - v, v, 0)``.

    Args:
        labels (np.ndarray): Class index of every sample, ``[N]``.
        ratios (Sequence[float]): train/val/test fractions, non-negative, summing to 1.
        seed (int): ``random_state`` of both splits. Defaults to 42.
        unstratified_fallback (bool): When a part cannot be stratified (a class with one
            sample, fewer samples in a part than classes), warn and split that part
            unstratified instead of raising. Defaults to False.
        where (str): What is split (e.g. the file), for the warning. Defaults to
            ``'stratified_split'``.

    Returns:
        dict: ``train``, ``val``, ``test`` (sorted int64 indices) and ``all`` (``arange(N)``).

    Raises:
        ValueError: bad ``ratios``, or a part cannot be stratified (without the fallback).
    """
    ratios = tuple(float(r) for r in ratios)
    if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f'split ratios must be three non-negative numbers summing to 1, got '
                         f'{ratios}')
    labels = np.asarray(labels)
    n = len(labels)
    indices = np.arange(n)
    n_test = int(np.ceil(ratios[2] * n)) if ratios[2] > 0 else 0
    n_val = int(np.ceil(ratios[1] * n)) if ratios[1] > 0 else 0
    rest, test = _split_off(indices, labels, n_test, seed, unstratified_fallback, where, 'test')
    train, val = _split_off(rest, labels[rest], n_val, seed, unstratified_fallback, where, 'val')
    return dict(train=np.sort(train), val=np.sort(val), test=np.sort(test), all=indices)


class BaseTimeSeriesDataset(Dataset):
    """Base class of the time-series classification datasets.

    A subclass parses its files (through :func:`load_once`), then sets

    * ``classes`` (list[str]): class names in index order,
    * ``data`` (Tensor): float32 ``[N, V, T]``, the samples of its split,
    * ``labels`` (Tensor): int64 ``[N]``,
    * ``indices`` (np.ndarray): int64 ``[N]``, the row of each sample in its file,
    * ``mask`` (Tensor, optional): bool ``[N, T]``, True on valid steps; ``None`` (the default)
      when every step is valid and items carry no mask,

    implements :meth:`_train_arrays` and defines its ``metainfo``.

    Items are dicts ``inputs: float32 [V, T]`` and
    ``data_samples: {label: int64 [], index: int (row in the file)[, mask: bool [T]]}``, so
    mmengine's ``default_collate`` gives ``inputs [B, V, T]`` (and ``mask [B, T]``).
    """

    classes: List[str]
    data: torch.Tensor
    labels: torch.Tensor
    indices: np.ndarray
    mask: Optional[torch.Tensor] = None

    def _train_arrays(self) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """The samples of the *training* split, whatever split this dataset serves.

        Returns:
            tuple: ``data`` ``[N, V, T]``, ``labels`` int64 ``[N]`` and ``mask`` bool ``[N, T]``
            of the valid steps (``None``: all steps are valid). The statistics are accumulated
            in float32 when ``data`` is float32, else in float64.
        """
        raise NotImplementedError(f'{type(self).__name__} must implement _train_arrays()')

    def train_statistics(self) -> dict:
        """Statistics of the training split, whatever split this dataset serves.

        Computed over samples and valid steps only (padding is ignored), in the precision of
        the arrays :meth:`_train_arrays` returns.

        Returns:
            dict: ``mean`` and ``std`` float32 ``[V]`` per variate, and ``class_counts`` int64
            ``[C]``.
        """
        data, labels, mask = self._train_arrays()
        data = np.asarray(data)
        data = data.astype(np.float32 if data.dtype == np.float32 else np.float64, copy=False)
        if mask is None:
            mean, std = data.mean(axis=(0, 2)), data.std(axis=(0, 2))
        else:
            values = data.transpose(1, 0, 2)[:, np.asarray(mask, dtype=bool)]  # [V, valid]
            mean, std = values.mean(axis=1), values.std(axis=1)
        counts = np.bincount(labels, minlength=len(self.classes))
        return dict(mean=mean.astype(np.float32), std=std.astype(np.float32),
                    class_counts=counts.astype(np.int64))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        data_sample = dict(label=self.labels[idx], index=int(self.indices[idx]))
        if self.mask is not None:
            data_sample['mask'] = self.mask[idx]
        return dict(inputs=self.data[idx], data_samples=data_sample)
