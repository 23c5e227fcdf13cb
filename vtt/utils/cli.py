"""Shared behaviour of the command-line tools: friendly errors instead of tracebacks."""
import contextlib
import os
import sys

__all__ = ['user_errors']


@contextlib.contextmanager
def user_errors():
    """Turn errors caused by the user's input (missing files or weights, malformed data,
    unsafe checkpoints, unsupported options) into one ``error: ...`` line and exit status 1.
    Set ``VTT_DEBUG=1`` to see the full traceback."""
    from vtt.datasets import DataFormatError
    from vtt.models.encoders import PretrainedWeightsNotFoundError
    from vtt.utils.compat import UnsafeCheckpointError

    expected = (FileNotFoundError, DataFormatError, PretrainedWeightsNotFoundError,
                UnsafeCheckpointError, AmpUnavailableError)
    try:
        yield
    except expected as error:
        if os.environ.get('VTT_DEBUG'):
            raise
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)


class AmpUnavailableError(RuntimeError):
    """``--amp`` was asked for on a machine without a supported accelerator."""


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


def apply_runner_args(cfg, args) -> None:
    """Fold the shared options into ``cfg`` (and set up CPU distributed if asked)."""
    import os.path as osp
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.launcher == 'pytorch':
        from .compat import init_cpu_distributed
        init_cpu_distributed(cfg)
