"""Chart augmentations: each changes what it should, and the labels stay as they were."""
import copy

import numpy as np
import pytest
import torch

from vtt.datasets.synthetic import meteo_charts as generator
from vtt.datasets.transforms import chart_augment
from vtt.registry import DATASETS, TRANSFORMS
from vtt.utils.errors import ConfigError


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('aug') / 'charts')
    generator.write_meteo_charts(path, seed=2, num_meteo=24, num_negative=12)
    return path


def chart_results(root, is_meteo=1):
    rng = np.random.default_rng(0)
    if is_meteo:
        image = generator.draw_chart('surface_analysis', {'pressure', 'front'}, rng)
        return dict(img=image, data_root=root, is_meteo=1, labels=['pressure', 'front'],
                    product='surface_analysis', product_name='地面分析图')
    return dict(img=generator.draw_negative('line_chart', rng), data_root=root, is_meteo=0,
                labels=[], product=None, product_name=None)


def apply(cfg, results, seed=0):
    np.random.seed(seed)
    before = copy.deepcopy({k: v for k, v in results.items() if k != 'img'})
    original = np.asarray(results['img']).copy()
    out = TRANSFORMS.build(cfg)(dict(results))
    for key, value in before.items():  # labels and every other field unchanged
        assert out[key] == value, key
    return original, out


def test_watermark_changes_one_corner_only(root):
    original, out = apply(dict(type='LogoWatermark', prob=1.0, alpha=(0.9, 0.9)),
                          chart_results(root))
    changed = (np.asarray(out['img']).astype(int) - original).any(-1)
    assert out['watermark'] in chart_augment.LogoWatermark.CORNERS and changed.any()
    h, w = changed.shape
    ys, xs = np.nonzero(changed)
    top, left = out['watermark'].split('_')
    assert (ys < h / 2).all() if top == 'top' else (ys >= h / 2).all()
    assert (xs < w / 2).all() if left == 'left' else (xs >= w / 2).all()


def test_watermark_rate_follows_prob(root):
    transform = TRANSFORMS.build(dict(type='LogoWatermark', prob=0.35))
    np.random.seed(1)
    marked = [transform(chart_results(root))['watermark'] is not None for _ in range(300)]
    assert 0.27 < np.mean(marked) < 0.43


def test_watermark_needs_its_logo_folder(root, tmp_path):
    transform = TRANSFORMS.build(dict(type='LogoWatermark', prob=1.0))
    results = dict(chart_results(root), data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='logos'):
        transform(results)
    with pytest.raises(ConfigError, match='prob'):
        TRANSFORMS.build(dict(type='LogoWatermark', prob=1.5))


@pytest.mark.parametrize('above', [1.0, 0.0])
def test_title_is_written_above_or_in_the_flattest_area(root, above):
    original, out = apply(dict(type='ChartTitle', above_prob=above), chart_results(root))
    image = np.asarray(out['img'])
    assert out['title']
    if above:
        strip = image.shape[0] - original.shape[0]
        assert strip > 10 and (image[strip:] == original).all()
        assert (image[:strip] < 128).any()  # near-black text in the new strip
    else:
        assert image.shape == original.shape and (image != original).any()
    if chart_augment.find_cjk_font() is None:  # no CJK font here: a Latin fallback title
        assert out['title_font'] == 'fallback' and out['title'].startswith('surface_analysis')
    else:
        assert out['title'] == '地面分析图'


def test_negatives_get_titles_too(root):
    _, out = apply(dict(type='ChartTitle', above_prob=1.0), chart_results(root, is_meteo=0))
    assert out['title'] and 'surface' not in out['title']


def test_jpeg_artefacts_grow_as_quality_falls(root):
    errors = []
    for quality in (90, 20):
        original, out = apply(dict(type='JpegCompress', quality=(quality, quality), prob=1.0),
                              chart_results(root))
        assert out['jpeg_quality'] == quality and out['img'].size == (320, 240)
        errors.append(np.abs(np.asarray(out['img']).astype(int) - original).mean())
    assert 0 < errors[0] < errors[1]


def test_area_crop_keeps_the_asked_fraction(root):
    for seed in range(5):
        original, out = apply(dict(type='RandomAreaCrop', area=(0.5, 0.8)), chart_results(root),
                              seed=seed)
        w, h = out['img'].size
        assert 0.48 <= w * h / (320 * 240) <= 0.82
        x0, y0, x1, y1 = out['crop_box']
        assert (np.asarray(out['img']) == original[y0:y1, x0:x1]).all()


def test_torchvision_transforms_by_name(root):
    _, out = apply(dict(type='TorchVisionTransform', transform='Resize', size=(120, 160)),
                   chart_results(root))
    assert out['img'].size == (160, 120)
    with pytest.raises(ConfigError, match='NoSuchTransform'):
        TRANSFORMS.build(dict(type='TorchVisionTransform', transform='NoSuchTransform'))


def test_full_pipeline_in_the_dataset_keeps_targets(root):
    pipeline = [dict(type='LogoWatermark'), dict(type='ChartTitle'),
                dict(type='RandomAreaCrop'), dict(type='JpegCompress'),
                dict(type='TorchVisionTransform', transform='Resize', size=(240, 320))]
    plain = DATASETS.build(dict(type='MeteoChartDataset', data_root=root, task='elements',
                                split='all'))
    augmented = DATASETS.build(dict(type='MeteoChartDataset', data_root=root, task='elements',
                                    split='all', pipeline=pipeline))
    np.random.seed(0)
    for i in range(len(plain)):
        a, b = plain[i], augmented[i]
        assert b['inputs'].shape == (3, 240, 320)
        assert torch.equal(a['data_samples']['label'], b['data_samples']['label'])
    assert not torch.equal(a['inputs'], b['inputs'])


def test_pipeline_seed_makes_evaluation_augmentation_repeatable(root):
    pipeline = [dict(type='LogoWatermark', prob=0.5), dict(type='JpegCompress', prob=1.0)]
    cfg = dict(type='MeteoChartDataset', data_root=root, split='all', pipeline=pipeline,
               pipeline_seed=7)
    first, second = DATASETS.build(cfg), DATASETS.build(cfg)
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    assert torch.equal(first[3]['inputs'], second[3]['inputs'])
    assert not torch.equal(first[3]['inputs'], first[4]['inputs'])
    assert (np.random.get_state()[1] == state).all()  # the global stream is untouched
