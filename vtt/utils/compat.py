"""Compatibility patches for mmengine 0.10.7 on current torch (>= 2.6).

Everything vtt changes about mmengine's behaviour lives in this one module, each patch with a
test in ``tests/test_utils/test_compat.py``:

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
2. **CPU distributed training.** mmengine's ``init_dist('pytorch')`` calls
   ``torch.cuda.set_device`` and its default DDP wrapper passes ``device_ids=[LOCAL_RANK]``; both
   fail on a machine without CUDA. :func:`init_cpu_distributed` initialises a gloo process group
   itself (mmengine then skips its own init) and returns the ``model_wrapper_cfg`` to use.
3. **AMP on CPU.** ``AmpOptimWrapper`` asserts a GPU with a message that does not say what to do;
   :func:`check_amp_available` raises a clear error first.
4. **Atomic writes.** mmengine's local file backend writes checkpoints (and ``last_checkpoint``)
   in place, so a crash mid-write leaves a truncated file. The patched ``put``/``put_text`` write
   a temporary file in the same directory and rename it over the target.
"""
import collections
import os
import pickle
import re
from typing import Any, Optional

import numpy as np
import torch

__all__ = [
    'UnsafeCheckpointError', 'safe_torch_load', 'apply_mmengine_patches', 'check_amp_available',
    'init_cpu_distributed', 'CHECKPOINT_SAFE_GLOBALS'
]


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint asked to unpickle a global that is not on vtt's allowlist."""


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
    from mmengine.logging import HistoryBuffer
    from mmengine.config.config import ConfigDict
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


def check_amp_available(device: Optional[str] = None) -> None:
    """Raise a clear error when automatic mixed precision cannot run here.

    mmengine's ``AmpOptimWrapper`` (what ``--amp`` selects) needs a CUDA/NPU/MLU device.
    """
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        from .cli import AmpUnavailableError
        raise AmpUnavailableError(
            '--amp needs a CUDA GPU: mmengine\'s AmpOptimWrapper only runs on CUDA/NPU/MLU '
            'devices and this machine has none (torch.cuda.is_available() is False). Run '
            'without --amp on CPU; training in float32 gives the same results, only slower.')


def init_cpu_distributed(cfg) -> None:
    """Initialise ``torch.distributed`` with gloo on a machine without CUDA.

    Reads the torchrun environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``)
    and sets ``cfg.model_wrapper_cfg`` to a DDP wrapper without ``device_ids``. Does nothing when
    CUDA is available (mmengine's own NCCL path is used then) or the group is already up.
    """
    import torch.distributed as dist
    if torch.cuda.is_available() or (dist.is_available() and dist.is_initialized()):
        return
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs the torchrun environment; missing {missing}. '
                           'Start it with tools/dist_train.sh or `torchrun`.')
    dist.init_process_group(
        backend='gloo', rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
