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
   a temporary file in the same directory and rename it over the target (fsync before the
   rename). A full disk (ENOSPC) stops with :class:`DiskFullError` naming the file; the file it
   would have replaced is untouched.
3. **Checkpoints that cannot vanish.** mmengine's ``CheckpointHook`` removes the previous best
   checkpoint before writing the new one, removes the oldest kept checkpoint before writing
   the next, and writes ``last_checkpoint`` in place; a crash between those steps loses the
   best model or leaves ``--resume auto`` pointing at a deleted file. The patched methods
   write first and remove afterwards, in an order where every crash point leaves a complete
   checkpoint that the latest state on disk refers to (see :func:`_save_best_checkpoint`).
   With validation, the epoch's checkpoint is written after that epoch's validation (not
   before it), so it holds the validation's outcome too (best score and path, early-stopping
   counters, a plateau scheduler's state): a run killed during validation resumes from the
   previous epoch and validates again, and ends exactly as an uninterrupted run would.
   :func:`vtt.utils.faults.fault_point` marks the crash points the tests kill at.
4. **Config mistakes explained.** ``Registry.build`` checks a config before building it: an
   unknown ``type`` raises :class:`ConfigError` with the closest registered names ("did you
   mean"), and arguments the component's constructor cannot take (unknown, or a required one
   missing) raise :class:`ConfigError` listing the arguments it accepts. Only registries that
   build with mmengine's standard builders are checked (schedulers, for instance, take extra
   arguments their builder consumes).
"""
import collections
import difflib
import errno
import inspect
import os
import pickle
import re
import threading
from typing import Any

import numpy as np
import torch

from .errors import ConfigError, DataFormatError, DiskFullError, UnsafeCheckpointError
from .faults import fault_point

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


_SAFE_LOAD_LOCK = threading.RLock()

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
    # torch's safe_globals context sets and clears one process-wide list: two threads loading
    # at once would clear it under each other (found by the fault-injection campaign)
    with _SAFE_LOAD_LOCK, torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            match = _UNSUPPORTED_GLOBAL.search(str(error))
            name = match.group(1) if match else None
            if not match:  # no global named: the pickle itself is damaged
                raise DataFormatError(f'{filename}: not a readable checkpoint (corrupted or '
                                      f'truncated: {_first_line(error)})') from None
            raise UnsafeCheckpointError(
                f'refused to load checkpoint {filename}: it asks to unpickle the global '
                f"'{name}', which is not on vtt's allowlist of checkpoint contents. Loading it "
                'could execute arbitrary code, so nothing from it was run. Only load checkpoints '
                'you trust; if this global is a harmless type your own code saved, add it with '
                '`torch.serialization.add_safe_globals([...])` before loading.') from None
        except Exception as error:  # torch fails on damaged files with a dozen types
            if isinstance(error, FileNotFoundError):
                raise
            # torch reports a damaged file from deep inside its zip reader or unpickler
            raise DataFormatError(f'{filename}: not a readable checkpoint (corrupted or '
                                  f'truncated: {type(error).__name__}: {_first_line(error)})'
                                  ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _load_from_local(filename: str, map_location: Any) -> Any:
    """Replacement for mmengine's local-file checkpoint loader (see module docstring)."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


_DISK_FULL = {errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)}


def _write_atomic(path: str, data, mode: str, **kwargs) -> None:
    """Write ``data`` to ``path`` through a temporary file; a full disk raises
    :class:`DiskFullError` and leaves ``path`` as it was."""
    from .io import atomic_open
    try:
        with atomic_open(path, mode, **kwargs) as handle:
            half = len(data) // 2
            handle.write(data[:half])
            handle.flush()
            fault_point('file.write')  # a crash half-way through writing
            handle.write(data[half:])
    except OSError as error:
        if error.errno not in _DISK_FULL:
            raise
        directory = os.path.dirname(os.path.abspath(path))
        kept = sorted(f for f in os.listdir(directory) if f.endswith('.pth'))
        raise DiskFullError(
            f'no space left on the device while writing {path}; nothing was overwritten'
            + (f' and the checkpoints already in {directory} are intact ({", ".join(kept)})'
               if kept else '') + '. Free some space, then continue with --resume.') from None


