"""Paired furnace current + video windows (CMG's furnace data contract).

The data of one furnace run is the arrays of :data:`vtt.datasets.synthetic.FURNACE_ARRAYS`
(an ``.npz``; the group's own records go in the same layout, see ``docs/research_lines/cmg.md``):
``current [S, 3, N * P]`` (P samples per video step), ``video [S, N, D]`` or
``[S, N, C, H, W]`` and ``video_labels [S, N]`` (0 normal, 1 abnormal, as seen on video).

Samples are windows of ``window`` video steps; the current window is taken ``offset`` steps
EARLIER than the video window (``offset`` = the lead the current is assumed to have), so the
pairs a model sees depend on ``offset`` while the video windows and their labels do not: the
video windows start at steps ``max_offset .. N - window - max_offset`` whatever ``offset`` is
(``max_offset`` bounds the offsets a lead sweep tries). A window's label is the video label of
the majority of its steps (ties: abnormal).

Splits are by RUN (sequence): a seeded permutation gives ``'train'``/``'val'``/``'test'`` runs
in the proportions ``split_ratios``; ``'trainval'`` is train + val. Statistics come from
``'train'``.
"""
import functools
import json
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from vtt.registry import DATASETS
from vtt.utils.errors import ConfigError, DataFormatError

from .base import load_once
from .synthetic.furnace import generate_furnace

__all__ = ['FurnaceDataset', 'load_furnace_npz']

FURNACE_SPLITS = ('train', 'val', 'trainval', 'test')


