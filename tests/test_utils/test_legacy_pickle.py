"""The restricted unpickler of the HAPT pickle: the real file loads (without pandas), and
pickles that name anything else are refused before anything runs."""
import builtins
import gzip
import os
import pickle
import sys

import numpy as np
import pytest

from vtt.utils import (
    assets,  # noqa: E402
    legacy_pickle,
)
from vtt.utils.errors import DataFormatError, UnsafeCheckpointError
from vtt.utils.legacy_pickle import (
    HAPT_CACHE_VERSION,
    HAPT_COLUMNS,
    HAPT_NUM_ROWS,
    HAPT_PICKLE_SHA256,
    hapt_pickle_to_npz,
    load_hapt_pickle,
    restricted_loads,
)

PANDAS_MODULES = ('pandas', 'pandas.core', 'pandas.core.frame', 'pandas.core.internals',
                  'pandas.core.internals.managers', 'pandas.core.indexes',
                  'pandas.core.indexes.base', 'pandas.core.indexes.range')


@pytest.fixture(scope='module')
def hapt_path():
    return str(assets.hapt_pickle_path())


@pytest.fixture(scope='module')
def columns(hapt_path):
    """The real file, read while any import of pandas would fail."""
    with pytest.MonkeyPatch.context() as patch:
        for name in PANDAS_MODULES:
            patch.setitem(sys.modules, name, None)  # `import pandas...` now raises ImportError
        return load_hapt_pickle(hapt_path)


def test_pin_matches_assets():
    assert dict(assets.ASSETS['hapt'].files)['res/HAPT.pkl.gz'] == HAPT_PICKLE_SHA256
    assert len(legacy_pickle.ALLOWED_GLOBALS) == 12


def test_real_file_columns(columns):
    assert set(columns) == set(HAPT_COLUMNS) | {'subject', 'recording'}
    for name, values in columns.items():
        assert isinstance(values, np.ndarray) and values.shape == (HAPT_NUM_ROWS, )
        assert values.dtype == (np.float64 if name[:3] in ('acc', 'gyr') else np.int64)
    assert HAPT_NUM_ROWS == 1_122_772
    assert all(np.isfinite(columns[f'{s}-{a}']).all() for s in ('acc', 'gyro') for a in 'xyz')
    label = columns['label']
    assert sorted(np.unique(label).tolist()) == [-1] + list(range(1, 13))
    assert int((label == -1).sum()) == 307_158
    # about 1 g at rest: the accelerometer is in units of g
    assert 0.9 < np.median(np.linalg.norm(
        np.stack([columns[f'acc-{a}'] for a in 'xyz'], 1), axis=1)) < 1.1


def test_real_file_subjects_and_recordings(columns):
    subject, recording, sequence = columns['subject'], columns['recording'], columns['sequence']
    assert np.unique(subject).tolist() == list(range(1, 31))
    assert np.unique(recording).tolist() == list(range(1, 62))
    # recordings are contiguous runs in ascending order, each of one subject
    starts = np.flatnonzero(np.r_[True, recording[1:] != recording[:-1]])
    assert recording[starts].tolist() == list(range(1, 62))
    assert np.all(np.diff(subject) >= 0)
    per_subject = {s: np.unique(recording[subject == s]).tolist() for s in range(1, 31)}
    assert per_subject[10] == [19, 20, 21]  # UCI exp19..exp21_user10
    assert per_subject[1] == [1, 2] and per_subject[11] == [22, 23]
    assert per_subject[30] == [60, 61]
    assert all(len(v) == 2 for s, v in per_subject.items() if s != 10)
    # `sequence` is the sample number inside its recording
    assert np.all(sequence[starts] == 0)
    assert np.array_equal(sequence, np.arange(len(sequence)) - np.repeat(
        starts, np.diff(np.r_[starts, len(sequence)])))
    assert int((recording == 1).sum()) == 20_598
    assert [int((recording == r).sum()) for r in (19, 20, 21)] == [15_739, 11_601, 9_898]
    # first labelled run of exp01: STANDING (UCI labels.txt row "1 1 5 250 1232")
    first = int(np.flatnonzero(columns['label'] != -1)[0])
    assert first == 250 and columns['label'][first] == 5