def _remove_checkpoint(hook, path) -> None:
    if hook.file_backend.isfile(path):
        hook.file_backend.remove(path)
    elif hook.file_backend.isdir(path):  # checkpoints saved by deepspeed are directories
        hook.file_backend.rmtree(path)


def _save_checkpoint_with_step(self, runner, step, meta) -> None:
    """Replacement for ``CheckpointHook._save_checkpoint_with_step``: save the new checkpoint,
    then point ``last_checkpoint`` at it (atomically), then remove the checkpoint that
    ``max_keep_ckpts`` drops, so ``--resume auto`` always finds a complete file."""
    from mmengine.dist import is_main_process
    outdated = None
    if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
    filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(
        self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
        backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    _write_atomic(os.path.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt), 'w')
    fault_point('checkpoint.before_remove_outdated')
    if outdated is not None and outdated != self.last_ckpt:
        _remove_checkpoint(self, outdated)


def _validates_after_this_epoch(runner) -> bool:
    loop = runner.train_loop
    epoch = getattr(loop, '_epoch', None)
    if runner.val_loop is None or epoch is None or not hasattr(loop, 'val_interval'):
        return False
    epoch += 1  # the loop counts the epoch as done only after this hook
    return epoch >= loop.val_begin and (epoch % loop.val_interval == 0
                                        or epoch == loop.max_epochs)


def after_train_epoch(self, runner) -> None:
    """Replacement for ``CheckpointHook.after_train_epoch``: when this epoch is validated,
    defer its checkpoint to :func:`after_val_epoch` (see the module docstring)."""
    if not self.by_epoch:
        return
    if self.every_n_epochs(runner, self.interval, self.save_begin) or (
            self.save_last and self.is_last_train_epoch(runner)):
        if _validates_after_this_epoch(runner):
            self._vtt_deferred_step = runner.epoch + 1
            return
        runner.logger.info(f'Saving checkpoint at {runner.epoch + 1} epochs')
        self._save_checkpoint(runner)


def after_val_epoch(self, runner, metrics) -> None:
    """Replacement for ``CheckpointHook.after_val_epoch``: the best checkpoint first, then the
    epoch's deferred checkpoint, which thereby records the validation's outcome."""
    step = getattr(self, '_vtt_deferred_step', None)
    self._vtt_deferred_step = None
    if metrics:
        self._save_best_checkpoint(runner, metrics, resave_latest=step is None)
    else:
        runner.logger.warning('Since `metrics` is an empty dict, the behavior to save the '
                              'best checkpoint will be skipped in this evaluation.')
    if step is not None:
        runner.logger.info(f'Saving checkpoint at {step} epochs')
        self._save_checkpoint_with_step(runner, step, dict(epoch=step, iter=runner.iter))
        fault_point('best.before_remove_previous')
        _remove_superseded_best(self, runner)


def _remove_superseded_best(self, runner) -> None:
    from mmengine.dist import is_main_process
    superseded, self._vtt_superseded = getattr(self, '_vtt_superseded', []), []
    if is_main_process():
        for previous in superseded:
            _remove_checkpoint(self, previous)
            runner.logger.info(f'The previous best checkpoint {previous} is removed')


