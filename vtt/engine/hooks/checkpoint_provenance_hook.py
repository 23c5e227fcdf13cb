import platform
from typing import Any, Dict, List

from mmengine.hooks import Hook

from vtt.registry import HOOKS

__all__ = ['CheckpointProvenanceHook', 'config_differences']


def _versions() -> Dict[str, str]:
    import mmengine
    import numpy
    import torch

    import vtt
    return dict(vtt=str(vtt.__version__), torch=str(torch.__version__),
                mmengine=str(mmengine.__version__),
                numpy=str(numpy.__version__), python=platform.python_version())


def _flatten(value: Any, prefix: str, out: Dict[str, Any]) -> Dict[str, Any]:
    if isinstance(value, dict):
        for key in value:
            _flatten(value[key], f'{prefix}.{key}' if prefix else str(key), out)
        if not value:
            out[prefix] = {}
    elif isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            _flatten(item, f'{prefix}[{index}]', out)
    else:
        out[prefix] = list(value) if isinstance(value, tuple) else value
    return out


class _Missing:
    def __repr__(self) -> str:
        return '<missing>'


_MISSING = _Missing()


def config_differences(saved: dict, current: dict, prefix: str = 'model') -> List[str]:
    """``key: saved -> current`` for each leaf of two config sections that differs (dotted
    keys; list items by index)."""
    old, new = _flatten(saved, prefix, {}), _flatten(current, prefix, {})
    lines = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if before is _MISSING or after is _MISSING or before != after:
            lines.append(f'{key}: {before!r} -> {after!r}')
    return lines


@HOOKS.register_module()
class CheckpointProvenanceHook(Hook):
    """Record where a checkpoint came from, and say what differs when it is loaded.

    Every checkpoint gets ``meta['provenance']``: the versions of vtt, torch, mmengine, numpy and
    Python that wrote it (mmengine already stores the full config as ``meta['cfg']``). When a
    checkpoint is loaded (``--resume``, ``load_from``, ``tools/test.py``) into a run whose
    ``model`` config differs from the one that wrote it, a warning lists each differing key
    with both values, so a shape mismatch or a silently ignored weight has an explanation next
    to it; differing library versions are logged too. ``strict=True`` turns a differing model
    config into an error instead.
    """

    priority = 'VERY_LOW'

    def __init__(self, strict: bool = False, max_listed: int = 20):
        self.strict = strict
        self.max_listed = max_listed

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['provenance'] = _versions()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        source = runner._load_from if isinstance(runner._load_from, str) else 'the checkpoint'
        provenance = meta.get('provenance')
        if provenance:
            now = _versions()
            changed = [f'{k} {provenance[k]} -> {now[k]}' for k in now
                       if k in provenance and provenance[k] != now[k]]
            if changed:
                runner.logger.info(f'{source} was written with other versions: '
                                   + ', '.join(changed))
        text = meta.get('cfg')
        if not text or runner.cfg.get('model') is None:
            return
        from mmengine.config import Config
        try:
            saved = Config.fromstring(text, file_format='.py')
        except Exception as error:  # an unparsable stored config must not block loading
            runner.logger.warning(f'could not read the config stored in {source}: {error}')
            return
        saved_model = saved.get('model')
        saved_model = saved_model.to_dict() if saved_model is not None else {}
        differences = config_differences(saved_model, runner.cfg.model.to_dict())
        if not differences:
            return
        if saved_model.get('type') != runner.cfg.model.get('type') and not self.strict:
            # a transfer on purpose (pretraining -> classifier): say so, do not list it all
            runner.logger.info(f"{source} holds a {saved_model.get('type')}; loading the "
                               f"weights that match into a {runner.cfg.model.get('type')}")
            return
        listed = differences[:self.max_listed]
        more = len(differences) - len(listed)
        message = (f'{source} was trained with a different model config; {len(differences)} '
                   'key(s) differ (saved -> now): ' + '; '.join(listed)
                   + (f'; ... and {more} more' if more else ''))
        if self.strict:
            from vtt.utils.errors import ConfigError
            raise ConfigError(message)
        runner.logger.warning(message)