def test_to_npz_layout(columns, hapt_path, tmp_path):
    out = tmp_path / 'hapt.npz'
    report = hapt_pickle_to_npz(hapt_path, out)
    assert report['rows'] == HAPT_NUM_ROWS and report['seconds'] > 0
    with np.load(out, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert arrays['acc'].dtype == np.float32 and arrays['acc'].shape == (HAPT_NUM_ROWS, 3)
    assert arrays['gyro'].dtype == np.float32 and arrays['gyro'].shape == (HAPT_NUM_ROWS, 3)
    for key in ('label', 'subject', 'recording', 'sequence'):
        assert arrays[key].dtype == np.int64
        assert np.array_equal(arrays[key], columns[key])
    assert int(arrays['version']) == HAPT_CACHE_VERSION
    np.testing.assert_allclose(arrays['gyro'][:, 2], columns['gyro-z'], rtol=1e-6, atol=1e-7)
    assert sorted(os.listdir(tmp_path)) == ['hapt.npz']  # no temporary file left


def test_cached_arrays_match(columns):
    with np.load(assets.hapt_arrays_path(), allow_pickle=False) as npz:
        assert np.array_equal(npz['recording'], columns['recording'])
        assert np.array_equal(npz['acc'][:, 0], columns['acc-x'].astype(np.float32))


# --- refusals ---------------------------------------------------------------------------------


class _Evil:
    """Unpickling this calls ``function(*args)``, as a malicious file would."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _write_gz(path, data: bytes):
    with gzip.open(path, 'wb') as handle:
        handle.write(data)
    return str(path)


@pytest.mark.parametrize('protocol', [0, 1, 2, 4, 5])
@pytest.mark.parametrize('function', ['os.system', 'builtins.eval', 'builtins.exec'])
def test_malicious_global_refused_and_never_runs(tmp_path, protocol, function):
    marker = tmp_path / 'pwned'
    if function == 'os.system':
        evil = _Evil(os.system, f'touch {marker}')
    else:
        evil = _Evil(getattr(builtins, function.split('.')[1]), f'open({str(marker)!r}, "w")')
    path = _write_gz(tmp_path / 'evil.pkl.gz', pickle.dumps({1: [evil]}, protocol=protocol))
    with pytest.raises(UnsafeCheckpointError) as info:
        load_hapt_pickle(path, sha256=None)
    assert path in str(info.value)
    if protocol <= 1:  # refused when the global is looked up
        assert 'refusing to unpickle the global' in str(info.value)
        assert function.split('.')[1] in str(info.value)
    else:  # refused earlier, by the opcode scan (PROTO / STACK_GLOBAL ...)
        assert 'is not allowed in a legacy data pickle' in str(info.value)
    assert not marker.exists()
    # with the pin (the default) it is refused before unpickling, by its hash
    with pytest.raises(UnsafeCheckpointError, match='SHA256'):
        load_hapt_pickle(path)
    assert not marker.exists()


def test_python2_builtin_name_refused():
    data = b'c__builtin__\neval\n(Vprint(1)\ntR.'
    with pytest.raises(UnsafeCheckpointError, match=r'__builtin__\.eval'):
        restricted_loads(data, 'crafted.pkl')


def test_codecs_encode_latin1_only():
    # Python 3 writes bytes for protocol < 3 as _codecs.encode(text, 'latin1')
    assert restricted_loads(pickle.dumps(b'ab\xff', protocol=1)) == b'ab\xff'
    for encoding in ('utf-16', 'rot13', 'hex', 'base64'):
        data = f'c_codecs\nencode\n(Vabc\nV{encoding}\ntR.'.encode()
        with pytest.raises(UnsafeCheckpointError, match='only latin1') as info:
            restricted_loads(data, 'crafted.pkl')
        assert 'crafted.pkl' in str(info.value)


@pytest.mark.parametrize('data, message', [
    # calling numpy.ndarray (allowed only as an argument) directly
    (b'cnumpy\nndarray\n((I3\ntVb\ntR.', 'refusing to call numpy.ndarray'),
    # copy_reg._reconstructor on something other than the DataFrame/BlockManager stand-ins
    (b'ccopy_reg\n_reconstructor\n(cnumpy\nndarray\nc__builtin__\nobject\nNtR.',
     '_reconstructor'),
    # BUILD on an allowed global cannot alter it
    (b'c_codecs\nencode\n}(V__call__\nI1\nub.', 'refusing to set the state'),
    # structured / void dtypes
    (b'cnumpy\ndtype\n(VV8\nI0\nI1\ntR.', 'numpy.dtype'),
    # slice is allowed, but the modern numpy module names are not
    (b'cnumpy._core.multiarray\n_reconstruct\n.', 'numpy._core.multiarray._reconstruct'),
])
def test_misuse_of_allowed_globals_refused(data, message):
    with pytest.raises(UnsafeCheckpointError, match=message):
        restricted_loads(data, 'crafted.pkl')


def test_not_a_pickle(tmp_path):
    path = tmp_path / 'x.pkl.gz'
    path.write_bytes(b'not gzip')
    with pytest.raises(DataFormatError, match='gzip'):
        load_hapt_pickle(str(path), sha256=None)
    with pytest.raises(DataFormatError, match=r'x\.pkl\.gz: expected a dict'):
        load_hapt_pickle(_write_gz(path, pickle.dumps([1, 2], protocol=1)), sha256=None)


def test_oversized_memo_index_is_refused_before_allocating():
    import struct
    bomb = b'N' + b'r' + struct.pack('<I', 2**30) + b'.'  # LONG_BINPUT 2**30: a 16 GiB memo
    with pytest.raises(UnsafeCheckpointError, match='memo index'):
        restricted_loads(bomb, 'bomb.pkl')


def test_protocol_2_and_later_opcodes_are_refused():
    import pickle
    with pytest.raises(UnsafeCheckpointError, match='opcode PROTO'):
        restricted_loads(pickle.dumps([1, 2], protocol=2), 'new.pkl')


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    import gzip

    from vtt.utils import legacy_pickle
    monkeypatch.setattr(legacy_pickle, 'MAX_DECOMPRESSED_BYTES', 1000)
    path = tmp_path / 'bomb.pkl.gz'
    path.write_bytes(gzip.compress(b'N' * 5000))
    with pytest.raises(DataFormatError, match='decompresses to more than 1000 bytes'):
        load_hapt_pickle(str(path), sha256=None)
