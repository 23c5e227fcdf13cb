import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from vtt.datasets import DataFormatError, HARPtDataset, TSTCCDataset
from vtt.registry import DATASETS

SIZES = dict(train=12, val=6, test=6)


def _write_split(folder, split, n, channels=3, length=8, seed=0, channels_last=False,
                 numpy=False, **override):
    rng = np.random.default_rng(seed)
    samples = rng.normal(size=(n, channels, length)).astype(np.float32)
    labels = np.arange(n) % 3
    stored = samples.transpose(0, 2, 1).copy() if channels_last else samples
    content = dict(samples=stored if numpy else torch.from_numpy(stored),
                   labels=labels if numpy else torch.from_numpy(labels))
    content.update(override)
    torch.save(content, folder / f'{split}.pt')
    return samples, labels


def _write_all(folder, **kwargs):
    return {split: _write_split(folder, split, n, seed=i, **kwargs)
            for i, (split, n) in enumerate(SIZES.items())}


def _build(**kwargs):
    return DATASETS.build(dict(type='TSTCCDataset', **kwargs))


def test_load_splits_and_items(tmp_path):
    written = _write_all(tmp_path)
    for split, n in SIZES.items():
        ds = _build(data_root=str(tmp_path), split=split)
        assert len(ds) == n
        np.testing.assert_array_equal(ds.data.numpy(), written[split][0])
        assert ds.labels.tolist() == written[split][1].tolist()
    assert ds.metainfo == dict(classes=['0', '1', '2'], num_variates=3, max_length=8,
                               name=tmp_path.name)
    item = ds[2]
    assert item['inputs'].shape == (3, 8) and item['inputs'].dtype == torch.float32
    assert item['data_samples']['label'].dtype == torch.int64
    assert item['data_samples']['index'] == 2
    assert 'mask' not in item['data_samples']  # equal lengths: the mask-free path
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 3, 8) and batch['data_samples']['label'].shape == (4, )


def test_train_statistics_from_train_file(tmp_path):
    written = _write_all(tmp_path)
    stats = _build(data_root=str(tmp_path), split='test').train_statistics()
    train = written['train'][0]
    np.testing.assert_allclose(stats['mean'], train.mean(axis=(0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats['std'], train.std(axis=(0, 2)), rtol=1e-5)
    assert stats['class_counts'].tolist() == [4, 4, 4]


def test_channels_last_and_numpy(tmp_path):
    written = _write_all(tmp_path, channels_last=True, numpy=True)
    ds = _build(data_root=str(tmp_path), split='val', channels_last=True)
    assert ds[0]['inputs'].shape == (3, 8)
    np.testing.assert_array_equal(ds.data.numpy(), written['val'][0])
    # Without channels_last the same files read as 8 variates x 3 steps.
    wrong = _build(data_root=str(tmp_path), split='val')
    assert (wrong.metainfo['num_variates'], wrong.metainfo['max_length']) == (8, 3)


def test_class_names(tmp_path):
    _write_all(tmp_path)
    ds = _build(data_root=str(tmp_path), split='train', classes=['walk', 'sit', 'lay'])
    assert ds.metainfo['classes'] == ['walk', 'sit', 'lay']


def test_missing_file(tmp_path):
    _write_split(tmp_path, 'train', 12)
    with pytest.raises(FileNotFoundError, match=r'val\.pt.*data_root'):
        _build(data_root=str(tmp_path), split='val')


def test_missing_key(tmp_path):
    _write_all(tmp_path)
    torch.save(dict(x=torch.zeros(4, 3, 8), labels=torch.zeros(4)), tmp_path / 'test.pt')
    with pytest.raises(DataFormatError, match=r"test\.pt: missing key 'samples'.*'labels', 'x'"):
        _build(data_root=str(tmp_path), split='test')


def test_shape_mismatches(tmp_path):
    _write_all(tmp_path)
    _write_split(tmp_path, 'val', 6, channels=4)
    with pytest.raises(DataFormatError, match=r'val\.pt: samples are .*train\.pt has 3 variates'):
        _build(data_root=str(tmp_path), split='val')
    _write_split(tmp_path, 'test', 6, labels=torch.zeros(5, dtype=torch.long))
    with pytest.raises(DataFormatError, match=r'test\.pt: 6 samples but 5 labels'):
        _build(data_root=str(tmp_path), split='test')
    torch.save(dict(samples=torch.zeros(2, 3, 8, 1), labels=torch.zeros(2)), tmp_path / 'test.pt')
    with pytest.raises(DataFormatError, match=r'test\.pt: "samples" has shape \(2, 3, 8, 1\)'):
        _build(data_root=str(tmp_path), split='test')


def test_unknown_label_in_test(tmp_path):
    _write_all(tmp_path)
    _write_split(tmp_path, 'test', 6, labels=torch.tensor([0, 1, 2, 3, 0, 1]))
    with pytest.raises(DataFormatError, match=r'test\.pt: sample 3 has label 3'):
        _build(data_root=str(tmp_path), split='test')


def test_numeric_label_order(tmp_path):
    """Classes follow sort_class_labels: numeric order, not text order."""
    for split, n in SIZES.items():
        _write_split(tmp_path, split, n, labels=torch.tensor([10, -1, 2] * (n // 3)))
    ds = _build(data_root=str(tmp_path), split='val')
    assert ds.classes == ['-1', '2', '10']
    assert ds.labels.tolist() == [2, 0, 1] * 2
    assert ds.train_statistics()['class_counts'].tolist() == [4, 4, 4]


def test_har_alias_builds(tmp_path):
    _write_all(tmp_path)
    ds = DATASETS.build(dict(type='HARPtDataset', data_root=str(tmp_path), split='val'))
    assert isinstance(ds, TSTCCDataset) and len(ds) == SIZES['val']
    assert HARPtDataset is TSTCCDataset
