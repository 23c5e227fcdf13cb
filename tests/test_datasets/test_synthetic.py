import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from vtt.datasets import stratified_split
from vtt.datasets.synthetic import CLASS_SIZES, VARIATES, generate_crop_phenology
from vtt.registry import DATASETS


def test_schema_and_class_sizes():
    frame = generate_crop_phenology(seed=1)
    assert len(frame) == 5557
    assert np.bincount(frame['label']).tolist() == list(CLASS_SIZES) == [671, 1210, 1288, 2388]
    assert len(VARIATES) == 14
    assert frame.shape[1] == 14 * 37 + 2
    assert np.isfinite(frame.drop(columns=['label']).to_numpy()).all()


def test_deterministic_for_a_seed():
    pd.testing.assert_frame_equal(generate_crop_phenology(seed=3), generate_crop_phenology(seed=3))
    assert not generate_crop_phenology(seed=3).equals(generate_crop_phenology(seed=4))


def test_early_window_is_harder_than_full_series():
    frame = generate_crop_phenology(seed=2018)
    cube = frame.drop(columns=['sample_id', 'label']).to_numpy().reshape(len(frame), 14, 37)
    labels = frame['label'].to_numpy()
    split = stratified_split(labels)
    scores = {}
    for steps in (12, 37):
        x = cube[:, :, :steps].reshape(len(cube), -1)
        x = (x - x[split['train']].mean(0)) / x[split['train']].std(0)
        clf = LogisticRegression(max_iter=500, class_weight='balanced')
        clf.fit(x[split['train']], labels[split['train']])
        scores[steps] = f1_score(labels[split['test']], clf.predict(x[split['test']]),
                                 average='macro')
    # far above chance (0.25) with 12 steps, and clearly better with all 37
    assert scores[12] > 0.45
    assert scores[37] > scores[12] + 0.1


def test_synthetic_dataset_generates_file_once(tmp_path):
    path = tmp_path / 'demo' / 'crop.csv'
    dataset = DATASETS.build(dict(type='SyntheticCropDataset', data_file=str(path), seed=5,
                                  split='val', num_steps=12))
    assert path.is_file() and len(dataset) == 445
    mtime = path.stat().st_mtime_ns
    DATASETS.build(dict(type='SyntheticCropDataset', data_file=str(path), seed=5, split='test'))
    assert path.stat().st_mtime_ns == mtime
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
