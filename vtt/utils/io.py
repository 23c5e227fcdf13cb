import contextlib
import json
import os
import tempfile
from typing import Any, Iterator

__all__ = ['atomic_open', 'atomic_write_bytes', 'dump_json_atomic', 'read_text']


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


def read_text(path: str) -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is dropped; a UTF-16 file with its
    byte-order mark, as spreadsheet programs write "Unicode text", is decoded too).

    Raises:
        DataFormatError: the bytes are not valid text in that encoding; the message names the
            file, line and column of the first bad byte.
    """
    import codecs

    from .errors import DataFormatError
    with open(path, 'rb') as handle:
        data = handle.read()
    encoding, start = 'utf-8', 0
    if data.startswith(codecs.BOM_UTF8):
        start = len(codecs.BOM_UTF8)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = 'utf-16'
    try:
        return data[start:].decode(encoding)
    except UnicodeDecodeError as error:
        if encoding != 'utf-8':
            raise DataFormatError(f'{path}: not valid UTF-16 text although it starts with a '
                                  'UTF-16 byte-order mark; save it as UTF-8') from None
        offset = start + error.start
        line = data.count(b'\n', 0, offset) + 1
        column = offset - (data.rfind(b'\n', 0, offset) + 1) + 1
        raise DataFormatError(f'{path}: line {line}, column {column}: byte 0x{data[offset]:02x} '
                              'is not valid UTF-8; save the file as UTF-8') from None
