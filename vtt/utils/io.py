import contextlib
import json
import os
import tempfile
from typing import Any, Iterator

__all__ = ['atomic_open', 'atomic_write_bytes', 'dump_json_atomic']


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w', **kwargs) -> Iterator[Any]:
    """Open a temporary file next to ``path`` and move it over ``path`` only when the block
    finishes without error, so readers never see a half-written file and an existing file is
    never lost to a crash mid-write."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=directory)
    # mkstemp creates the file private (0600); give it the permissions open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_write_bytes(data: bytes, path: str) -> None:
    with atomic_open(path, 'wb') as handle:
        handle.write(data)


def dump_json_atomic(obj: Any, path: str, **kwargs) -> None:
    kwargs.setdefault('indent', 2)
    with atomic_open(path, 'w', encoding='utf-8') as handle:
        json.dump(obj, handle, **kwargs)
        handle.write('\n')
