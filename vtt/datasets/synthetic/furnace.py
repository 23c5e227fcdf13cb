"""Furnace-style paired current + video data (SYNTHETIC, not real data).

A stand-in for an electro-fused magnesium furnace's records, built to the shape of the group's
problem: one latent furnace state drives two modalities, the current shows an abnormal episode
``lead`` steps BEFORE the video does, and labels exist for the video.

::

    latent state z[t] in {0 normal, 1 abnormal}: alternating normal stretches and abnormal
      episodes (episode and gap lengths drawn per sequence); severity s[t] in (0, 1] per episode
    current  [3, steps * samples_per_step]: three phases A(t) sin(w t + 2 pi p / 3) + noise,
      sampled `samples_per_step` times per step; during z[t] = 1 the amplitude surges and
      ripples and the phases unbalance (arc instability)           <- shows z[t]
    video    [steps, video_dims] (or small maps [steps, C, H, W]): a slowly drifting "normal
      look" plus, during an episode seen on video, a glow pattern scaled by the severity,
      with a hot spot at a random place in the map option         <- shows z[t - lead]
    labels   video_labels[t] = z[t - lead] (what an annotator of the video marks),
             current_labels[t] = z[t] (the state as the current shows it)

Everything is drawn from one ``numpy`` generator seeded with ``seed``, so the same arguments
give the same arrays. :func:`write_furnace_npz` writes them atomically (a crash leaves the old
file or none, never half of one).
"""
from typing import Dict, Optional

import numpy as np

from vtt.utils.errors import ConfigError
from vtt.utils.io import atomic_open

__all__ = ['generate_furnace', 'write_furnace_npz', 'FURNACE_ARRAYS']

#: Arrays of a furnace file and their shapes (S sequences, N steps, P samples per step).
FURNACE_ARRAYS = {
    'current': 'float32 [S, 3, N * P]',
    'video': 'float32 [S, N, D] (vector) or [S, N, C, H, W] (maps)',
    'video_labels': 'int64 [S, N], 1 = abnormal as seen on video',
    'current_labels': 'int64 [S, N], 1 = abnormal as the current shows it',
    'state': 'int64 [S, N], the latent state z',
}


def _episodes(rng, steps: int, lead: int, episode: tuple, gap: tuple,
              abnormal_share: float) -> tuple:
    """Latent state and severity of one sequence."""
    state = np.zeros(steps, np.int64)
    severity = np.zeros(steps, np.float64)
    # gaps are scaled so that abnormal steps make about `abnormal_share` of the sequence
    mean_episode = 0.5 * (episode[0] + episode[1])
    mean_gap = mean_episode * (1 - abnormal_share) / max(abnormal_share, 1e-6)
    lo, hi = gap
    scale = mean_gap / (0.5 * (lo + hi))
    t = int(rng.integers(0, max(1, int(mean_gap))))
    while t < steps:
        length = int(rng.integers(episode[0], episode[1] + 1))
        state[t:t + length] = 1
        severity[t:t + length] = rng.uniform(0.5, 1.0)
        t += length + max(1, int(round(rng.uniform(lo, hi) * scale)))
    return state, severity


