"""Synthetic stand-in for the 2018four crop-type data set (SYNTHETIC, not real data).

The real ``2018four.csv`` is the research group's own file and is not distributed. This module
generates a file with exactly its schema — 5557 samples, 4 classes of 671 / 1210 / 1288 / 2388
samples, 14 variates over 37 steps (~10 days each), wide layout ``<variate>_<step>`` + ``label``
— so that every tool and config runs offline.

Each sample is a crop-phenology curve: a double-logistic greenness profile (green-up, peak,
senescence) with per-sample shifts in green-up date, season length, amplitude and soil
background, mixed into ten Sentinel-2-like reflectance bands and four spectral indices, with
sensor noise and cloud dropouts. The classes are built so that early classification is a real
trade-off: classes 0 and 1 differ in green-up date (visible in the first 12 steps), while classes
2 and 3 green up at nearly the same time and differ mainly in season length, peak greenness and
a late second growth, which only the full 37-step series shows.
"""
from typing import Sequence

import numpy as np
import pandas as pd

from vtt.utils.io import atomic_open

__all__ = ['generate_crop_phenology', 'write_crop_phenology_csv', 'generate_crop_yield',
           'write_crop_yield_csv', 'VARIATES', 'CLASS_SIZES', 'YIELD_CLASS_SIZES']

#: Ten reflectance bands followed by four indices computed from them.
VARIATES = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12', 'NDVI', 'EVI', 'NDWI',
            'LSWI')
CLASS_SIZES = (671, 1210, 1288, 2388)
#: Class sizes of the yield demo (2000 fields, the same proportions as CLASS_SIZES).
YIELD_CLASS_SIZES = (241, 436, 464, 859)

# Reflectance of bare soil and of a closed green canopy per band (B2..B12).
_SOIL = np.array([0.08, 0.11, 0.14, 0.17, 0.19, 0.21, 0.23, 0.24, 0.30, 0.26])
_CANOPY = np.array([0.03, 0.07, 0.04, 0.12, 0.30, 0.40, 0.45, 0.46, 0.22, 0.11])
_CLOUD = np.array([0.35, 0.36, 0.37, 0.38, 0.39, 0.40, 0.41, 0.41, 0.33, 0.25])

# Per class: green-up step (mean, sd), season length in steps (mean, sd), peak greenness
# (mean, sd), second-growth amplitude, soil brightness offset.
_CLASS_PARAMS = (
    dict(sos=(4.0, 1.8), length=(13.0, 2.0), peak=(0.78, 0.07), regrowth=0.00, soil=0.00),
    dict(sos=(8.5, 1.8), length=(15.0, 2.0), peak=(0.80, 0.07), regrowth=0.00, soil=0.01),
    dict(sos=(11.5, 2.0), length=(12.0, 2.0), peak=(0.88, 0.06), regrowth=0.00, soil=0.02),
    dict(sos=(12.0, 2.0), length=(17.0, 2.0), peak=(0.70, 0.07), regrowth=0.35, soil=0.03),
)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate_crop_phenology(seed: int = 2018,
                            class_sizes: Sequence[int] = CLASS_SIZES,
                            num_steps: int = 37,
                            cloud_rate: float = 0.08,
                            noise: float = 0.012,
                            return_params: bool = False):
    """Generate the synthetic 2018four-shaped data set.

    Args:
        seed (int): Seed of the generator; the same seed gives the same frame bit for bit.
        class_sizes (Sequence[int]): Samples per class. Defaults to 671/1210/1288/2388.
        num_steps (int): Steps per series. Defaults to 37.
        cloud_rate (float): Probability that an observation is cloud-contaminated.
        noise (float): Standard deviation of the reflectance noise.

        return_params (bool): Also return the hidden per-sample curve parameters.

    Returns:
        pandas.DataFrame: ``sample_id``, ``<variate>_<step>`` for the 14 variates and every step
        (variate-major), and ``label`` (0..3). Rows are shuffled. With ``return_params``, a
        tuple ``(frame, params)`` where ``params`` holds ``[N]`` arrays ``sos`` (green-up
        step), ``length`` (season length in steps), ``peak`` (peak greenness) and
        ``regrowth`` (second-growth amplitude).
    """
    if len(class_sizes) != len(_CLASS_PARAMS):
        raise ValueError(f'class_sizes must have {len(_CLASS_PARAMS)} entries')
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(class_sizes)), class_sizes)
    rng.shuffle(labels)
    n = len(labels)
    t = np.arange(num_steps, dtype=np.float64)[None, :]

    def per_class(key, i):
        return np.array([p[key][i] if isinstance(p[key], tuple) else p[key]
                         for p in _CLASS_PARAMS])[labels][:, None]

    sos = per_class('sos', 0) + per_class('sos', 1) * rng.standard_normal((n, 1))
    length = per_class('length', 0) + per_class('length', 1) * rng.standard_normal((n, 1))
    peak = per_class('peak', 0) + per_class('peak', 1) * rng.standard_normal((n, 1))
    rate_up = rng.uniform(1.0, 2.0, (n, 1))
    rate_down = rng.uniform(1.5, 2.5, (n, 1))
    base = rng.uniform(0.02, 0.12, (n, 1))
    green = base + (peak - base) * (_logistic((t - sos) / rate_up) -
                                    _logistic((t - sos - length) / rate_down))
    regrowth = per_class('regrowth', 0) * rng.uniform(0.6, 1.2, (n, 1))
    regrow_at = sos + length + rng.normal(3.0, 1.0, (n, 1))
    green = green + regrowth * _logistic((t - regrow_at) / 1.2) * (1 - _logistic((t - 36) / 1.5))
    green = np.clip(green + 0.02 * rng.standard_normal(green.shape), 0.0, 1.0)

    soil = _SOIL[None, None, :] * (1.0 + per_class('soil', 0)[..., None] +
                                   0.08 * rng.standard_normal((n, 1, 1)))
    moisture = rng.uniform(0.9, 1.1, (n, num_steps, 1))
    bands = (1 - green[..., None]) * soil * moisture + green[..., None] * _CANOPY[None, None, :]
    bands = bands + noise * rng.standard_normal(bands.shape)
    cloudy = rng.random((n, num_steps)) < cloud_rate
    haze = rng.uniform(0.3, 0.9, (n, num_steps, 1))
    bands = np.where(cloudy[..., None], (1 - haze) * bands + haze * _CLOUD, bands)
    bands = np.clip(bands, 0.001, 1.0)

    blue, green_b, red, nir, swir1 = (bands[..., 0], bands[..., 1], bands[..., 2], bands[..., 6],
                                      bands[..., 8])
    ndvi = (nir - red) / (nir + red)
    evi = 2.5 * (nir - red) / (nir + 6 * red - 7.5 * blue + 1)
    ndwi = (green_b - nir) / (green_b + nir)
    lswi = (nir - swir1) / (nir + swir1)
    cube = np.concatenate([bands, np.stack([ndvi, evi, ndwi, lswi], axis=-1)], axis=-1)
    cube = np.round(cube.transpose(0, 2, 1), 5)  # [N, V, T]

    columns = [f'{v}_{s}' for v in VARIATES for s in range(num_steps)]
    frame = pd.DataFrame(cube.reshape(n, -1), columns=columns)
    frame.insert(0, 'sample_id', np.arange(n))
    frame['label'] = labels
    if return_params:
        params = dict(sos=sos[:, 0], length=length[:, 0], peak=peak[:, 0],
                      regrowth=regrowth[:, 0])
        return frame, params
    return frame


