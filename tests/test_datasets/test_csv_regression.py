"""Regression data through the CSV contract, and the synthetic yield demo set."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import cross_val_score

from vtt.datasets.synthetic import generate_crop_yield
from vtt.registry import DATASETS
from vtt.utils.errors import DataFormatError


def write_frame(path, n=50, bad_row=None):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f'{v}_{t}': rng.random(n) for v in ('a', 'b') for t in range(6)})
    frame['yield'] = 3 + rng.random(n)
    if bad_row is not None:
        frame['yield'] = frame['yield'].astype(object)
        frame.loc[bad_row, 'yield'] = 'lots'
    frame.to_csv(path, index=False)
    return frame


def test_regression_items_splits_and_train_statistics(tmp_path):
    frame = write_frame(tmp_path / 'y.csv', n=100)
    common = dict(type='CSVRegressionDataset', data_file=str(tmp_path / 'y.csv'), num_steps=4)
    splits = {s: DATASETS.build(dict(common, split=s)) for s in ('train', 'val', 'test')}
    assert [len(d) for d in splits.values()] == [72, 8, 20]
    item = splits['test'][0]
    assert item['inputs'].shape == (2, 4)
    row = item['data_samples']['index']
    assert item['data_samples']['target'].item() == pytest.approx(frame['yield'][row], abs=1e-5)
    # every split covers the range of the target (stratified by quintiles)
    for dataset in splits.values():
        assert dataset.targets.min() < frame['yield'].quantile(0.3)
        assert dataset.targets.max() > frame['yield'].quantile(0.7)
    stats = splits['val'].train_statistics()  # the TRAINING split's, whatever is served
    train_rows = splits['train'].indices
    assert stats['target_mean'][0] == pytest.approx(frame['yield'][train_rows].mean(), abs=1e-5)
    assert stats['mean'].shape == (2, )


def test_a_bad_target_names_file_line_and_column(tmp_path):
    write_frame(tmp_path / 'y.csv', bad_row=7)
    with pytest.raises(DataFormatError, match=r"y\.csv, line 9, column 'yield': non-numeric"):
        DATASETS.build(dict(type='CSVRegressionDataset', data_file=str(tmp_path / 'y.csv')))
    with pytest.raises(DataFormatError, match="column 'harvest' not found"):
        DATASETS.build(dict(type='CSVRegressionDataset', data_file=str(tmp_path / 'y.csv'),
                            target_column='harvest'))


def test_synthetic_yield_is_deterministic_and_depends_on_the_early_season():
    frame = generate_crop_yield(seed=3)
    assert frame.equals(generate_crop_yield(seed=3))
    assert len(frame) == 2000 and 'label' not in frame and frame['yield'].min() > 0
    columns = [c for c in frame if c not in ('sample_id', 'yield')]
    early = [c for c in columns if int(c.rsplit('_', 1)[1]) < 12]
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
    r2_early = cross_val_score(ridge, frame[early], frame['yield'], cv=3, scoring='r2').mean()
    r2_full = cross_val_score(ridge, frame[columns], frame['yield'], cv=3, scoring='r2').mean()
    assert 0.5 < r2_early < r2_full  # the first 12 steps say much, the full season more