def _save_best_checkpoint(self, runner, metrics, resave_latest: bool = True) -> None:
    """Replacement for ``CheckpointHook._save_best_checkpoint`` that never removes the best
    checkpoint before its successor is safely on disk.

    Order, per improved metric: record the new best path and score, write the new best file,
    re-save the latest checkpoint (it carries the best path and score for a resume), and only
    then remove the previous best. A crash before the re-save leaves the latest checkpoint
    naming the previous best, which still exists; a crash after it leaves it naming the new
    one, which exists too (the old file may remain, harmless). With ``resave_latest=False``
    the caller writes the latest checkpoint and removes the superseded best afterwards."""
    if not self.save_best:
        return
    if self.by_epoch:
        ckpt_filename, cur_type, cur_time = (self.filename_tmpl.format(runner.epoch), 'epoch',
                                             runner.epoch)
    else:
        ckpt_filename, cur_type, cur_time = (self.filename_tmpl.format(runner.iter), 'iter',
                                             runner.iter)
    meta = dict(epoch=runner.epoch, iter=runner.iter)
    if 'auto' in self.key_indicators:
        self._init_rule(self.rules, [list(metrics.keys())[0]])
    single = len(self.key_indicators) == 1
    superseded, updated = [], False
    for key_indicator, rule in zip(self.key_indicators, self.rules):
        score_key = 'best_score' if single else f'best_score_{key_indicator}'
        path_key = 'best_ckpt' if single else f'best_ckpt_{key_indicator}'
        previous = self.best_ckpt_path if single else self.best_ckpt_path_dict[key_indicator]
        best_score = runner.message_hub.runtime_info.get(score_key, self.init_value_map[rule])
        score = metrics[key_indicator]
        if score is None or not self.is_better_than[key_indicator](score, best_score):
            continue
        updated = True
        runner.message_hub.update_info(score_key, score)
        name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
        path = self.file_backend.join_path(self.out_dir, name)
        if single:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key_indicator] = path
        runner.message_hub.update_info(path_key, path)
        runner.save_checkpoint(self.out_dir, filename=name,
                               file_client_args=self.file_client_args, save_optimizer=False,
                               save_param_scheduler=False, meta=meta, by_epoch=False,
                               backend_args=self.backend_args)
        runner.logger.info(f'The best checkpoint with {score:0.4f} {key_indicator} at '
                           f'{cur_time} {cur_type} is saved to {name}.')
        if previous and previous != path:
            superseded.append(previous)
    self._vtt_superseded = getattr(self, '_vtt_superseded', []) + superseded
    if not updated or not resave_latest:
        return  # the caller saves the latest checkpoint and then removes the superseded
    fault_point('best.before_resave_latest')
    # the latest checkpoint was written before validation; save it again so that it records
    # the new best path and score (mmengine does the same, but after removing the old best)
    if self.last_ckpt is not None:
        self._save_checkpoint_with_step(runner, cur_time, meta)
    fault_point('best.before_remove_previous')
    _remove_superseded_best(self, runner)


def _registered_names(registry) -> list:
    names, node = set(), registry
    while node is not None:
        names.update(node.module_dict)
        node = node.parent
    return sorted(names)


def _close_names(name: str, names: list) -> list:
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    close += [by_lower[n] for n in by_lower if name.lower() in n and by_lower[n] not in close]
    return list(dict.fromkeys(by_lower.get(n, n) for n in close))[:5]


def _describe(parameter: inspect.Parameter) -> str:
    if parameter.default is inspect.Parameter.empty:
        return f'{parameter.name} (required)'
    text = repr(parameter.default)
    return f'{parameter.name}=' + (text if len(text) <= 30 else
                                   f'{type(parameter.default).__name__}(...)')


def _accepted_parameters(obj_cls):
    """The parameters ``obj_cls(...)`` accepts: its own, and where its ``__init__`` passes
    ``**kwargs`` on to ``super().__init__``, those of the next class in the MRO that defines
    one, and so on (vtt's algorithms forward their options to ``BaseAlgorithm`` that way).
    A ``**kwargs`` entry stays in the result when the chain ends in one that takes anything.
    None when the signature cannot be read."""
    if not inspect.isclass(obj_cls):
        try:
            return list(inspect.signature(obj_cls).parameters.values())
        except (TypeError, ValueError):
            return None
    collected, seen = [], set()
    for klass in obj_cls.__mro__:
        init = vars(klass).get('__init__')
        if init is None:
            continue
        if klass in (object, torch.nn.Module):
            break
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            return None
        for param in params:
            if param.kind is not inspect.Parameter.VAR_KEYWORD and param.name not in seen:
                seen.add(param.name)
                collected.append(param)
        var_keyword = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
        if not var_keyword:
            return collected
        if 'super().__init__(' not in _source(init) or '**' not in _source(init):
            return collected + var_keyword  # **kwargs go elsewhere: cannot tell
    return collected


