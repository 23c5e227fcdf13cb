import numpy as np
import pandas as pd
import pytest
import torch

from vtt.datasets import DataFormatError, load_timeseries_csv, stratified_split
from vtt.registry import DATASETS


def _wide_frame(n=24, variates=('A', 'B'), steps=5, seed=0):
    rng = np.random.default_rng(seed)
    data = {f'{v}_{t}': rng.normal(size=n) for v in variates for t in range(steps)}
    frame = pd.DataFrame(data)
    frame['label'] = np.tile(['x', 'y', 'z'], n // 3 + 1)[:n]
    return frame


def _write(frame, tmp_path, name='data.csv'):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_wide_layout_shapes_and_order(tmp_path):
    frame = _wide_frame()
    path = _write(frame, tmp_path)
    parsed = load_timeseries_csv(path)
    assert parsed['data'].shape == (24, 2, 5)
    assert parsed['variates'] == ['A', 'B']
    assert parsed['classes'] == ['x', 'y', 'z']
    np.testing.assert_allclose(parsed['data'][3, 1, 4], frame.loc[3, 'B_4'])


def test_steps_sorted_numerically(tmp_path):
    frame = _wide_frame(steps=12)
    shuffled = frame[[f'A_{t}' for t in (10, 2, 0, 11, 1, 3, 4, 5, 6, 7, 8, 9)] +
                     [f'B_{t}' for t in range(12)] + ['label']]
    parsed = load_timeseries_csv(_write(shuffled, tmp_path))
    np.testing.assert_allclose(parsed['data'][:, 0, 10], frame['A_10'])


def test_long_layout_equals_wide(tmp_path):
    frame = _wide_frame()
    rows = []
    for i, row in frame.iterrows():
        for t in range(5):
            rows.append(dict(sample_id=f's{i}', step=t, A=row[f'A_{t}'], B=row[f'B_{t}'],
                             label=row['label']))
    long = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # row order must not matter
    wide = load_timeseries_csv(_write(frame, tmp_path, 'w.csv'))
    parsed = load_timeseries_csv(_write(long, tmp_path, 'l.csv'))
    order = [int(s[1:]) for s in pd.unique(long['sample_id'])]
    np.testing.assert_allclose(parsed['data'], wide['data'][order])
    assert parsed['variates'] == ['A', 'B']


def test_missing_file_names_path_and_config_key(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nope\.csv.*data_file'):
        load_timeseries_csv(str(tmp_path / 'nope.csv'))


def test_missing_label_column(tmp_path):
    path = _write(_wide_frame().rename(columns={'label': 'class'}), tmp_path)
    with pytest.raises(DataFormatError, match=r"data\.csv: label column 'label' not found.*class"):
        load_timeseries_csv(path)


def test_non_numeric_cell_names_line_and_column(tmp_path):
    frame = _wide_frame().astype({'B_2': object})
    frame.loc[6, 'B_2'] = 'cloudy'
    path = _write(frame, tmp_path)
    with pytest.raises(DataFormatError, match=r"data\.csv, line 8, column 'B_2': non-numeric "
                       r"value 'cloudy'"):
        load_timeseries_csv(path)


@pytest.mark.parametrize('value,what', [(np.nan, 'missing/NaN'), (np.inf, 'infinite')])
def test_nan_and_inf(tmp_path, value, what):
    frame = _wide_frame()
    frame.loc[4, 'A_3'] = value
    with pytest.raises(DataFormatError, match=rf"line 6, column 'A_3': {what}"):
        load_timeseries_csv(_write(frame, tmp_path))


def test_ragged_columns(tmp_path):
    frame = _wide_frame().drop(columns=['B_3'])
    with pytest.raises(DataFormatError, match=r"ragged columns: variate 'B' has no column for "
                       r"steps \[3\]"):
        load_timeseries_csv(_write(frame, tmp_path))


def test_ragged_rows(tmp_path):
    path = tmp_path / 'data.csv'
    frame = _wide_frame()
    frame.to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[5] += ',1.0,2.0'  # a row with more cells than the header
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(DataFormatError, match=r'data\.csv: malformed CSV.*line 6'):
        load_timeseries_csv(str(path))


def test_ragged_long_layout(tmp_path):
    long = pd.DataFrame(dict(sample_id=['a', 'a', 'b'], step=[0, 1, 0], X=[1.0, 2.0, 3.0],
                             label=[0, 0, 1]))
    with pytest.raises(DataFormatError, match=r"sample 'b' has no row for step 1"):
        load_timeseries_csv(_write(long, tmp_path))


def test_unknown_layout(tmp_path):
    path = _write(pd.DataFrame(dict(foo=[1.0, 2.0], label=[0, 1])), tmp_path)
    with pytest.raises(DataFormatError, match='unknown layout'):
        load_timeseries_csv(path)
    with pytest.raises(DataFormatError, match="unknown layout 'matrix'"):
        load_timeseries_csv(_write(_wide_frame(), tmp_path, 'w.csv'), layout='matrix')


def test_unknown_label_with_given_classes(tmp_path):
    path = _write(_wide_frame(), tmp_path)
    with pytest.raises(DataFormatError, match=r"line 4, column 'label': unknown label 'z'"):
        load_timeseries_csv(path, classes=['x', 'y'])


def test_empty_split(tmp_path):
    path = _write(_wide_frame(n=6), tmp_path)
    with pytest.raises(DataFormatError, match='split is empty'):
        DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=path, split='train',
                            split_ratios=(0.0, 0.5, 0.5)))


