"""vtt's user-facing error types.

Every error caused by the user's input or environment (a malformed data file, a checkpoint that
would run code, weights that cannot be found, an option this machine cannot honour) derives
from :class:`VttUserError`. The command-line tools catch that one base class (plus
``FileNotFoundError``) and print a single ``error: ...`` line instead of a traceback
(``VTT_DEBUG=1`` shows the traceback). Each subclass also derives from the built-in exception
a caller would naturally catch (``ValueError`` for bad data, ``OSError`` for missing weights),
so ``except ValueError`` keeps working.

This module imports nothing from vtt, so every layer can use it.
"""

__all__ = [
    'VttUserError', 'DataFormatError', 'UnsafeCheckpointError', 'AmpUnavailableError',
    'PretrainedWeightsNotFoundError', 'PretrainedWeightsMismatchError', 'ConfigError',
    'DiskFullError', 'NonFiniteLossError'
]


class VttUserError(Exception):
    """Base class of errors that the user can fix; the message says where and how."""


class DataFormatError(VttUserError, ValueError):
    """A data file does not follow the documented contract; the message names the file and the
    line/row and field."""


class UnsafeCheckpointError(VttUserError, RuntimeError):
    """A checkpoint asked to unpickle a global that is not on vtt's allowlist."""


class AmpUnavailableError(VttUserError, RuntimeError):
    """``--amp`` was asked for on a machine without a supported accelerator."""


class PretrainedWeightsNotFoundError(VttUserError, OSError):
    """Weights named by a config could not be loaded from a local directory or the hub."""


class PretrainedWeightsMismatchError(VttUserError, ValueError):
    """A checkpoint records a frozen pretrained tower by its source and weight hash, and the
    weights found at that source today hash differently."""


class ConfigError(VttUserError, ValueError):
    """A config value is inconsistent or cannot be honoured; the message names the key."""


class DiskFullError(VttUserError, OSError):
    """The disk filled up while a file (a checkpoint, an output) was written; the file it would
    have replaced and every earlier one are intact."""


class NonFiniteLossError(VttUserError, FloatingPointError):
    """A training loss became NaN or infinite; the message names the iteration and the loss
    term, and the last checkpoint written before it is kept."""
