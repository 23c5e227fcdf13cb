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
