import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from vtt.datasets import DataFormatError, bundled_uea_names
from vtt.registry import DATASETS

aeon_datasets = pytest.importorskip('aeon.datasets')


def _build(**kwargs):
    return DATASETS.build(dict(type='UEADataset', **kwargs))


def _write_ts(folder, name, suffix, series, labels):
    """Write a .ts file with aeon's own writer (list of [V, T_i] arrays -> unequal length)."""
    aeon_datasets.save_to_ts_file(series, np.asarray(labels), label_type='classification',
                                  path=str(folder), problem_name=name, file_suffix=suffix)


def _toy_series(n, v=2, lengths=(5, ), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(v, lengths[i % len(lengths)])) for i in range(n)]


def test_bundled_names():
    names = bundled_uea_names()
    for name in ('BasicMotions', 'JapaneseVowels', 'GunPoint'):
        assert name in names
    assert 'Covid3Month' not in names  # regression problem, not classification


def test_basic_motions_shapes_and_collate():
    trainval = _build(name='BasicMotions', split='trainval')
    test = _build(name='BasicMotions', split='test')
    assert len(trainval) == 40 and len(test) == 40
    assert trainval.metainfo == dict(classes=['badminton', 'running', 'standing', 'walking'],
                                     num_variates=6, max_length=100, name='BasicMotions')
    item = trainval[0]
    assert item['inputs'].shape == (6, 100) and item['inputs'].dtype == torch.float32
    sample = item['data_samples']
    assert sample['label'].dtype == torch.int64 and sample['label'].ndim == 0
    assert sample['mask'].dtype == torch.bool and bool(sample['mask'].all())
    batch = default_collate([trainval[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 6, 100)
    assert batch['data_samples']['mask'].shape == (4, 100)
    assert batch['data_samples']['label'].shape == (4, )


def test_train_val_disjoint_stratified_reproducible():
    train = _build(name='BasicMotions', split='train')
    val = _build(name='BasicMotions', split='val')
    trainval = _build(name='BasicMotions', split='trainval')
    assert len(train) == 32 and len(val) == 8
    assert set(train.indices.tolist()).isdisjoint(val.indices.tolist())
    assert sorted(train.indices.tolist() + val.indices.tolist()) == trainval.indices.tolist()
    assert np.bincount(val.labels.numpy(), minlength=4).tolist() == [2, 2, 2, 2]
    assert np.bincount(train.labels.numpy(), minlength=4).tolist() == [8, 8, 8, 8]
    again = _build(name='BasicMotions', split='val')
    assert again.indices.tolist() == val.indices.tolist()
    other = _build(name='BasicMotions', split='val', split_seed=7)
    assert other.indices.tolist() != val.indices.tolist()
    # Items carry the rows of the TRAIN file they come from.
    for i in range(len(val)):
        j = int(val.indices[i])
        torch.testing.assert_close(val[i]['inputs'], trainval[j]['inputs'])
        assert val[i]['data_samples']['label'] == trainval[j]['data_samples']['label']


def test_test_labels_use_train_mapping():
    test = _build(name='BasicMotions', split='test')
    X, y = aeon_datasets.load_from_ts_file(test.test_file)
    assert test.classes == sorted(set(y.tolist()))
    assert [test.classes[i] for i in test.labels.tolist()] == y.tolist()
    np.testing.assert_allclose(test.data.numpy(), X.astype(np.float32))


def test_train_statistics_use_train_split_only():
    val = _build(name='BasicMotions', split='val')
    train = _build(name='BasicMotions', split='train')
    stats = val.train_statistics()
    np.testing.assert_allclose(stats['mean'], train.data.numpy().mean(axis=(0, 2)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(stats['std'], train.data.numpy().std(axis=(0, 2)), rtol=1e-4)
    assert stats['class_counts'].tolist() == [8, 8, 8, 8]


def test_japanese_vowels_unequal_length_padding():
    ds = _build(name='JapaneseVowels', split='trainval', pad_value=-9.0)
    X, _ = aeon_datasets.load_from_ts_file(ds.train_file)
    assert isinstance(X, list)
    longest = max(x.shape[1] for x in X)  # the TRAIN file's longest series
    assert ds.max_length == longest == 26 and ds.num_variates == 12
    lengths = ds.mask.sum(dim=1).numpy()
    assert len(set(lengths.tolist())) > 1  # masks differ
    for i in (0, 1, 100):
        n = X[i].shape[1]
        assert lengths[i] == n
        np.testing.assert_allclose(ds.data[i, :, :n].numpy(), X[i].astype(np.float32))
        assert bool((ds.data[i, :, n:] == -9.0).all())
        assert bool(ds.mask[i, :n].all()) and not bool(ds.mask[i, n:].any())
    # Statistics ignore padding.
    stats = _build(name='JapaneseVowels', split='train', pad_value=1e6).train_statistics()
    assert np.all(np.abs(stats['mean']) < 10)
    batch = default_collate([ds[i] for i in range(3)])
    assert batch['inputs'].shape == (3, 12, 26) and batch['data_samples']['mask'].shape == (3, 26)
    # The TEST file has longer series (up to 29 steps): the test split keeps them whole.
    test = _build(name='JapaneseVowels', split='test')
    Xt, _ = aeon_datasets.load_from_ts_file(ds.test_file)
    assert test.max_length == max(x.shape[1] for x in Xt) == 29
    assert test.mask.sum(dim=1).tolist() == [x.shape[1] for x in Xt]


def test_max_length_truncates():
    ds = _build(name='JapaneseVowels', split='test', max_length=10)
    X, _ = aeon_datasets.load_from_ts_file(ds.test_file)
    assert ds.data.shape[-1] == 10 and ds.metainfo['max_length'] == 10
    assert ds.mask.sum(dim=1).tolist() == [min(x.shape[1], 10) for x in X]
    np.testing.assert_allclose(ds.data[0].numpy(), X[0][:, :10].astype(np.float32))


def test_univariate_gunpoint():
    ds = _build(name='GunPoint', split='trainval')
    assert ds.metainfo['num_variates'] == 1 and ds.metainfo['max_length'] == 150
    assert ds.classes == ['1', '2'] and len(ds) == 50
    assert ds[0]['inputs'].shape == (1, 150)


def test_numeric_labels_sorted_numerically():
    assert 'PickupGestureWiimoteZ' in bundled_uea_names()
    ds = _build(name='PickupGestureWiimoteZ', split='trainval')
    assert ds.classes == [str(i) for i in range(1, 11)]


def test_unknown_bundled_name_lists_names():
    with pytest.raises(FileNotFoundError, match=r"'NoSuchSet' is not bundled.*BasicMotions.*"
                       r'data_root'):
        _build(name='NoSuchSet')


def test_data_root_folder(tmp_path):
    series = _toy_series(12, lengths=(5, 3, 4))
    labels = ['10', '2', '9'] * 4
    _write_ts(tmp_path, 'Toy', '_TRAIN', series, labels)
    _write_ts(tmp_path, 'Toy', '_TEST', _toy_series(6, lengths=(6, 2), seed=1), ['2', '9'] * 3)
    train = _build(name='Toy', data_root=str(tmp_path), split='trainval')
    test = _build(name='Toy', data_root=str(tmp_path), split='test')
    assert train.classes == ['2', '9', '10']
    assert (train.max_length, test.max_length) == (5, 6)
    assert train.labels.tolist() == [2, 0, 1] * 4
    assert test.labels.tolist() == [0, 1] * 3
    np.testing.assert_allclose(train[1]['inputs'][:, :3].numpy(), series[1].astype(np.float32))
    assert train[1]['data_samples']['mask'].tolist() == [True] * 3 + [False] * 2


def test_default_max_length_from_train_file_test_not_truncated(tmp_path):
    """TEST series longer than every TRAIN series: the training splits use the TRAIN length,
    the test split keeps every test step; an explicit max_length applies to every split."""
    train_series = _toy_series(8, lengths=(4, 3))
    test_series = _toy_series(4, lengths=(7, 2, 5), seed=1)
    _write_ts(tmp_path, 'Long', '_TRAIN', train_series, ['a', 'b'] * 4)
    _write_ts(tmp_path, 'Long', '_TEST', test_series, ['a', 'b'] * 2)
    for split in ('train', 'val', 'trainval'):
        ds = _build(name='Long', data_root=str(tmp_path), split=split)
        assert ds.data.shape[-1] == ds.metainfo['max_length'] == 4
    test = _build(name='Long', data_root=str(tmp_path), split='test')
    assert test.data.shape[-1] == test.metainfo['max_length'] == 7
    assert test.mask.sum(dim=1).tolist() == [7, 2, 5, 7]
    np.testing.assert_allclose(test[0]['inputs'].numpy(), test_series[0].astype(np.float32))
    np.testing.assert_allclose(test[2]['inputs'][:, :5].numpy(),
                               test_series[2].astype(np.float32))
    # The statistics are the training split's whatever the split's length.
    for key, value in test.train_statistics().items():
        np.testing.assert_array_equal(value, ds.train_statistics()[key])
    for split in ('trainval', 'test'):
        short = _build(name='Long', data_root=str(tmp_path), split=split, max_length=3)
        assert short.data.shape[-1] == short.metainfo['max_length'] == 3
    assert short.mask.sum(dim=1).tolist() == [3, 2, 3, 3]


def test_too_small_class_falls_back_with_warning(tmp_path):
    _write_ts(tmp_path, 'Tiny', '_TRAIN', _toy_series(10), ['a'] * 9 + ['b'])
    _write_ts(tmp_path, 'Tiny', '_TEST', _toy_series(2), ['a', 'b'])
    with pytest.warns(UserWarning, match='unstratified'):
        val = _build(name='Tiny', data_root=str(tmp_path), split='val')
    assert len(val) == 2


def test_no_training_case_left(tmp_path):
    _write_ts(tmp_path, 'Two', '_TRAIN', _toy_series(2), ['a', 'b'])
    _write_ts(tmp_path, 'Two', '_TEST', _toy_series(2), ['a', 'b'])
    with pytest.raises(DataFormatError, match=r"Two_TRAIN\.ts \(dataset 'Two'\): cannot split 2 "
                       'training cases with val_ratio=0.6: no case left for training'):
        _build(name='Two', data_root=str(tmp_path), split='test', val_ratio=0.6)


def test_missing_file(tmp_path):
    _write_ts(tmp_path, 'Toy', '_TRAIN', _toy_series(4), ['a', 'b'] * 2)
    with pytest.raises(FileNotFoundError, match=r'Toy_TEST\.ts.*data_root.*BasicMotions'):
        _build(name='Toy', data_root=str(tmp_path))


def test_unseen_test_label(tmp_path):
    _write_ts(tmp_path, 'Toy', '_TRAIN', _toy_series(4), ['a', 'b'] * 2)
    _write_ts(tmp_path, 'Toy', '_TEST', _toy_series(3), ['a', 'b', 'c'])
    with pytest.raises(DataFormatError, match=r"Toy_TEST\.ts: sample 2 has label 'c'"):
        _build(name='Toy', data_root=str(tmp_path), split='test')


def test_nan_error_and_fill(tmp_path):
    series = _toy_series(10, lengths=(5, ))
    series[3][1, 0] = np.nan
    series[3][1, 2] = np.nan
    _write_ts(tmp_path, 'Gappy', '_TRAIN', series, ['a', 'b'] * 5)
    _write_ts(tmp_path, 'Gappy', '_TEST', _toy_series(2), ['a', 'b'])
    with pytest.raises(DataFormatError, match=r"Gappy_TRAIN\.ts: dataset 'Gappy', TRAIN file, "
                       r'sample 3 .*variate 1.*fill_nan=True'):
        _build(name='Gappy', data_root=str(tmp_path), split='trainval')
    ds = _build(name='Gappy', data_root=str(tmp_path), split='trainval', fill_nan=True)
    row = ds[3]['inputs'][1].numpy()
    expected = series[3][1].astype(np.float32)
    assert row[0] == expected[1]  # backward fill of the leading gap
    assert row[2] == expected[1]  # forward fill
    assert not torch.isnan(ds.data).any()


def test_bad_split_name():
    with pytest.raises(ValueError, match='split must be one of'):
        _build(name='BasicMotions', split='all')
