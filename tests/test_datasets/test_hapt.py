"""UCI-HAR-style windows built from the raw HAPT recordings (HAPTHARDataset) and their paired
accelerometer / gyroscope view (HAPTPairedDataset)."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from vtt.datasets import DataFormatError, load_hapt_arrays
from vtt.datasets.hapt import (
    DEFAULT_VAL_SUBJECTS,
    HAPT_BASIC_ACTIVITIES,
    HAPT_CHANNELS,
    UCI_HAR_TEST_SUBJECTS,
)
from vtt.registry import DATASETS
from vtt.utils import assets  # noqa: E402

SPLITS = ('train', 'val', 'trainval', 'test')
UCI_HAR_COUNTS = dict(trainval=7352, test=2947)  # UCI HAR v1.0 train / test windows


def _build(**kwargs):
    return DATASETS.build(dict(type='HAPTHARDataset', **kwargs))


@pytest.fixture(scope='module')
def har():
    assets.hapt_arrays_path()  # installed by tools/setup_env.sh; else an error names the package
    return {split: _build(split=split) for split in SPLITS}


@pytest.fixture(scope='module')
def raw():
    return load_hapt_arrays(str(assets.hapt_arrays_path()))


def test_items_and_metainfo(har):
    ds = har['train']
    item = ds[0]
    assert item['inputs'].shape == (9, 128) and item['inputs'].dtype == torch.float32
    assert set(item['data_samples']) == {'label', 'index'}  # equal lengths: no mask
    assert item['data_samples']['label'].dtype == torch.int64
    assert ds.metainfo['classes'] == list(HAPT_BASIC_ACTIVITIES) and len(ds.classes) == 6
    assert ds.metainfo['num_variates'] == 9 and ds.metainfo['max_length'] == 128
    assert ds.metainfo['channels'][:3] == ['body_acc_x', 'body_acc_y', 'body_acc_z']
    assert ds.metainfo['channels'][6:] == ['total_acc_x', 'total_acc_y', 'total_acc_z']
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 9, 128) and batch['data_samples']['label'].shape == (4, )


def test_subject_splits(har):
    subjects = {split: set(ds.metainfo['subjects']) for split, ds in har.items()}
    assert subjects['test'] == set(UCI_HAR_TEST_SUBJECTS) == {2, 4, 9, 10, 12, 13, 18, 20, 24}
    assert subjects['val'] == set(DEFAULT_VAL_SUBJECTS) and len(subjects['val']) == 3
    assert subjects['train'].isdisjoint(subjects['val'])
    assert subjects['train'].isdisjoint(subjects['test'])
    assert subjects['val'].isdisjoint(subjects['test'])
    assert subjects['trainval'] == subjects['train'] | subjects['val']
    assert subjects['trainval'] | subjects['test'] == set(range(1, 31))
    index = {split: set(ds.indices.tolist()) for split, ds in har.items()}
    assert index['trainval'] == index['train'] | index['val']
    assert not index['train'] & index['val'] and not index['trainval'] & index['test']


def test_window_counts_close_to_uci_har(har):
    counts = {split: len(ds) for split, ds in har.items()}
    assert counts == dict(train=6229, val=1186, trainval=7415, test=2996)
    for split, uci in UCI_HAR_COUNTS.items():
        assert abs(counts[split] - uci) / uci < 0.02
    per_class = {s: np.bincount(har[s].labels.numpy(), minlength=6).tolist()
                 for s in ('trainval', 'test')}
    assert per_class['trainval'] == [1226, 1073, 987, 1293, 1423, 1413]
    assert per_class['test'] == [496, 471, 420, 508, 556, 545]
    assert per_class['test'][:3] == [496, 471, 420]


def test_windows_follow_the_recordings(har, raw):
    ds = har['test']
    start = ds.starts
    # each window lies inside one recording and one run of its label
    rows = start[:, None] + np.arange(128)
    assert np.all(raw['recording'][rows] == ds.recordings[:, None])
    assert np.all(raw['label'][rows] == ds.labels.numpy()[:, None] + 1)
    assert np.all(raw['subject'][start] == ds.subjects)
    # total_acc / body_gyro are the denoised signals, aligned with the raw rows (zero phase)
    total = ds.data[:, 6:9].numpy()
    gyro = ds.data[:, 3:6].numpy()
    raw_acc = raw['acc'][rows].transpose(0, 2, 1)
    raw_gyro = raw['gyro'][rows].transpose(0, 2, 1)
    assert np.abs(total - raw_acc).mean() < 0.02
    assert np.abs(gyro - raw_gyro).mean() < 0.03
    centred = total[:200, 0] - total[:200, 0].mean(axis=1, keepdims=True)
    errors = []
    for lag in range(-3, 4):
        shifted = raw['acc'][rows[:200] + lag, 0]
        errors.append(np.abs(centred - (shifted - shifted.mean(axis=1, keepdims=True))).mean())
    assert int(np.argmin(errors)) == 3  # best match at lag 0: no delay


def test_filters(har, raw):
    data = har['train'].data.numpy()
    body, total = data[:, 0:3], data[:, 6:9]
    # body acceleration has no gravity: about zero mean; total acceleration has ~1 g of it
    assert np.abs(body.mean(axis=2)).mean() < 0.02
    assert np.median(np.linalg.norm(total.mean(axis=2), axis=1)) == pytest.approx(1.0, abs=0.05)
    # little content at 0 Hz in body acc, unlike total acc
    spectrum = np.abs(np.fft.rfft(body, axis=2))
    total_spectrum = np.abs(np.fft.rfft(total, axis=2))
    assert spectrum[..., 0].mean() < 0.02 * total_spectrum[..., 0].mean()
    # the 20 Hz low-pass: against the raw signal, power kept at 0.5-5 Hz, removed at 22-25 Hz
    ds = har['test']
    rows = ds.starts[:, None] + np.arange(128)
    taper = np.hanning(128)

    def power(x):
        return np.abs(np.fft.rfft((x - x.mean(axis=2, keepdims=True)) * taper, axis=2))**2

    filtered, original = power(ds.data[:, 6:9].numpy()), power(
        raw['acc'][rows].transpose(0, 2, 1))
    freq = np.fft.rfftfreq(128, 1 / 50)
    low, high = (freq >= 0.5) & (freq < 5), freq >= 22
    assert filtered[..., low].mean() > 0.9 * original[..., low].mean()
    assert filtered[..., high].mean() < 1e-3 * original[..., high].mean()


def test_train_statistics_from_train_split(har):
    stats = har['test'].train_statistics()
    train = har['train'].data.numpy().astype(np.float64)
    np.testing.assert_allclose(stats['mean'], train.mean(axis=(0, 2)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stats['std'], train.std(axis=(0, 2)), rtol=1e-5)
    assert stats['class_counts'].tolist() == np.bincount(har['train'].labels.numpy()).tolist()
    assert stats['mean'][6] == pytest.approx(0.81, abs=0.05)  # UCI HAR total_acc_x mean ~0.80
    for key in ('mean', 'std'):
        np.testing.assert_array_equal(har['val'].train_statistics()[key], stats[key])


@pytest.mark.parametrize('acc, channels', [('total', slice(6, 9)), ('body', slice(0, 3))])
def test_paired_matches_nine_channels(har, acc, channels):
    paired = DATASETS.build(dict(type='HAPTPairedDataset', split='val', acc=acc))
    nine = har['val']
    assert len(paired) == len(nine)
    for i in (0, 17, len(paired) - 1):
        item = paired[i]
        assert set(item['inputs']) == {'acc', 'gyro'}
        assert torch.equal(item['inputs']['acc'], nine[i]['inputs'][channels])
        assert torch.equal(item['inputs']['gyro'], nine[i]['inputs'][3:6])
        assert item['data_samples']['label'] == nine[i]['data_samples']['label']
        assert item['data_samples']['index'] == nine[i]['data_samples']['index']
    batch = default_collate([paired[i] for i in range(5)])
    assert batch['inputs']['acc'].shape == (5, 3, 128)
    assert batch['inputs']['gyro'].shape == (5, 3, 128)
    stats, full = paired.train_statistics(), nine.train_statistics()
    np.testing.assert_array_equal(stats['acc']['mean'], full['mean'][channels])
    np.testing.assert_array_equal(stats['gyro']['std'], full['std'][3:6])
    assert paired.metainfo['channels']['acc'] == list(HAPT_CHANNELS[channels])
    with pytest.raises(ValueError, match="'total' or 'body'"):
        DATASETS.build(dict(type='HAPTPairedDataset', acc='raw'))


# --- your own data file -----------------------------------------------------------------------


def _toy_arrays():
    """Two subjects, one recording each: label runs of 300 (3 windows), 127 (none), 200 (2)."""
    rng = np.random.default_rng(0)
    labels = []
    for runs in ([(-1, 50), (1, 300), (7, 20), (4, 127), (-1, 10)], [(6, 200), (-1, 40)]):
        labels.append(np.concatenate([np.full(n, v) for v, n in runs]))
    n = sum(len(x) for x in labels)
    acc = rng.normal(0, 0.1, (n, 3)) + [0, 0, 1]
    return dict(acc=acc.astype(np.float32), gyro=rng.normal(0, 0.1, (n, 3)).astype(np.float32),
                label=np.concatenate(labels),
                subject=np.repeat([1, 2], [len(x) for x in labels]),
                recording=np.repeat([1, 2], [len(x) for x in labels]))


def test_own_data_file(tmp_path):
    path = tmp_path / 'mine.npz'
    np.savez(path, **_toy_arrays())
    kwargs = dict(data_file=str(path), val_subjects=[], test_subjects=[2])
    train = _build(split='train', **kwargs)
    test = _build(split='test', **kwargs)
    assert len(train) == 3 and train.labels.tolist() == [0, 0, 0]
    assert train.starts.tolist() == [50, 114, 178]
    assert len(test) == 2 and test.labels.tolist() == [5, 5]
    with pytest.raises(ValueError, match='val split'):
        _build(split='val', **kwargs)
    with pytest.raises(ValueError, match='share the subjects'):
        _build(split='train', data_file=str(path), val_subjects=[2], test_subjects=[2])


@pytest.mark.parametrize('change, message', [
    (dict(gyro=None), r"missing the arrays \['gyro'\]"),
    (dict(acc=np.zeros((5, 3), np.float32)), "field 'acc'"),
    (dict(label=lambda a: np.where(np.arange(len(a['label'])) == 7, 13, a['label'])),
     'field "label", row 7'),
    (dict(recording=lambda a: np.where((np.arange(len(a['label'])) // 10) == 10, 2,
                                       a['recording'])),
     'field "recording", row 110: recording 1 starts again'),
    (dict(subject=lambda a: np.where(np.arange(len(a['label'])) == 3, 9, a['subject'])),
     'field "subject", row 3'),
    (dict(acc=lambda a: np.where(np.arange(len(a['label']))[:, None] == 4, np.nan, a['acc'])),
     "field 'acc', row 4"),
])
def test_malformed_data_file(tmp_path, change, message):
    arrays = _toy_arrays()
    for key, value in change.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value(arrays) if callable(value) else value
    path = tmp_path / 'bad.npz'
    np.savez(path, **arrays)
    with pytest.raises(DataFormatError, match=message) as info:
        _build(data_file=str(path), val_subjects=[], test_subjects=[2])
    assert str(path) in str(info.value)


def test_missing_or_unreadable_data_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_file'):
        _build(data_file=str(tmp_path / 'nope.npz'))
    path = tmp_path / 'text.npz'
    path.write_text('hello')
    with pytest.raises(DataFormatError, match='cannot be read as an .npz'):
        _build(data_file=str(path))
