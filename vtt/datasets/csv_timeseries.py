"""Multivariate time-series classification data stored as CSV (the 2018four contract).

Two layouts are read (``layout='auto'`` tells them apart):

* **wide**: one row per sample, a label column and one column per (variate, step) named
  ``<variate>_<step>`` (``NDVI_0 ... NDVI_36``). Variates keep the order of their first column;
  steps are sorted numerically.
* **long**: one row per (sample, step): ``sample_id, step, <variate columns...>, label``.

Samples are ``inputs: float32 [V, T]`` (variates x steps) in raw units; normalisation is done by the
model's data preprocessor with statistics of the training split (see :meth:`train_statistics`
and :class:`vtt.engine.hooks.TrainStatsHook`), so the statistics travel in the checkpoint.
"""
import io
import os
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from vtt.registry import DATASETS
from vtt.utils.errors import DataFormatError
from vtt.utils.io import read_text

from .base import (
    BaseTimeSeriesDataset,
    encode_labels,
    load_once,
    sort_class_labels,
    stratified_split,
)

# DataFormatError is re-exported for code that imported it from here.
__all__ = ['CSVTimeSeriesDataset', 'CSVRegressionDataset', 'DataFormatError',
           'load_timeseries_csv']

SPLITS = ('train', 'val', 'test', 'all')
_WIDE_COLUMN = re.compile(r'^(?P<variate>.+?)_(?P<step>\d+)$')


def _csv_line(row_index: int) -> int:
    """1-based line number in the CSV file of a 0-based data row (line 1 is the header)."""
    return int(row_index) + 2


def _to_float(cell) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError, OverflowError):
        return float('nan')


def _is_nan_text(cell) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in ('nan', '-nan', '+nan')