def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ''


def check_build_config(registry, cfg, default_args=None) -> None:
    """Raise :class:`ConfigError` if ``cfg`` names a type ``registry`` does not know or passes
    arguments its constructor cannot take; do nothing otherwise (see the module docstring)."""
    from mmengine.registry.build_functions import build_from_cfg, build_model_from_cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        return
    obj_type = cfg['type']
    if isinstance(obj_type, str):
        with registry.switch_scope_and_registry(cfg.get('_scope_')) as scoped:
            obj_cls = scoped.get(obj_type)
            if obj_cls is None:
                close = _close_names(obj_type.split('.')[-1], _registered_names(scoped))
                hint = (f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else
                        '; is the module that registers it imported (custom_imports)?')
                raise ConfigError(f"unknown type '{obj_type}' in the {scoped.scope}::"
                                  f'{scoped.name} registry{hint}')
    elif callable(obj_type):
        obj_cls = obj_type
    else:
        return
    if registry.build_func not in (build_from_cfg, build_model_from_cfg):
        return
    named = _accepted_parameters(obj_cls)
    if named is None:
        return
    args = {k: v for k, v in cfg.items() if k not in ('type', '_scope_')}
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    accepts_anything = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in named)
    named = [p for p in named
             if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    names = [p.name for p in named]
    unknown = [] if accepts_anything else [k for k in args if k not in names]
    try:  # required: only the constructor's own (a parent's may be filled by the child)
        own = inspect.signature(obj_cls).parameters.values()
    except (TypeError, ValueError):
        own = []
    missing = [p.name for p in own
               if p.default is inspect.Parameter.empty and p.name not in args
               and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              inspect.Parameter.KEYWORD_ONLY)]
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        problems.append(f"unknown argument '{key}'" + (f" (did you mean '{close[0]}'?)"
                                                       if close else ''))
    problems += [f"missing required argument '{name}'" for name in missing]
    if not problems:
        return
    name = getattr(obj_cls, '__name__', str(obj_cls))
    raise ConfigError(f'{name}: {"; ".join(problems)}. {name} accepts: '
                      + (', '.join(_describe(p) for p in named) or 'no arguments'))


_PATCHED = False


def apply_mmengine_patches() -> None:
    """Apply the patches of this module once per process (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)

    def put(self, obj: bytes, filepath) -> None:
        _write_atomic(str(filepath), obj, 'wb')

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        _write_atomic(str(filepath), obj, 'w', encoding=encoding)

    LocalBackend.put = put
    LocalBackend.put_text = put_text

    from mmengine.hooks import CheckpointHook
    CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step
    CheckpointHook._save_best_checkpoint = _save_best_checkpoint
    CheckpointHook.after_train_epoch = after_train_epoch
    CheckpointHook.after_val_epoch = after_val_epoch

    from mmengine.logging import HistoryBuffer

    def history_getstate(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}

    HistoryBuffer.__getstate__ = history_getstate

    from mmengine.registry import Registry
    build = Registry.build

    def explained_build(self, cfg, *args, **kwargs):
        default_args = kwargs.get('default_args', args[0] if args else None)
        check_build_config(self, cfg, default_args)
        try:
            return build(self, cfg, *args, **kwargs)
        except ConfigError as error:
            # a mistake inside a nested component: say which outer component holds it
            outer = cfg.get('type') if isinstance(cfg, dict) else None
            outer = getattr(outer, '__name__', outer)
            if isinstance(outer, str) and error.args and not str(error).startswith(outer):
                error.args = (f'{outer} > {error.args[0]}', ) + error.args[1:]
            raise

    Registry.build = explained_build
    _PATCHED = True
