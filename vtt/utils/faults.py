"""Named fault points for fault-injection tests (``tools/benchmarks/fault_injection.py``).

Code that must survive a crash at a delicate moment (between writing a new best checkpoint and
removing the old one, half-way through writing a checkpoint file, ...) calls
:func:`fault_point` with a name there. Normally that is one dictionary lookup and nothing
happens. When the environment variable ``VTT_FAULT_POINT`` names the point, the process kills
itself with SIGKILL at that moment, exactly as ``kill -9`` or the kernel's OOM killer would: no
``finally`` block, no ``atexit`` handler and no buffered write runs.

``VTT_FAULT_POINT`` is ``name`` (kill the first time the point is reached) or ``name:N`` (kill
the N-th time, counting from 1); several may be given separated by commas.

This module imports nothing from vtt, so every layer can use it.
"""
import collections
import os
import signal

__all__ = ['fault_point', 'FAULT_POINT_ENV']

FAULT_POINT_ENV = 'VTT_FAULT_POINT'
_hits: collections.Counter = collections.Counter()


def _armed() -> dict:
    spec = os.environ.get(FAULT_POINT_ENV, '')
    armed = {}
    for item in filter(None, (part.strip() for part in spec.split(','))):
        name, _, count = item.partition(':')
        armed[name] = int(count) if count else 1
    return armed


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if ``VTT_FAULT_POINT`` arms ``name`` for this hit."""
    if FAULT_POINT_ENV not in os.environ:
        return
    _hits[name] += 1
    if _armed().get(name) == _hits[name]:
        os.kill(os.getpid(), signal.SIGKILL)
