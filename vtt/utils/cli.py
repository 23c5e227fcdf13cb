"""Shared behaviour of the command-line tools: friendly errors instead of tracebacks."""
import contextlib
import os
import os.path as osp
import sys

from .errors import VttUserError

__all__ = [
    'user_errors', 'add_runner_args', 'apply_runner_args', 'drop_disabled_hooks', 'load_config'
]


@contextlib.contextmanager
def user_errors():
    """Turn errors caused by the user's input (any :class:`vtt.utils.errors.VttUserError`:
    malformed data, missing or mismatching weights, unsafe checkpoints, unsupported options;
    and missing files) into one ``error: ...`` line and exit status 1.
    Set ``VTT_DEBUG=1`` to see the full traceback."""
    try:
        yield
    except (VttUserError, FileNotFoundError) as error:
        if os.environ.get('VTT_DEBUG'):
            raise
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)


def load_config(path: str):
    """``Config.fromfile`` whose missing files say what was tried: the config itself, or a
    ``_base_`` entry of it (or of one of its bases), resolved to an absolute path."""
    from mmengine.config import Config

    from .errors import ConfigError
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path} (looked at {osp.abspath(path)})')
    try:
        return Config.fromfile(path)
    except FileNotFoundError as error:
        missing = osp.normpath(error.filename) if error.filename else str(error)
        raise ConfigError(f'{path}: a _base_ file does not exist: tried {missing} (a relative '
                          '_base_ path is resolved from the directory of the config that names '
                          'it)') from None


def add_runner_args(parser) -> None:
    """Options shared by tools/train.py and tools/test.py."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='directory for logs, checkpoints and outputs '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=3 model.embed_dims=256')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='job launcher (pytorch = started by torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--no-feature-cache', action='store_true',
                        help='do not cache frozen-tower features (in memory or on disk)')


def drop_disabled_hooks(cfg) -> None:
    """Remove ``default_hooks`` entries set to None.

    vtt's standard hooks are named entries of ``default_hooks`` (see
    ``configs/_base_/default_runtime.py``), so a config switches one off with
    ``default_hooks = dict(confusion_matrix=None)``; mmengine's Runner accepts None only for
    its own hook names and asserts on others.
    """
    hooks = cfg.get('default_hooks')
    if hooks:
        mmengine_names = {'runtime_info', 'timer', 'sampler_seed', 'logger', 'param_scheduler',
                          'checkpoint'}
        for name in [k for k, v in hooks.items() if v is None and k not in mmengine_names]:
            hooks.pop(name)


def disable_feature_cache(cfg) -> None:
    """``--no-feature-cache``: switch off the model's frozen-feature cache (TimesCLIP's
    ``cache_vision_features`` / ``feature_cache_dir``); an error for a model without one."""
    import inspect

    from vtt.registry import MODELS
    model_type = cfg.model.get('type')
    model_cls = MODELS.get(model_type) if isinstance(model_type, str) else model_type
    has_cache = any('cache_vision_features' in inspect.signature(c.__init__).parameters
                    for c in getattr(model_cls, '__mro__', ()) if '__init__' in vars(c))
    if not has_cache and 'cache_vision_features' not in cfg.model:
        from .errors import ConfigError
        raise ConfigError(f'--no-feature-cache: {model_type} has no feature cache')
    cfg.model['cache_vision_features'] = False
    cfg.model['feature_cache_dir'] = None


def apply_runner_args(cfg, args) -> None:
    """Fold the shared options into ``cfg`` (and set up CPU distributed if asked)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    drop_disabled_hooks(cfg)
    if getattr(args, 'no_feature_cache', False):
        disable_feature_cache(cfg)
    if args.launcher == 'pytorch':
        from .dist import init_cpu_distributed
        init_cpu_distributed(cfg)