def test_split_sizes_match_seed_report_and_are_reproducible():
    labels = np.repeat(np.arange(4), (671, 1210, 1288, 2388))
    first = stratified_split(labels, seed=42)
    second = stratified_split(labels, seed=42)
    assert [len(first[k]) for k in ('train', 'val', 'test')] == [4000, 445, 1112]
    for key in ('train', 'val', 'test'):
        np.testing.assert_array_equal(first[key], second[key])
    assert not set(first['train']) & set(first['test'])
    assert not set(first['val']) & set(first['test'])
    # stratified: class proportions preserved within a sample or so
    np.testing.assert_allclose(np.bincount(labels[first['test']]) / 1112,
                               np.bincount(labels) / len(labels), atol=2e-3)
    other = stratified_split(labels, seed=0)
    assert not np.array_equal(first['test'], other['test'])


def test_dataset_items_truncation_and_train_statistics(small_crop_csv):
    train = DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=small_crop_csv,
                                split='train', num_steps=12, id_column='sample_id'))
    test = DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=small_crop_csv,
                               split='test', num_steps=12, id_column='sample_id'))
    item = train[0]
    assert item['inputs'].shape == (14, 12) and item['inputs'].dtype == torch.float32
    assert set(item['data_samples']) == {'label', 'index'}
    assert len(train) + len(test) < 160 and not set(train.indices) & set(test.indices)
    stats = test.train_statistics()  # the training split's, even from the test dataset
    np.testing.assert_allclose(stats['mean'], train.data.numpy().mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(stats['std'], train.data.numpy().std(axis=(0, 2)), rtol=1e-4)
    assert stats['class_counts'].sum() == len(train)
    assert test.metainfo['classes'] == ['0', '1', '2', '3']


def test_num_steps_too_large(small_crop_csv):
    with pytest.raises(ValueError, match='num_steps=40 but the series have 37 steps'):
        DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=small_crop_csv,
                            num_steps=40, id_column='sample_id'))


def test_labels_sorted_numerically_and_integral_floats(tmp_path):
    frame = _wide_frame(n=6)
    frame['label'] = ['10', '9', 'x', '9', '10', '2.5']
    parsed = load_timeseries_csv(_write(frame, tmp_path))
    assert parsed['classes'] == ['2.5', '9', '10', 'x']
    assert parsed['labels'].tolist() == [2, 1, 3, 1, 2, 0]
    # pandas reads integer labels of a column with a blank cell as floats: "1.0" is class "1"
    frame['label'] = [1, 2, 10, 1, None, 2]
    path = _write(frame, tmp_path, 'floats.csv')
    with pytest.raises(DataFormatError, match="line 6, column 'label': missing label"):
        load_timeseries_csv(path)
    frame.loc[4, 'label'] = 10
    frame['label'] = frame['label'].astype(float)
    parsed = load_timeseries_csv(_write(frame, tmp_path, 'floats.csv'))
    assert parsed['classes'] == ['1', '2', '10']
    assert parsed['labels'].tolist() == [0, 1, 2, 0, 2, 1]