def load_furnace_npz(path: str) -> Dict[str, np.ndarray]:
    """Read and check a furnace ``.npz`` (errors name the file and the array)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'furnace data file not found: {path} (write one with '
                                'tools/cmg/generate_furnace.py, or set data_file=None to '
                                'generate the synthetic data in memory)')
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as error:  # zipfile, zlib and numpy raise a dozen types for damaged files
        raise DataFormatError(f'{path}: not a readable .npz ({type(error).__name__}: '
                              f'{str(error)[:200]})') from None
    for key in ('current', 'video', 'video_labels'):
        if key not in arrays:
            raise DataFormatError(f'{path}: array {key!r} is missing (has {sorted(arrays)})')
    current, video, labels = arrays['current'], arrays['video'], arrays['video_labels']
    if current.ndim != 3 or current.shape[1] != 3:
        raise DataFormatError(f'{path}: current must be [S, 3, N * P], got {current.shape}')
    if video.ndim not in (3, 5) or video.shape[0] != current.shape[0]:
        raise DataFormatError(f'{path}: video must be [S, N, D] or [S, N, C, H, W] with the '
                              f'S={current.shape[0]} runs of current, got {video.shape}')
    s, n = video.shape[:2]
    if labels.shape != (s, n):
        raise DataFormatError(f'{path}: video_labels must be [S, N] = {(s, n)}, got '
                              f'{labels.shape}')
    if current.shape[2] % n:
        raise DataFormatError(f'{path}: current has {current.shape[2]} samples per run, not a '
                              f'multiple of the video\'s N={n} steps')
    bad = np.argwhere(~np.isin(labels, (0, 1)))
    if len(bad):
        run, step = bad[0]
        raise DataFormatError(f'{path}: video_labels[{run}, {step}] = {labels[run, step]}; '
                              'labels must be 0 (normal) or 1 (abnormal)')
    for key in ('current', 'video', 'video_labels'):
        if not (np.issubdtype(arrays[key].dtype, np.number)
                or arrays[key].dtype == np.bool_):
            raise DataFormatError(f'{path}: array {key!r} must be numeric, got dtype '
                                  f'{arrays[key].dtype}')
    for key in ('current', 'video'):
        finite = np.isfinite(arrays[key])
        if not finite.all():
            where = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise DataFormatError(f'{path}: {key}{list(where)} is not finite')
    return arrays


@DATASETS.register_module()
class FurnaceDataset(Dataset):
    """Windows of paired furnace current and video (see the module docstring).

    Args:
        data_file (str, optional): A furnace ``.npz``. None: the SYNTHETIC data of
            :func:`~vtt.datasets.synthetic.generate_furnace` with ``generator`` arguments,
            generated in memory (deterministic).
        generator (dict, optional): Arguments of ``generate_furnace`` (``lead``, noise,
            ``abnormal_share``, ``video='maps'``, ``seed`` ...).
        split (str): ``'train'``, ``'val'``, ``'trainval'`` or ``'test'``.
        window (int): Video steps per sample. Defaults to 8.
        stride (int): Steps between window starts. Defaults to 4.
        offset (int): The current window starts this many steps before the video window.
            Defaults to 0.
        max_offset (int): Largest ``|offset|`` the windows leave room for. Defaults to 10.
        split_ratios (Sequence[float]): Run shares of train / val / test. Defaults to
            ``(0.6, 0.2, 0.2)``.
        split_seed (int): Defaults to 42.

    Items: ``inputs = {current: float32 [3, window * P], video: float32 [D, window] (vector
    video, channels first like every series) or [window, C, H, W] (maps)}`` and
    ``data_samples = {label: int64 [] (video majority), current_label: int64 [] (the current's
    own majority), index: int}``.
    """

    MODALITIES = ('current', 'video')

    def __init__(self,
                 data_file: Optional[str] = None,
                 generator: Optional[dict] = None,
                 split: str = 'train',
                 window: int = 8,
                 stride: int = 4,
                 offset: int = 0,
                 max_offset: int = 10,
                 split_ratios: Sequence[float] = (0.6, 0.2, 0.2),
                 split_seed: int = 42):
        if split not in FURNACE_SPLITS:
            raise ConfigError(f'split must be one of {FURNACE_SPLITS}, got {split!r}')
        if abs(offset) > max_offset:
            raise ConfigError(f'|offset|={abs(offset)} exceeds max_offset={max_offset}')
        self.split, self.window, self.stride = split, int(window), int(stride)
        self.offset, self.max_offset = int(offset), int(max_offset)
        if data_file is None:
            self.source = f'synthetic furnace {generator or {}}'
            arrays = _generate(json.dumps(generator or {}, sort_keys=True))
        else:
            self.source = str(data_file)
            arrays = load_once(load_furnace_npz, str(data_file))
        current, video, labels = arrays['current'], arrays['video'], arrays['video_labels']
        runs, steps = labels.shape
        self.samples_per_step = current.shape[2] // steps
        self.maps = video.ndim == 5
        starts = np.arange(max_offset, steps - window - max_offset + 1, stride)
        if len(starts) == 0:
            raise ConfigError(f'{self.source}: runs of {steps} steps leave no window of '
                              f'{window} steps with max_offset={max_offset}')
        order = np.random.default_rng(split_seed).permutation(runs)
        n_train = int(round(split_ratios[0] * runs))
        n_val = int(round(split_ratios[1] * runs))
        members = dict(train=order[:n_train], val=order[n_train:n_train + n_val],
                       trainval=order[:n_train + n_val], test=order[n_train + n_val:])
        self._train_runs = np.sort(members['train'])
        self.runs = np.sort(members[split])
        if len(self.runs) == 0 or len(self._train_runs) == 0:
            raise ConfigError(f'{self.source}: {runs} runs with split_ratios={split_ratios} '
                              f'leave the {split} (or train) split empty')
        self._arrays = arrays
        self.items = np.array([(r, t) for r in self.runs for t in starts], np.int64)
        self.labels = self._majority(labels)
        self.current_labels = self._majority(arrays.get('current_labels', labels),
                                             shift=self.offset)
        self.classes = ['normal', 'abnormal']

    def _majority(self, labels: np.ndarray, shift: int = 0) -> torch.Tensor:
        r, t = self.items[:, 0], self.items[:, 1] - shift
        steps = t[:, None] + np.arange(self.window)[None]
        return torch.from_numpy((labels[r[:, None], steps].mean(1) >= 0.5).astype(np.int64))

    @property
    def metainfo(self) -> dict:
        video = None if self.maps else int(self._arrays['video'].shape[2])
        return dict(classes=list(self.classes), modalities=list(self.MODALITIES),
                    num_variates=dict(current=3, video=video), window=self.window,
                    offset=self.offset, samples_per_step=self.samples_per_step,
                    source=self.source)

    def _window(self, run: int, start: int) -> Tuple[np.ndarray, np.ndarray]:
        p = self.samples_per_step
        c0 = (start - self.offset) * p
        current = self._arrays['current'][run, :, c0:c0 + self.window * p]
        video = self._arrays['video'][run, start:start + self.window]
        if not self.maps:
            video = video.T  # [D, window]: channels first, like every series modality
        return current, video

    def train_statistics(self) -> dict:
        """Per-modality ``mean``/``std`` of the 'train' runs (current per phase, vector video
        per feature; maps are not normalised) and ``class_counts`` of this dataset's windows
        restricted to 'train' runs."""
        current = self._arrays['current'][self._train_runs].astype(np.float64)
        stats = dict(current=dict(mean=current.mean((0, 2)).astype(np.float32),
                                  std=current.std((0, 2)).astype(np.float32)))
        if not self.maps:
            video = self._arrays['video'][self._train_runs].astype(np.float64)
            stats['video'] = dict(mean=video.mean((0, 1)).astype(np.float32),
                                  std=video.std((0, 1)).astype(np.float32))
        in_train = np.isin(self.items[:, 0], self._train_runs)
        counts = np.bincount(self.labels.numpy()[in_train], minlength=2)
        stats['class_counts'] = counts.astype(np.int64)
        return stats

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> dict:
        run, start = self.items[idx]
        current, video = self._window(int(run), int(start))
        return dict(inputs=dict(current=torch.from_numpy(np.ascontiguousarray(current)),
                                video=torch.from_numpy(np.ascontiguousarray(video))),
                    data_samples=dict(label=self.labels[idx],
                                      current_label=self.current_labels[idx], index=int(idx)))


@functools.lru_cache(maxsize=4)
def _generate(key: str) -> Dict[str, np.ndarray]:
    """The synthetic arrays of one generator config, generated once per process."""
    return generate_furnace(**json.loads(key))