def write_crop_phenology_csv(path: str, seed: int = 2018, **kwargs) -> str:
    """Write :func:`generate_crop_phenology` to ``path`` atomically
    (:func:`vtt.utils.io.atomic_open`: temp file, fsync, rename), so a reader never sees half a
    file; missing folders are created. ``kwargs`` go to :func:`generate_crop_phenology`.
    Returns ``path``."""
    frame = generate_crop_phenology(seed=seed, **kwargs)
    with atomic_open(path, 'w', newline='') as handle:
        frame.to_csv(handle, index=False)
    return path


def generate_crop_yield(seed: int = 2018, class_sizes: Sequence[int] = YIELD_CLASS_SIZES,
                        noise: float = 0.35, **kwargs) -> pd.DataFrame:
    """A SYNTHETIC yield-regression set on the crop curves (the TimesCLIP yield demo).

    The series are :func:`generate_crop_phenology`'s; the target (t/ha) comes from the hidden
    curve parameters, mostly from what the EARLY season shows, so that the first 12 steps
    predict much of it and the full season a little more::

        yield = 6.0 + 0.30 * (10 - sos) + 5.0 * (peak - 0.8) + 0.08 * (length - 14)
                + 1.2 * regrowth + 0.4 * [crop type offsets -0.5, 0, 0.3, 0.2] + noise

    where ``sos`` is the green-up step (an early green-up yields more; visible in the first
    12 steps), ``peak`` the peak greenness (partly visible early), ``length`` the season length
    and ``regrowth`` the late second growth (visible only at the end), ``noise`` Gaussian with
    the given standard deviation. Deterministic for ``seed``.

    Returns:
        pandas.DataFrame: ``sample_id``, the ``<variate>_<step>`` columns and ``yield``.
    """
    frame, params = generate_crop_phenology(seed=seed, class_sizes=class_sizes,
                                            return_params=True, **kwargs)
    rng = np.random.default_rng([seed, 1])
    offsets = np.array([-0.5, 0.0, 0.3, 0.2])[frame['label'].to_numpy()]
    value = (6.0 + 0.30 * (10.0 - params['sos']) + 5.0 * (params['peak'] - 0.8)
             + 0.08 * (params['length'] - 14.0) + 1.2 * params['regrowth'] + 0.4 * offsets
             + noise * rng.standard_normal(len(frame)))
    frame = frame.drop(columns=['label'])
    frame['yield'] = np.round(np.clip(value, 0.5, None), 4)
    return frame


def write_crop_yield_csv(path: str, seed: int = 2018, **kwargs) -> str:
    """Write :func:`generate_crop_yield` to ``path`` atomically (as
    :func:`write_crop_phenology_csv`). Returns ``path``."""
    frame = generate_crop_yield(seed=seed, **kwargs)
    with atomic_open(path, 'w', newline='') as handle:
        frame.to_csv(handle, index=False)
    return path