def _check_numeric(frame: pd.DataFrame, columns: Sequence[str], path: str,
                   what: str = 'variate cell') -> np.ndarray:
    """Return ``frame[columns]`` as float64, failing on the first non-numeric, missing or
    infinite cell with its file, line and column."""
    block = frame[list(columns)]
    values = np.empty((len(block), len(columns)), dtype=np.float64)
    for index, column in enumerate(columns):
        series = block[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            # cell by cell: pd.to_numeric raises OverflowError on a 400-digit integer
            coerced = series.map(_to_float)
            bad = coerced.isna() & series.notna() & ~series.map(_is_nan_text)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataFormatError(
                    f'{path}, line {_csv_line(row)}, column {column!r}: non-numeric value '
                    f'{series.iloc[row]!r} (every {what} must be a number)')
            values[:, index] = coerced.to_numpy(dtype=np.float64)
        else:
            values[:, index] = series.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        what = 'missing/NaN' if np.isnan(values[row, col]) else 'infinite'
        raise DataFormatError(f'{path}, line {_csv_line(row)}, column {columns[col]!r}: {what} '
                              'value (fill or drop such samples before training)')
    return values


def _parse_wide(frame, path, label_column, id_column, variates) -> Tuple[np.ndarray, List, List]:
    skip = {label_column, id_column}
    steps_of: 'OrderedDict[str, Dict[int, str]]' = OrderedDict()
    for column in frame.columns:
        if column in skip:
            continue
        match = _WIDE_COLUMN.match(str(column))
        if match is None:
            if variates is None:
                raise DataFormatError(
                    f'{path}: column {column!r} is neither the label column ({label_column!r}), '
                    f'the id column ({id_column!r}) nor a `<variate>_<step>` column of the wide '
                    'layout. Rename it, set `id_column`, or list the `variates` to use.')
            continue
        name, step = match.group('variate'), int(match.group('step'))
        if variates is not None and name not in variates:
            continue
        steps_of.setdefault(name, {})[step] = column
    if variates is not None:
        absent = [v for v in variates if v not in steps_of]
        if absent:
            raise DataFormatError(f'{path}: no `<variate>_<step>` columns for variates {absent}')
        steps_of = OrderedDict((v, steps_of[v]) for v in variates)
    if not steps_of:
        raise DataFormatError(f'{path}: no `<variate>_<step>` columns found; columns are '
                              f'{list(frame.columns)[:20]}')
    all_steps = sorted(set().union(*[set(s) for s in steps_of.values()]))
    for name, steps in steps_of.items():
        lacking = sorted(set(all_steps) - set(steps))
        if lacking:
            raise DataFormatError(
                f'{path}: ragged columns: variate {name!r} has no column for steps {lacking[:10]} '
                f'(expected {name}_<step> for every step {all_steps[0]}..{all_steps[-1]})')
    columns = [steps_of[name][step] for name in steps_of for step in all_steps]
    values = _check_numeric(frame, columns, path)
    array = values.reshape(len(frame), len(steps_of), len(all_steps))
    return array, list(steps_of), all_steps


def _parse_long(frame, path, label_column, id_column, sample_column, step_column,
                variates) -> Tuple[np.ndarray, List, List, np.ndarray]:
    skip = {label_column, id_column, sample_column, step_column}
    if variates is None:
        variates = [c for c in frame.columns if c not in skip]
    missing = [v for v in variates if v not in frame.columns]
    if missing:
        raise DataFormatError(f'{path}: variate columns {missing} not found')
    steps = _check_numeric(frame, [step_column], path)[:, 0]
    if not np.all(steps == np.round(steps)):
        row = int(np.flatnonzero(steps != np.round(steps))[0])
        raise DataFormatError(f'{path}, line {_csv_line(row)}, column {step_column!r}: step must '
                              f'be an integer, got {steps[row]!r}')
    if len(steps) and np.abs(steps).max() > 1e9:
        row = int(np.argmax(np.abs(steps)))
        raise DataFormatError(f'{path}, line {_csv_line(row)}, column {step_column!r}: step '
                              f'{steps[row]:.6g} is out of range (steps are 0, 1, 2, ...)')
    values = _check_numeric(frame, variates, path)
    sample_ids = frame[sample_column].to_numpy()
    order = pd.unique(sample_ids)
    all_steps = sorted(set(steps.astype(int).tolist()))
    step_pos = {s: i for i, s in enumerate(all_steps)}
    sample_pos = {s: i for i, s in enumerate(order)}
    array = np.full((len(order), len(variates), len(all_steps)), np.nan)
    rows_s = np.array([sample_pos[s] for s in sample_ids])
    rows_t = np.array([step_pos[int(s)] for s in steps])
    seen = np.zeros((len(order), len(all_steps)), dtype=np.int64)
    np.add.at(seen, (rows_s, rows_t), 1)
    if (seen > 1).any():
        s, t = np.argwhere(seen > 1)[0]
        row = int(np.flatnonzero((rows_s == s) & (rows_t == t))[1])
        raise DataFormatError(f'{path}, line {_csv_line(row)}: sample {order[s]!r} has step '
                              f'{all_steps[t]} twice')
    if (seen == 0).any():
        s, t = np.argwhere(seen == 0)[0]
        raise DataFormatError(f'{path}: ragged series: sample {order[s]!r} has no row for step '
                              f'{all_steps[t]} (column {step_column!r}); every sample needs '
                              'every step')
    array[rows_s, :, rows_t] = values
    labels = frame[label_column].to_numpy()
    first_row = np.zeros(len(order), dtype=np.int64)
    first_row[rows_s[::-1]] = np.arange(len(frame))[::-1]
    sample_labels = labels[first_row]
    differs = labels != sample_labels[rows_s]
    if differs.any():
        row = int(np.flatnonzero(differs)[0])
        raise DataFormatError(f'{path}, line {_csv_line(row)}, column {label_column!r}: label '
                              f'{labels[row]!r} differs from the label of the same sample '
                              f'{order[rows_s[row]]!r} on other rows')
    return array, list(variates), all_steps, sample_labels


def _first_steps(data: np.ndarray, num_steps: Optional[int], path: str) -> np.ndarray:
    """The first ``num_steps`` steps of ``data [N, V, T]`` (all of them for None)."""
    if num_steps is None:
        return data
    if not 0 < num_steps <= data.shape[-1]:
        raise ValueError(f'{path}: num_steps={num_steps} but the series have {data.shape[-1]} '
                         f'steps')
    return data[..., :num_steps]


def _encode_labels(raw: np.ndarray, path: str, label_column: str,
                   classes: Optional[Sequence]) -> Tuple[np.ndarray, List[str]]:
    """Class indices ``[N]`` of the raw labels and the class names (default:
    :func:`sort_class_labels` of the labels)."""
    missing = pd.isna(raw)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataFormatError(f'{path}, line {_csv_line(row)}, column {label_column!r}: '
                              'missing label')
    as_text = np.array([str(v).strip() for v in raw])
    # Integral floats (pandas reads "1" as 1.0 in a column with blanks) print as "1".
    as_text = np.array([t[:-2] if t.endswith('.0') and t[:-2].lstrip('-').isdigit() else t
                        for t in as_text])
    classes = sort_class_labels(as_text) if classes is None else [str(c) for c in classes]

    def unknown(row: int, label: str) -> str:
        return (f'{path}, line {_csv_line(row)}, column {label_column!r}: unknown label '
                f'{label!r}; known classes are {classes}')

    return encode_labels(as_text.tolist(), classes, unknown), classes


def load_timeseries_csv(path: str,
                        layout: str = 'auto',
                        label_column: str = 'label',
                        id_column: Optional[str] = None,
                        sample_column: str = 'sample_id',
                        step_column: str = 'step',
                        variates: Optional[Sequence[str]] = None,
                        classes: Optional[Sequence] = None,
                        target: str = 'class') -> dict:
    """Read and validate a time-series CSV.

    ``target='class'`` reads ``label_column`` as class labels; ``target='value'`` reads it as a
    number per sample (regression: every cell numeric and finite, else an error naming the
    line).

    Returns:
        dict: ``data`` float64 ``[N, V, T]``, ``labels`` int64 ``[N]`` (classes) or float64
        ``[N]`` (values), ``classes`` (None for values), ``variates``, ``steps``.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: the file breaks the contract; the message names file, line and column.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'data file not found: {path}. Put your CSV there, or point the config at it, e.g. '
            "--cfg-options data_root=/path/to/dir (or train_dataloader.dataset.data_file=...).")
    if layout not in ('auto', 'wide', 'long'):
        raise DataFormatError(f"{path}: unknown layout {layout!r}; use 'wide', 'long' or 'auto'")
    if target not in ('class', 'value'):
        raise ValueError(f"target must be 'class' or 'value', got {target!r}")
    try:
        frame = pd.read_csv(io.StringIO(read_text(path)))
    except pd.errors.ParserError as error:
        raise DataFormatError(f'{path}: malformed CSV ({error}); every row must have as many '
                              'cells as the header') from None
    except pd.errors.EmptyDataError:
        raise DataFormatError(f'{path}: the file is empty') from None
    except (ValueError, OverflowError, TypeError) as error:  # pandas' own parse failures
        raise DataFormatError(f'{path}: malformed CSV ({type(error).__name__}: '
                              f'{str(error)[:200]})') from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if label_column not in frame.columns:
        raise DataFormatError(f'{path}: label column {label_column!r} not found; columns are '
                              f'{list(frame.columns)[:20]}. Set `label_column` in the dataset '
                              'config.')
    if len(frame) == 0:
        raise DataFormatError(f'{path}: no data rows')
    if layout == 'auto':
        if sample_column in frame.columns and step_column in frame.columns:
            layout = 'long'
        elif any(_WIDE_COLUMN.match(c) for c in frame.columns):
            layout = 'wide'
        else:
            raise DataFormatError(
                f'{path}: unknown layout: no `<variate>_<step>` columns (wide layout) and no '
                f'{sample_column!r} + {step_column!r} columns (long layout). Columns are '
                f'{list(frame.columns)[:20]}.')
    if layout == 'wide':
        data, names, steps = _parse_wide(frame, path, label_column, id_column, variates)
        raw_labels = frame[label_column].to_numpy()
    else:
        for column in (sample_column, step_column):
            if column not in frame.columns:
                raise DataFormatError(f'{path}: long layout needs column {column!r}; columns '
                                      f'are {list(frame.columns)[:20]}')
        data, names, steps, raw_labels = _parse_long(frame, path, label_column, id_column,
                                                     sample_column, step_column, variates)
    if target == 'value':
        if layout == 'wide':
            values = _check_numeric(frame, [label_column], path, what='target')[:, 0]
        else:
            values = pd.to_numeric(pd.Series(raw_labels), errors='coerce').to_numpy(np.float64)
            if not np.isfinite(values).all():
                sample = int(np.flatnonzero(~np.isfinite(values))[0])
                raise DataFormatError(f'{path}, column {label_column!r}: sample number '
                                      f'{sample + 1} has a non-numeric or missing target '
                                      f'{raw_labels[sample]!r}')
        return dict(data=data, labels=values, classes=None, variates=names, steps=steps)
    labels, classes = _encode_labels(raw_labels, path, label_column, classes)
    return dict(data=data, labels=labels, classes=classes, variates=names, steps=steps)


@DATASETS.register_module()
class CSVTimeSeriesDataset(BaseTimeSeriesDataset):
    """Time-series classification dataset read from a CSV file (wide or long layout).

    Args:
        data_file (str): Path of the CSV file.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        num_steps (int, optional): Keep only the first ``num_steps`` steps (early
            classification). ``None`` keeps all.
        layout (str): ``'wide'``, ``'long'`` or ``'auto'``.
        label_column (str): Label column. Defaults to ``'label'``.
        id_column (str, optional): A sample id column to ignore in the wide layout.
        sample_column, step_column (str): Columns of the long layout.
        variates (list[str], optional): Variates to use, in this order (default: all).
        classes (list, optional): Class names in index order (default: the labels in
            :func:`vtt.datasets.sort_class_labels` order).
        split_ratios (tuple): train/val/test fractions. Defaults to (0.72, 0.08, 0.2).
        split_seed (int): ``random_state`` of the stratified split
            (:func:`vtt.datasets.stratified_split`). Defaults to 42.

    Items are dicts ``inputs: float32 [V, T]`` and
    ``data_samples: {label: int64 [], index: int (sample row in the file)}``.
    """

    def __init__(self,
                 data_file: str,
                 split: str = 'train',
                 num_steps: Optional[int] = None,
                 layout: str = 'auto',
                 label_column: str = 'label',
                 id_column: Optional[str] = None,
                 sample_column: str = 'sample_id',
                 step_column: str = 'step',
                 variates: Optional[Sequence[str]] = None,
                 classes: Optional[Sequence] = None,
                 split_ratios: Sequence[float] = (0.72, 0.08, 0.2),
                 split_seed: int = 42):
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        self.data_file = str(data_file)
        self.split = split
        self._prepare_file()
        parsed = load_once(
            load_timeseries_csv, self.data_file, layout=layout, label_column=label_column,
            id_column=id_column, sample_column=sample_column, step_column=step_column,
            variates=None if variates is None else list(variates),
            classes=None if classes is None else list(classes))
        data = _first_steps(parsed['data'], num_steps, self.data_file)
        self.num_steps = data.shape[-1]
        self.classes = parsed['classes']
        self.variates = parsed['variates']
        self._all_data = data.astype(np.float32)
        self._all_labels = parsed['labels']
        try:
            self._splits = stratified_split(self._all_labels, split_ratios, split_seed)
        except ValueError as error:  # e.g. a class too small to stratify
            raise DataFormatError(f'{self.data_file}: cannot make a stratified split with '
                                  f'ratios {tuple(split_ratios)}: {error}') from None
        for name in ('train', 'val', 'test'):
            if len(self._splits[name]) == 0 and split_ratios[('train', 'val', 'test').index(name)]:
                raise DataFormatError(f'{self.data_file}: the {name} split is empty ('
                                      f'{len(self._all_labels)} samples in the file)')
        self.indices = self._splits[split]
        if len(self.indices) == 0:
            raise DataFormatError(f'{self.data_file}: the {split} split is empty (ratios '
                                  f'{tuple(split_ratios)} of {len(self._all_labels)} samples)')
        self.data = torch.from_numpy(self._all_data[self.indices])
        self.labels = torch.from_numpy(self._all_labels[self.indices])

    def _prepare_file(self) -> None:
        """Hook for subclasses that create the file (e.g. synthetic demo data)."""

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), variates=list(self.variates),
                    num_steps=self.num_steps, data_file=self.data_file)

    def _train_arrays(self) -> Tuple[np.ndarray, np.ndarray, None]:
        """The ``'train'`` split, float32 as served (the statistics are accumulated in float32,
        as they always were for CSV data)."""
        train = self._splits['train']
        return self._all_data[train], self._all_labels[train], None


@DATASETS.register_module()
class CSVRegressionDataset(Dataset):
    """Time-series regression data read from a CSV file (TimesCLIP yield): the same layouts
    as :class:`CSVTimeSeriesDataset` with a numeric target column instead of a label.

    Args:
        data_file (str): Path of the CSV file.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        target_column (str): The target column. Defaults to ``'yield'``.
        num_steps (int, optional): Keep only the first ``num_steps`` steps (early
            prediction). ``None`` keeps all.
        layout, id_column, sample_column, step_column, variates: As
            :class:`CSVTimeSeriesDataset`.
        split_ratios (tuple): train/val/test fractions. Defaults to (0.72, 0.08, 0.2).
        split_seed (int): Seed of the split. Defaults to 42.
        split_bins (int): The split is stratified by ``split_bins`` quantile bins of the target,
            so every split covers the target's range. Defaults to 5.

    Items are dicts ``inputs: float32 [V, T]`` and ``data_samples: {target: float32 [],
    index: int (row of the sample in the file)}``. :meth:`train_statistics` gives the per-variate
    ``mean``/``std`` and ``target_mean``/``target_std`` of the TRAINING split.
    """

    def __init__(self,
                 data_file: str,
                 split: str = 'train',
                 target_column: str = 'yield',
                 num_steps: Optional[int] = None,
                 layout: str = 'auto',
                 id_column: Optional[str] = None,
                 sample_column: str = 'sample_id',
                 step_column: str = 'step',
                 variates: Optional[Sequence[str]] = None,
                 split_ratios: Sequence[float] = (0.72, 0.08, 0.2),
                 split_seed: int = 42,
                 split_bins: int = 5):
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        self.data_file, self.split, self.target_column = str(data_file), split, target_column
        self._prepare_file()
        parsed = load_once(
            load_timeseries_csv, self.data_file, layout=layout, label_column=target_column,
            id_column=id_column, sample_column=sample_column, step_column=step_column,
            variates=None if variates is None else list(variates), target='value')
        data = _first_steps(parsed['data'], num_steps, self.data_file)
        self.num_steps = data.shape[-1]
        self.variates = parsed['variates']
        self._all_data = data.astype(np.float32)
        self._all_targets = parsed['labels'].astype(np.float32)
        edges = np.quantile(self._all_targets, np.linspace(0, 1, split_bins + 1)[1:-1])
        bins = np.searchsorted(edges, self._all_targets, side='right')
        self._splits = stratified_split(bins, split_ratios, split_seed,
                                        unstratified_fallback=True, where=self.data_file)
        self.indices = self._splits[split]
        if len(self.indices) == 0:
            raise DataFormatError(f'{self.data_file}: the {split} split is empty (ratios '
                                  f'{tuple(split_ratios)} of {len(self._all_targets)} samples)')
        self.data = torch.from_numpy(self._all_data[self.indices])
        self.targets = torch.from_numpy(self._all_targets[self.indices])

    def _prepare_file(self) -> None:
        """Hook for subclasses that create the file (e.g. synthetic demo data)."""

    @property
    def metainfo(self) -> dict:
        return dict(variates=list(self.variates), num_steps=self.num_steps,
                    data_file=self.data_file, target=self.target_column)

    def train_statistics(self) -> dict:
        """Per-variate ``mean``/``std`` ``[V]`` and the target's ``target_mean``/``target_std``
        ``[1]``, all of the TRAINING split."""
        train = self._splits['train']
        data, targets = self._all_data[train], self._all_targets[train]
        return dict(mean=data.mean(axis=(0, 2)).astype(np.float32),
                    std=data.std(axis=(0, 2)).astype(np.float32),
                    target_mean=np.array([targets.mean()], np.float32),
                    target_std=np.array([targets.std()], np.float32))

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.data[idx],
                    data_samples=dict(target=self.targets[idx], index=int(self.indices[idx])))
