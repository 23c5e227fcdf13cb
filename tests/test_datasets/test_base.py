import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

import vtt.datasets.base as base
from vtt.datasets import (
    BaseTimeSeriesDataset,
    DataFormatError,
    encode_labels,
    load_once,
    sort_class_labels,
    stratified_split,
)
from vtt.utils import errors


def test_data_format_error_is_the_shared_class():
    from vtt.datasets.csv_timeseries import DataFormatError as CSVDataFormatError
    assert DataFormatError is CSVDataFormatError is errors.DataFormatError
    assert issubclass(DataFormatError, ValueError)


def test_datasets_do_not_import_models():
    code = ('import sys, vtt.datasets; '
            "print(sorted(m for m in sys.modules if m.startswith('vtt.models')))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == '[]'


class _CountingParser:

    def __init__(self):
        self.calls = []

    def __call__(self, path, **kwargs):
        self.calls.append((path, kwargs))
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        with open(path) as handle:
            return dict(text=handle.read(), **kwargs)


def test_load_once_parses_each_file_once(tmp_path):
    path = tmp_path / 'a.txt'
    path.write_text('one')
    parser = _CountingParser()
    first = load_once(parser, str(path), scale=1)
    assert load_once(parser, str(path), scale=1) is first
    # the same file through a relative path is the same entry
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert load_once(parser, 'a.txt', scale=1) is first
    finally:
        os.chdir(cwd)
    assert len(parser.calls) == 1
    # other keyword arguments, another parser, or a changed file: parsed again
    assert load_once(parser, str(path), scale=2)['scale'] == 2
    other = _CountingParser()
    load_once(other, str(path), scale=1)
    assert len(parser.calls) == 2 and len(other.calls) == 1
    path.write_text('changed')
    assert load_once(parser, str(path), scale=1)['text'] == 'changed'
    assert len(parser.calls) == 3


def test_load_once_missing_file_is_not_cached(tmp_path):
    parser = _CountingParser()
    for _ in range(2):
        with pytest.raises(FileNotFoundError):
            load_once(parser, str(tmp_path / 'missing.txt'))
    assert len(parser.calls) == 2


def test_load_once_evicts_least_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(base, 'LOAD_CACHE_SIZE', 2)
    monkeypatch.setattr(base, '_LOAD_CACHE', type(base._LOAD_CACHE)())
    paths = []
    for name in 'abc':
        paths.append(str(tmp_path / name))
        (tmp_path / name).write_text(name)
    parser = _CountingParser()
    load_once(parser, paths[0])
    load_once(parser, paths[1])
    load_once(parser, paths[0])  # a is now the most recently used
    load_once(parser, paths[2])  # evicts b
    load_once(parser, paths[0])
    assert [p for p, _ in parser.calls] == [paths[0], paths[1], paths[2]]
    load_once(parser, paths[1])
    assert len(parser.calls) == 4


def test_sort_class_labels():
    assert sort_class_labels(['10', '2', 'b', 'a', '-1', '2.5', '2']) == [
        '-1', '2', '2.5', '10', 'a', 'b'
    ]
    # integers (also as ints, also with more than one digit) in numeric order
    assert sort_class_labels([3, 11, 1, 2, 0, 10]) == ['0', '1', '2', '3', '10', '11']
    # words in text order; nan/inf are not numbers to sort by
    assert sort_class_labels(['walking', 'nan', 'inf', 'Running', '7']) == [
        '7', 'Running', 'inf', 'nan', 'walking'
    ]


def test_encode_labels():
    codes = encode_labels(['b', 'a', 'b', 1], ['a', 'b', '1'], lambda i, label: '')
    assert codes.dtype == np.int64 and codes.tolist() == [1, 0, 1, 2]
    with pytest.raises(DataFormatError, match=r"^f\.csv, row 2: unknown label 'c'$"):
        encode_labels(['a', 'b', 'c', 'd'], ['a', 'b'],
                      lambda i, label: f'f.csv, row {i}: unknown label {label!r}')


def _labels(counts, seed=0):
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(seed).permutation(labels)


def test_stratified_split_three_way():
    labels = _labels((30, 50, 120))
    split = stratified_split(labels, (0.6, 0.15, 0.25), seed=3)
    assert [len(split[k]) for k in ('train', 'val', 'test')] == [120, 30, 50]
    assert np.array_equal(np.sort(np.concatenate([split[k] for k in ('train', 'val', 'test')])),
                          np.arange(200))
    assert np.array_equal(split['all'], np.arange(200))
    for key in ('train', 'val', 'test'):
        assert np.all(np.diff(split[key]) > 0)  # sorted
    assert np.bincount(labels[split['test']]).tolist() == [8, 12, 30]
    again = stratified_split(labels, (0.6, 0.15, 0.25), seed=3)
    for key in ('train', 'val', 'test'):
        np.testing.assert_array_equal(split[key], again[key])
    assert not np.array_equal(split['test'], stratified_split(labels, (0.6, 0.15, 0.25))['test'])


@pytest.mark.parametrize('val_ratio', [0.1, 0.2, 0.25, 0.3, 1 / 3])
def test_stratified_split_two_way_equals_train_test_split(val_ratio):
    """A two-way split (1 - v, v, 0) is scikit-learn's split with test_size=v."""
    labels = _labels((13, 21, 40, 7), seed=1)
    split = stratified_split(labels, (1 - val_ratio, val_ratio, 0), seed=42)
    train, val = train_test_split(np.arange(len(labels)), test_size=val_ratio, stratify=labels,
                                  random_state=42)
    np.testing.assert_array_equal(split['train'], np.sort(train))
    np.testing.assert_array_equal(split['val'], np.sort(val))
    assert len(split['test']) == 0


def test_stratified_split_edge_ratios():
    labels = _labels((10, 10))
    split = stratified_split(labels, (1, 0, 0))
    assert len(split['train']) == 20 and len(split['val']) == len(split['test']) == 0
    split = stratified_split(labels, (0, 0, 1))
    assert len(split['test']) == 20 and len(split['train']) == 0
    with pytest.raises(ValueError, match='three non-negative numbers summing to 1'):
        stratified_split(labels, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match='three non-negative numbers summing to 1'):
        stratified_split(labels, (0.8, 0.2))


def test_stratified_split_unstratified_fallback():
    labels = np.array([0] * 9 + [1])  # class 1 has one sample: cannot stratify
    with pytest.raises(ValueError, match='least populated class'):
        stratified_split(labels, (0.8, 0.2, 0))
    with pytest.warns(UserWarning, match=r'^toy\.ts: cannot stratify the val split .*'
                      'unstratified split with seed 5'):
        split = stratified_split(labels, (0.8, 0.2, 0), seed=5, unstratified_fallback=True,
                                 where='toy.ts')
    train, val = train_test_split(np.arange(10), test_size=2, random_state=5)
    np.testing.assert_array_equal(split['train'], np.sort(train))
    np.testing.assert_array_equal(split['val'], np.sort(val))


class _ToyDataset(BaseTimeSeriesDataset):
    """Two padded training samples; the padded steps hold a huge value."""

    def __init__(self, with_mask=True):
        data = np.full((2, 2, 4), 1e6)
        data[0, :, :2] = [[1.0, 3.0], [10.0, 10.0]]
        data[1, :, :4] = [[5.0, 7.0, 9.0, 11.0], [20.0, 20.0, 20.0, 20.0]]
        mask = np.array([[True, True, False, False], [True] * 4])
        self.classes = ['a', 'b', 'c']
        self.data = torch.from_numpy(data.astype(np.float32))
        self.labels = torch.tensor([2, 0])
        self.indices = np.array([5, 8])
        self.mask = torch.from_numpy(mask) if with_mask else None
        self._arrays = (data, np.array([2, 0]), mask if with_mask else None)

    def _train_arrays(self):
        return self._arrays


def test_train_statistics_ignore_padded_steps():
    stats = _ToyDataset().train_statistics()
    valid = [np.array([1.0, 3.0, 5.0, 7.0, 9.0, 11.0]), np.array([10.0] * 2 + [20.0] * 4)]
    assert stats['mean'].dtype == stats['std'].dtype == np.float32
    np.testing.assert_allclose(stats['mean'], [v.mean() for v in valid], rtol=1e-6)
    np.testing.assert_allclose(stats['std'], [v.std() for v in valid], rtol=1e-6)
    assert stats['class_counts'].dtype == np.int64
    assert stats['class_counts'].tolist() == [1, 0, 1]
    # without a mask every step counts
    unmasked = _ToyDataset(with_mask=False).train_statistics()
    assert unmasked['mean'][0] > 1e5


def test_items_carry_mask_only_when_there_is_one():
    ds = _ToyDataset()
    assert len(ds) == 2
    item = ds[1]
    assert item['inputs'].shape == (2, 4)
    assert item['data_samples']['index'] == 8 and int(item['data_samples']['label']) == 0
    assert item['data_samples']['mask'].tolist() == [True] * 4
    assert 'mask' not in _ToyDataset(with_mask=False)[0]['data_samples']


def test_base_requires_train_arrays():
    with pytest.raises(NotImplementedError, match='_train_arrays'):
        BaseTimeSeriesDataset().train_statistics()
