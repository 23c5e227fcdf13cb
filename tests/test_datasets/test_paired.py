"""Paired modalities: UEA BasicMotions as accelerometer + gyroscope, the furnace generator and
dataset (lead, offsets, splits by run, the .npz contract), the multimodal preprocessor."""
import json

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from vtt.datasets.synthetic import generate_furnace, write_furnace_npz
from vtt.registry import DATASETS, MODELS
from vtt.utils.errors import ConfigError, DataFormatError


def test_basicmotions_pairs_are_the_six_channels_split():
    paired = DATASETS.build(dict(type='PairedUEADataset', name='BasicMotions', split='test'))
    plain = DATASETS.build(dict(type='UEADataset', name='BasicMotions', split='test'))
    item, ref = paired[3], plain[3]
    torch.testing.assert_close(item['inputs']['acc'], ref['inputs'][:3])
    torch.testing.assert_close(item['inputs']['gyro'], ref['inputs'][3:])
    assert paired.metainfo['num_variates'] == dict(acc=3, gyro=3)
    stats = paired.train_statistics()
    full = plain.train_statistics()  # both from the 'train' split of TRAIN
    np.testing.assert_allclose(stats['gyro']['mean'], full['mean'][3:])
    batch = default_collate([paired[i] for i in range(4)])
    assert batch['inputs']['acc'].shape == (4, 3, 100)
    with pytest.raises(ConfigError, match='belong to two modalities'):
        DATASETS.build(dict(type='PairedUEADataset', name='BasicMotions',
                            modalities=dict(a=[0, 1], b=[1, 2])))
    with pytest.raises(ConfigError, match='channels 0..5'):
        DATASETS.build(dict(type='PairedUEADataset', name='BasicMotions',
                            modalities=dict(a=[0], b=[6])))


def test_multimodal_preprocessor_normalises_each_series_modality():
    pre = MODELS.build(dict(type='MultimodalDataPreprocessor',
                            num_variates=dict(acc=2, video=None)))
    data = dict(inputs=dict(acc=torch.ones(3, 2, 5) * 4, video=torch.ones(3, 5, 4, 2, 2)))
    with pytest.raises(RuntimeError, match='statistics'):
        pre(data)
    pre.set_train_statistics(dict(acc=dict(mean=[1.0, 2.0], std=[1.0, 2.0])))
    out = pre(data)['inputs']
    assert out['acc'][0, :, 0].tolist() == [3.0, 1.0]
    assert torch.equal(out['video'], data['inputs']['video'])
    with pytest.raises(ConfigError, match='no entry'):
        pre.set_train_statistics(dict(gyro=dict(mean=[0.0], std=[1.0])))


def test_furnace_generator_is_deterministic_and_the_current_leads():
    a = generate_furnace(num_sequences=4, steps=60, lead=5, seed=3)
    b = generate_furnace(num_sequences=4, steps=60, lead=5, seed=3)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a['current'].shape == (4, 3, 480) and a['video'].shape == (4, 60, 16)
    # the video shows the state `lead` steps late
    np.testing.assert_array_equal(a['video_labels'][:, 5:], a['current_labels'][:, :-5])
    maps = generate_furnace(num_sequences=2, steps=40, video='maps', map_size=3, seed=0)
    assert maps['video'].shape == (2, 40, 16, 3, 3)
    with pytest.raises(ConfigError, match='vector'):
        generate_furnace(video='frames')


def test_furnace_windows_pair_the_current_offset_steps_earlier():
    gen = dict(num_sequences=10, steps=80, lead=4, seed=1)
    ds = {o: DATASETS.build(dict(type='FurnaceDataset', generator=gen, split='train',
                                 offset=o, max_offset=6)) for o in (0, 4)}
    # the video windows and labels do not depend on the offset; the current windows do
    assert torch.equal(ds[0].labels, ds[4].labels)
    assert torch.equal(ds[0][5]['inputs']['video'], ds[4][5]['inputs']['video'])
    assert not torch.equal(ds[0][5]['inputs']['current'], ds[4][5]['inputs']['current'])
    # at the generator's lead, the current shows exactly what the video shows
    assert torch.equal(ds[4].current_labels, ds[4].labels)
    assert (ds[0].current_labels != ds[0].labels).any()
    item = ds[4][0]
    assert item['inputs']['current'].shape == (3, 64) and item['inputs']['video'].shape == (16, 8)
    splits = {s: DATASETS.build(dict(type='FurnaceDataset', generator=gen, split=s))
              for s in ('train', 'val', 'test')}
    runs = [set(d.runs.tolist()) for d in splits.values()]
    assert not (runs[0] & runs[1]) and not (runs[0] & runs[2]) and not (runs[1] & runs[2])
    assert set.union(*runs) == set(range(10))
    stats = splits['test'].train_statistics()
    assert stats['current']['mean'].shape == (3, ) and stats['video']['std'].shape == (16, )


def test_furnace_npz_contract(tmp_path):
    path = tmp_path / 'furnace.npz'
    arrays = write_furnace_npz(str(path), num_sequences=6, steps=60, lead=2, seed=0)
    meta = json.loads(str(np.load(path)['meta']))
    assert meta['lead'] == 2 and meta['synthetic'] is True
    from_file = DATASETS.build(dict(type='FurnaceDataset', data_file=str(path), split='train',
                                    max_offset=4))
    in_memory = DATASETS.build(dict(type='FurnaceDataset', split='train', max_offset=4,
                                    generator=dict(num_sequences=6, steps=60, lead=2, seed=0)))
    assert torch.equal(from_file[2]['inputs']['current'], in_memory[2]['inputs']['current'])
    bad = dict(arrays)
    bad['video_labels'] = bad['video_labels'].copy()
    bad['video_labels'][1, 7] = 3
    np.savez(tmp_path / 'bad.npz', **bad)
    with pytest.raises(DataFormatError, match=r'bad.npz: video_labels\[1, 7\] = 3'):
        DATASETS.build(dict(type='FurnaceDataset', data_file=str(tmp_path / 'bad.npz')))
    del bad['video']
    np.savez(tmp_path / 'missing.npz', **bad)
    with pytest.raises(DataFormatError, match="array 'video' is missing"):
        DATASETS.build(dict(type='FurnaceDataset', data_file=str(tmp_path / 'missing.npz')))
    with pytest.raises(FileNotFoundError, match='generate_furnace.py'):
        DATASETS.build(dict(type='FurnaceDataset', data_file=str(tmp_path / 'none.npz')))