def generate_furnace(num_sequences: int = 60,
                     steps: int = 160,
                     lead: int = 4,
                     samples_per_step: int = 8,
                     current_noise: float = 0.35,
                     video_noise: float = 0.3,
                     abnormal_share: float = 0.4,
                     episode: tuple = (4, 10),
                     gap: tuple = (4, 16),
                     video: str = 'vector',
                     video_dims: int = 16,
                     map_size: int = 4,
                     seed: int = 0) -> Dict[str, np.ndarray]:
    """Generate the furnace-style data (see the module docstring).

    Args:
        num_sequences (int): S, independent furnace runs. Defaults to 60.
        steps (int): N, steps per run (a step is one video frame's time). Defaults to 160.
        lead (int): Steps by which the current shows an episode before the video. Defaults
            to 4. May be 0 or negative (video first).
        samples_per_step (int): P, current samples per step. Defaults to 8.
        current_noise (float): Std of the current's noise relative to its amplitude (the
            current is the noisy modality). Defaults to 0.35.
        video_noise (float): Std of the video features' noise. Defaults to 0.3.
        abnormal_share (float): Expected share of abnormal steps (the imbalance). Defaults
            to 0.4.
        episode (tuple): Range of episode lengths in steps. Defaults to ``(4, 10)``.
        gap (tuple): Range of normal stretches (before scaling to ``abnormal_share``).
        video (str): ``'vector'`` (a ``video_dims`` feature per step) or ``'maps'``
            (``[video_dims, map_size, map_size]`` per step).
        video_dims (int): D (or map channels). Defaults to 16.
        map_size (int): H = W of the maps. Defaults to 4.
        seed (int): Defaults to 0.

    Returns:
        dict: the arrays of :data:`FURNACE_ARRAYS`.
    """
    if video not in ('vector', 'maps'):
        raise ConfigError(f"video must be 'vector' or 'maps', got {video!r}")
    if not 0 < abnormal_share < 1:
        raise ConfigError(f'abnormal_share must be in (0, 1), got {abnormal_share}')
    if abs(lead) >= steps // 2:
        raise ConfigError(f'|lead|={abs(lead)} must be below half of steps={steps}')
    rng = np.random.default_rng(seed)
    margin = abs(lead)
    total = steps + 2 * margin  # the latent state around the window both modalities see
    p = samples_per_step
    current = np.empty((num_sequences, 3, steps * p), np.float32)
    shape = (video_dims, ) if video == 'vector' else (video_dims, map_size, map_size)
    frames = np.empty((num_sequences, steps, *shape), np.float32)
    state_out = np.empty((num_sequences, steps), np.int64)
    video_labels = np.empty((num_sequences, steps), np.int64)
    # fixed "looks": the normal drift directions and the glow pattern of an episode
    normal_look = rng.normal(size=(2, *shape))
    glow = rng.normal(size=shape)
    glow /= np.sqrt((glow ** 2).mean())
    for s in range(num_sequences):
        z, severity = _episodes(rng, total, lead, episode, gap, abnormal_share)
        cur = slice(margin, margin + steps)  # current at step t shows z[t]
        vid = slice(margin - lead, margin - lead + steps)  # video at t shows z[t - lead]
        state_out[s] = z[cur]
        video_labels[s] = z[vid]
        # ---- current: 3 phases, P samples per step
        time = np.arange(steps * p) / p
        zs = np.repeat(z[cur], p)
        sev = np.repeat(severity[cur], p)
        amplitude = 1.0 + rng.normal(0, 0.05) + zs * sev * (
            0.6 + 0.4 * np.sin(2 * np.pi * time / rng.uniform(2.0, 4.0)))
        omega = 2 * np.pi * rng.uniform(0.9, 1.1) / 2.0  # about half a cycle per step
        unbalance = 1.0 + zs[None] * sev[None] * rng.uniform(-0.5, 0.5, size=(3, 1))
        ripple = zs * sev * 0.5 * np.sin(2 * np.pi * 3.3 * time)
        phases = np.stack([np.sin(omega * time + 2 * np.pi * k / 3) for k in range(3)])
        current[s] = (amplitude * unbalance * phases + ripple
                      + rng.normal(0, current_noise, size=(3, steps * p)))
        # ---- video: a drifting normal look + the glow of an episode (as the video sees it)
        drift = np.cumsum(rng.normal(0, 0.05, size=(steps, 2)), axis=0)
        look = np.tensordot(drift, normal_look, axes=1)
        strength = (z[vid] * severity[vid]).reshape(-1, *([1] * len(shape)))
        pattern = np.broadcast_to(glow, (steps, *shape)).copy()
        if video == 'maps':  # the glow is brightest at a hot spot that moves per episode
            yy, xx = np.mgrid[:map_size, :map_size]
            spot = rng.integers(0, map_size, size=2)
            bump = np.exp(-((yy - spot[0]) ** 2 + (xx - spot[1]) ** 2) / 2.0)
            pattern = pattern * (0.5 + bump)[None, None]
        frames[s] = look + 1.5 * strength * pattern + rng.normal(0, video_noise,
                                                                  size=(steps, *shape))
    return dict(current=current, video=frames, video_labels=video_labels,
                current_labels=state_out.copy(), state=state_out)


def write_furnace_npz(path: str, meta: Optional[dict] = None, **kwargs) -> Dict[str, np.ndarray]:
    """Generate with ``kwargs`` (:func:`generate_furnace`) and write one ``.npz`` atomically,
    with the arguments stored as ``meta`` (a JSON string). Returns the arrays."""
    import json
    arrays = generate_furnace(**kwargs)
    info = dict(generator='vtt.datasets.synthetic.furnace', synthetic=True, **kwargs,
                **(meta or {}))
    with atomic_open(path, 'wb') as f:
        np.savez_compressed(f, meta=np.array(json.dumps(info, default=list)), **arrays)
    return arrays
