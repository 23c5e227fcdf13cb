"""Compatibility patches for mmengine 0.10.7 on current torch (>= 2.6).

Everything vtt changes about mmengine's own behaviour lives in this one module, each patch with a
test in ``tests/test_utils/test_compat.py``. (Helpers that work around mmengine without patching
it live beside it: :mod:`vtt.utils.dist` for CPU distributed training, :mod:`vtt.utils.amp` for
``--amp`` on CPU.)

1. **Safe checkpoint loading.** torch >= 2.6 loads with ``weights_only=True`` by default, which
   rejects the globals mmengine puts in its checkpoints (``HistoryBuffer`` of the message hub,
   numpy arrays and scalars of logged metrics, the numpy RNG state), so ``resume`` and
   ``load_from`` fail. The fix is an explicit allowlist of those globals; loading stays
   ``weights_only`` so that a checkpoint crafted to run code on load (a pickle whose reduce calls
   ``os.system``, ``builtins.eval`` ...) is refused with :class:`UnsafeCheckpointError`, naming the
   global it asked for, and nothing in it runs. We never fall back to ``weights_only=False``.
   mmengine's ``HistoryBuffer.__getstate__`` also pickles its class-level table of statistics
   methods, which serialises as ``getattr(HistoryBuffer, 'min')``; allowing ``getattr`` would
   let a crafted file call any method of any allowed class (``ndarray.tofile`` writes files), so
   instead the patched ``__getstate__`` leaves that table out (it lives on the class and is not
   state). Checkpoints written by unpatched mmengine therefore need ``getattr`` and are refused.
2. **Atomic writes.** mmengine's local file backend writes checkpoints (and ``last_checkpoint``)
   in place, so a crash mid-write leaves a truncated file. The patched ``put``/``put_text`` write
   a temporary file in the same directory and rename it over the target.
"""
import collections
import os
import pickle
import re
from typing import Any

import numpy as np
import torch

from .errors import UnsafeCheckpointError

__all__ = ['safe_torch_load', 'apply_mmengine_patches', 'CHECKPOINT_SAFE_GLOBALS']


def _numpy_globals() -> list:
    """Numpy objects that appear in mmengine checkpoints (logged scalars, RNG states)."""
    found = [np.ndarray, np.dtype]
    # ``np.array`` pickles reduce through ``multiarray._reconstruct`` and scalars through
    # ``multiarray.scalar``; their module moved from ``numpy.core`` to ``numpy._core`` in numpy 2.
    for module_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            module = __import__(module_name, fromlist=['_reconstruct'])
        except ImportError:
            continue
        found += [module._reconstruct, module.scalar]
        break
    # numpy >= 1.25 pickles dtypes by their class (``numpy.dtypes.Float64DType`` ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType') and isinstance(getattr(dtypes, name), type)
        ]
    return found


def _mmengine_globals() -> list:
    from mmengine.config.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, ConfigDict]


def _safe_globals() -> list:
    return (_mmengine_globals() + _numpy_globals() +
            [collections.OrderedDict, collections.defaultdict, set, frozenset, slice, complex])


#: Globals a vtt/mmengine checkpoint may contain besides tensors and plain containers.
CHECKPOINT_SAFE_GLOBALS = _safe_globals()

_UNSUPPORTED_GLOBAL = re.compile(r'(?:Unsupported global|unsupported GLOBAL)[^A-Za-z_]*'
                                 r'(?:GLOBAL )?([A-Za-z_][\w.]*)', re.IGNORECASE)


def safe_torch_load(filename: Any, map_location: Any = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and vtt's allowlist of globals.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the file needs a global outside the allowlist (for example a
            pickle crafted to execute code on load). Nothing from the file is executed.
    """
    if isinstance(filename, (str, os.PathLike)) and not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    with torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            match = _UNSUPPORTED_GLOBAL.search(str(error))
            name = match.group(1) if match else 'unknown'
            raise UnsafeCheckpointError(
                f'refused to load checkpoint {filename}: it asks to unpickle the global '
                f"'{name}', which is not on vtt's allowlist of checkpoint contents. Loading it "
                'could execute arbitrary code, so nothing from it was run. Only load checkpoints '
                'you trust; if this global is a harmless type your own code saved, add it with '
                '`torch.serialization.add_safe_globals([...])` before loading.') from None


def _load_from_local(filename: str, map_location: Any) -> Any:
    """Replacement for mmengine's local-file checkpoint loader (see module docstring)."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


_PATCHED = False


def apply_mmengine_patches() -> None:
    """Apply the patches of this module once per process (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.checkpoint import CheckpointLoader

    from .io import atomic_open
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)

    def put(self, obj: bytes, filepath) -> None:
        with atomic_open(str(filepath), 'wb') as handle:
            handle.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        with atomic_open(str(filepath), 'w', encoding=encoding) as handle:
            handle.write(obj)

    LocalBackend.put = put
    LocalBackend.put_text = put_text

    from mmengine.logging import HistoryBuffer

    def history_getstate(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}

    HistoryBuffer.__getstate__ = history_getstate
    _PATCHED = True
