"""Pre-split time-series classification data in the TS-TCC ``.pt`` layout (HAR, Epilepsy, ...).

:class:`TSTCCDataset` reads any folder in this layout; ``HARPtDataset`` is a registry alias of
it kept for configs written before the rename.

``data_root`` holds ``train.pt``, ``val.pt`` and ``test.pt``; each is a dict saved with
``torch.save`` with

* ``samples``: tensor or ndarray ``[N, C, T]`` (``[N, T, C]`` with ``channels_last=True``;
  ``[N, T]`` is read as univariate ``[N, 1, T]``),
* ``labels``: tensor or ndarray ``[N]`` of integer class labels.

Files are loaded with ``weights_only=True`` (:func:`vtt.utils.compat.safe_torch_load`), so a file
that would run code when unpickled is refused. Items follow :class:`vtt.datasets.UEADataset`:
``inputs: float32 [V, T]`` and ``data_samples: {label: int64 [], index: int}``; the layout has
equal-length series, so items carry no step mask (models then take their mask-free path).
"""
import os
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from vtt.registry import DATASETS
from vtt.utils.compat import safe_torch_load
from vtt.utils.errors import DataFormatError, UnsafeCheckpointError

from .base import BaseTimeSeriesDataset, encode_labels, load_once, sort_class_labels

__all__ = ['TSTCCDataset', 'HARPtDataset', 'load_pt_split']

PT_SPLITS = ('train', 'val', 'test')


def _as_numpy(value, path: str, key: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value)
        except ValueError:
            pass
    raise DataFormatError(f'{path}: {key!r} must be a tensor or ndarray, got '
                          f'{type(value).__name__}')


def load_pt_split(path: str, channels_last: bool = False) -> dict:
    """Read and validate one TS-TCC split file.

    Returns:
        dict: ``samples`` float32 ``[N, C, T]`` and ``labels`` (raw values, ``[N]``).

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: missing keys, wrong shapes, non-finite values; the message names the
            file.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'data file not found: {path}. The TS-TCC layout needs '
                                'train.pt, val.pt and test.pt in data_root; set data_root to '
                                'their folder (e.g. --cfg-options data_root=/path/to/HAR).')
    try:
        content = safe_torch_load(path, map_location='cpu')
    except UnsafeCheckpointError as error:
        raise DataFormatError(f'{path}: {error}') from None
    except Exception as error:
        raise DataFormatError(f'{path}: cannot be read with torch.load(weights_only=True) '
                              f'({type(error).__name__}: {error})') from None
    if not isinstance(content, dict):
        raise DataFormatError(f'{path}: expected a dict with keys "samples" and "labels", got '
                              f'{type(content).__name__}')
    for key in ('samples', 'labels'):
        if key not in content:
            raise DataFormatError(f'{path}: missing key {key!r}; the file has keys '
                                  f'{sorted(map(str, content))} (expected "samples" [N, C, T] '
                                  'and "labels" [N])')
    samples = _as_numpy(content['samples'], path, 'samples')
    labels = _as_numpy(content['labels'], path, 'labels')
    if samples.ndim == 2:
        samples = samples[:, None, :]
    elif samples.ndim == 3:
        if channels_last:
            samples = samples.transpose(0, 2, 1)
    else:
        layout = '[N, T, C]' if channels_last else '[N, C, T]'
        raise DataFormatError(f'{path}: "samples" has shape {tuple(samples.shape)}; expected '
                              f'{layout} (or [N, T] for one variate)')
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataFormatError(f'{path}: "labels" has shape {tuple(labels.shape)}; expected [N]')
    if len(labels) != len(samples):
        raise DataFormatError(f'{path}: {len(samples)} samples but {len(labels)} labels')
    if len(samples) == 0:
        raise DataFormatError(f'{path}: no samples')
    if not np.issubdtype(samples.dtype, np.number) or np.issubdtype(samples.dtype,
                                                                    np.complexfloating):
        raise DataFormatError(f'{path}: "samples" must be real numbers, got {samples.dtype}')
    samples = samples.astype(np.float32)
    bad = ~np.isfinite(samples)
    if bad.any():
        n, v, t = np.argwhere(bad)[0]
        what = 'missing/NaN' if np.isnan(samples[n, v, t]) else 'infinite'
        raise DataFormatError(f'{path}: sample {n}, variate {v}, step {t}: {what} value')
    if np.issubdtype(labels.dtype, np.floating):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            row = int(np.flatnonzero(~np.isfinite(labels) | (labels != np.round(labels)))[0])
            raise DataFormatError(f'{path}: label {labels[row]!r} of sample {row} is not an '
                                  'integer class label')
        labels = labels.astype(np.int64)
    elif not np.issubdtype(labels.dtype, np.integer):
        raise DataFormatError(f'{path}: "labels" must be integer class labels, got dtype '
                              f'{labels.dtype}')
    return dict(samples=np.ascontiguousarray(samples), labels=labels.astype(np.int64))


@DATASETS.register_module()
class TSTCCDataset(BaseTimeSeriesDataset):
    """A pre-split dataset in the TS-TCC layout: ``train.pt`` / ``val.pt`` / ``test.pt``.

    ``HARPtDataset`` is an alias of this class in ``DATASETS`` (its name when it was written for
    HAR); new configs should use ``type='TSTCCDataset'``.

    Args:
        data_root (str): Folder holding the three ``.pt`` files.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        channels_last (bool): ``samples`` are stored ``[N, T, C]`` instead of ``[N, C, T]``.
            Defaults to False.
        classes (list[str], optional): Class names in index order; the labels must then be
            integers in ``[0, len(classes))``. By default the classes are the unique labels of
            ``train.pt`` as strings, sorted numerically (:func:`vtt.datasets.sort_class_labels`),
            and labels are mapped to their position.
        name (str, optional): Dataset name for ``metainfo`` (default: the folder name).

    Every file must have the variates and length of ``train.pt``. Items are dicts
    ``inputs: float32 [V, T]`` and
    ``data_samples: {label: int64 [], index: int (row in the file)}`` (equal lengths: no mask).
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 channels_last: bool = False,
                 classes: Optional[Sequence] = None,
                 name: Optional[str] = None):
        if split not in PT_SPLITS:
            raise ValueError(f'split must be one of {PT_SPLITS}, got {split!r}')
        self.data_root = str(data_root)
        self.split = split
        self.channels_last = channels_last = bool(channels_last)
        self.name = name if name is not None else os.path.basename(
            os.path.normpath(os.path.abspath(self.data_root)))
        self.train_file = os.path.join(self.data_root, 'train.pt')
        self.data_file = os.path.join(self.data_root, f'{split}.pt')
        train = load_once(load_pt_split, self.train_file, channels_last=channels_last)
        current = train if split == 'train' else load_once(
            load_pt_split, self.data_file, channels_last=channels_last)
        _, num_variates, length = train['samples'].shape
        if current['samples'].shape[1:] != (num_variates, length):
            layout = '[N, T, C]' if channels_last else '[N, C, T]'
            raise DataFormatError(
                f'{self.data_file}: samples are {layout} = {self._shape(current)}, but '
                f'{self.train_file} has {num_variates} variates x {length} steps '
                f'(channels_last={channels_last}); all splits must match')

        if classes is None:
            self.classes = sort_class_labels(train['labels'].tolist())
            self._label_values = list(self.classes)
        else:
            self.classes = [str(c) for c in classes]
            self._label_values = [str(i) for i in range(len(self.classes))]
        self.num_variates = int(num_variates)
        self.max_length = int(length)
        self.data = torch.from_numpy(current['samples'])
        self.labels = torch.from_numpy(self._encode(current['labels'], self.data_file))
        self.indices = np.arange(len(self.labels))
        self._train_samples = train['samples']
        self._train_labels = self._encode(train['labels'], self.train_file)

    def _shape(self, parsed: dict) -> tuple:
        shape = parsed['samples'].shape
        return (shape[0], shape[2], shape[1]) if self.channels_last else tuple(shape)

    def _encode(self, labels: np.ndarray, path: str) -> np.ndarray:
        """Class indices ``[N]`` of the integer labels of ``path``."""

        def unknown(i: int, label: str) -> str:
            known = [int(v) for v in self._label_values]
            return (f'{path}: sample {i} has label {label}, which is not a known class label '
                    f'{known} (classes: {self.classes})')

        return encode_labels(labels.tolist(), self._label_values, unknown)

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), num_variates=self.num_variates,
                    max_length=self.max_length, name=self.name)

    def _train_arrays(self) -> Tuple[np.ndarray, np.ndarray, None]:
        """All of ``train.pt`` in float64 (equal-length series, no padding)."""
        return self._train_samples.astype(np.float64), self._train_labels, None


# Alias: the class's name when it was written for HAR, kept so that existing configs build.
HARPtDataset = DATASETS.register_module(name='HARPtDataset', module=TSTCCDataset)
