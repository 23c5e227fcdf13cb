"""The weather-chart data contract: vocabulary, annotation validation, splits, the dataset, and
the synthetic chart generator."""
import hashlib
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch.utils.data import default_collate

from vtt.datasets import (
                          DataFormatError,
                          MeteoVocabulary,
                          load_meteo_annotations,
                          split_meteo_records,
)
from vtt.datasets.synthetic import meteo_charts as generator
from vtt.registry import DATASETS
from vtt.utils.errors import ConfigError


@pytest.fixture(scope='module')
def charts(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('meteo') / 'charts')
    stats = generator.write_meteo_charts(root, seed=3, num_meteo=72, num_negative=36)
    return root, stats


def read_lines(root):
    with open(osp.join(root, 'labels.jsonl'), encoding='utf-8') as handle:
        return [json.loads(line) for line in handle]


def copy_collection(root, tmp_path):
    """A private copy of the collection that a test may break."""
    target = str(tmp_path / 'copy')
    shutil.copytree(root, target)
    return target


def write_lines(root, lines):
    with open(osp.join(root, 'labels.jsonl'), 'w', encoding='utf-8') as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + '\n')


# --------------------------------------------------------------------------- generator
def test_generator_writes_the_contract(charts):
    root, stats = charts
    assert stats['images'] == 108 and stats['images_per_s'] > 0
    assert sorted(os.listdir(root)) == ['images', 'labels.jsonl', 'labels.yaml', 'logos']
    vocab = MeteoVocabulary.from_yaml(osp.join(root, 'labels.yaml'))
    assert len(vocab.elements) >= 8 and len(vocab.products) >= 12
    # element sets overlap, so products are hard negatives of each other
    sets = list(vocab.product_elements.values())
    assert sum(len(a & b) > 0 for i, a in enumerate(sets) for b in sets[i + 1:]) >= 10
    records = read_lines(root)
    assert {r['product'] for r in records if r['is_meteo']} == set(vocab.products)
    kinds = {r['kind'] for r in records if not r['is_meteo']}
    assert kinds & set(generator.HARD_NEGATIVES)
    logos = os.listdir(osp.join(root, 'logos'))
    assert logos and all(Image.open(osp.join(root, 'logos', f)).mode == 'RGBA' for f in logos)
    # every record passes the loader's checks (labels agree with the product definitions)
    assert len(load_meteo_annotations(osp.join(root, 'labels.jsonl'), vocab)) == 108


def digest(root):
    sha = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            with open(osp.join(folder, name), 'rb') as handle:
                sha.update(name.encode() + handle.read())
    return sha.hexdigest()


def test_generator_is_deterministic_per_seed(tmp_path):
    kwargs = dict(num_meteo=12, num_negative=6, size=(160, 120))
    generator.write_meteo_charts(str(tmp_path / 'a'), seed=5, **kwargs)
    generator.write_meteo_charts(str(tmp_path / 'b'), seed=5, **kwargs)
    generator.write_meteo_charts(str(tmp_path / 'c'), seed=6, **kwargs)
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b') != digest(tmp_path / 'c')
    assert Image.open(tmp_path / 'a' / 'images' / '00000.png').size == (160, 120)


@pytest.mark.parametrize('element', sorted(generator.ELEMENTS))
def test_each_element_is_visible(element):
    """A chart with one more element differs from the same chart without it."""
    product = next(p for p, v in generator.PRODUCTS.items() if element in v[2])
    base = set(generator.PRODUCTS[product][2]) - {element}
    with_it = generator.draw_chart(product, base | {element}, np.random.default_rng(0))
    without = generator.draw_chart(product, base, np.random.default_rng(0))
    changed = (np.asarray(with_it).astype(int) - np.asarray(without)).any(-1).mean()
    assert changed > 0.002, f'{element} changes only {changed:.4f} of the pixels'


def test_generator_never_leaves_half_a_collection(tmp_path, monkeypatch):
    root = str(tmp_path / 'charts')
    calls = []

    def failing(kind, rng, size):
        calls.append(kind)
        raise RuntimeError('disk full')

    monkeypatch.setattr(generator, 'draw_negative', failing)
    with pytest.raises(RuntimeError, match='disk full'):
        generator.write_meteo_charts(root, num_meteo=4, num_negative=2)
    assert calls and not osp.exists(root)
    assert os.listdir(tmp_path) == []  # the temporary folder is gone too
    with pytest.raises(ConfigError, match='at least 48 x 64'):
        generator.write_meteo_charts(root, size=(40, 30))
    with pytest.raises(ConfigError, match='at least 48 x 64'):
        generator.write_meteo_charts(root, size=(64, 48))  # too low for the map's labels
    os.makedirs(root)
    with pytest.raises(FileExistsError, match='delete it'):
        generator.write_meteo_charts(root, num_meteo=4, num_negative=2)


# --------------------------------------------------------------------------- vocabulary
def test_vocabulary_resolves_aliases_and_names(charts):
    vocab = MeteoVocabulary.from_yaml(osp.join(charts[0], 'labels.yaml'))
    assert vocab.resolve('风速') == vocab.resolve('Wind Field') == vocab.resolve('wind') == 'wind'
    assert vocab.resolve('snow') is None
    target = vocab.multi_hot(['wind', 'front'])
    assert target.sum() == 2 and target[vocab.elements.index('front')] == 1


def test_vocabulary_errors_name_the_line(tmp_path):
    path = tmp_path / 'labels.yaml'
    path.write_text(yaml.safe_dump(dict(
        elements=[dict(id='wind', aliases=['gust']), dict(id='rain', aliases=['gust'])],
        products=[dict(id='p1', elements=['wind']), dict(id='p2', elements=['snow']),
                  dict(id='p1', elements=['rain'])]), sort_keys=False))
    with pytest.raises(DataFormatError) as info:
        MeteoVocabulary.from_yaml(str(path))
    message = str(info.value)
    assert str(path) in message and '3 problem(s)' in message
    assert "alias 'gust' already names element 'wind'" in message
    assert "unknown element 'snow'" in message and "duplicate product id 'p1'" in message
    assert 'line ' in message and 'line ?' not in message


# --------------------------------------------------------------------------- annotations
def test_malformed_annotations_list_every_problem_with_its_line(charts, tmp_path):
    root = copy_collection(charts[0], tmp_path)
    lines = read_lines(root)
    meteo = [r for r in lines if r['is_meteo']]
    with open(osp.join(root, 'images', 'broken.png'), 'wb') as handle:
        handle.write(b'not a png at all')
    bad = [
        meteo[0],  # line 1: fine
        '{"path": "images/00001.png", "is_meteo": 1,',  # line 2: bad JSON
        dict(meteo[1], product='no_such_product'),  # 3
        dict(meteo[2], labels=meteo[2]['labels'] + ['snow']),  # 4
        dict(meteo[3], path='images/missing.png'),  # 5
        dict(meteo[4], path='images/broken.png'),  # 6
        dict(meteo[5], labels=[]),  # 7: the product's required elements are missing
        meteo[0],  # 8: duplicate path
        dict(lines[-1], labels=['wind']),  # 9: a negative with labels
        dict(meteo[6], is_meteo='yes'),  # 10
    ]
    write_lines(root, bad)
    ann = osp.join(root, 'labels.jsonl')
    vocab = MeteoVocabulary.from_yaml(osp.join(root, 'labels.yaml'))
    with pytest.raises(DataFormatError) as info:
        load_meteo_annotations(ann, vocab)
    message = str(info.value)
    assert message.startswith(ann) and '9 problem(s)' in message
    for line, words in [(2, 'not valid JSON'), (3, "'no_such_product' is not a product"),
                        (4, "unknown element 'snow'"), (5, 'not found'),
                        (6, 'unreadable'), (7, 'requires element(s)'),
                        (8, 'duplicates line 1'), (9, 'must have no labels'),
                        (10, '"is_meteo" must be 0 or 1')]:
        assert f'line {line}: ' in message and words in message, (line, words, message)
    # nothing is trained on a malformed file: the dataset refuses to build
    with pytest.raises(DataFormatError):
        DATASETS.build(dict(type='MeteoChartDataset', data_root=root, split='all'))


def test_aliases_and_optional_elements_are_checked(charts, tmp_path):
    root = copy_collection(charts[0], tmp_path)
    vocab = MeteoVocabulary.from_yaml(osp.join(root, 'labels.yaml'))
    record = next(r for r in read_lines(root) if r['product'] == '24h_max_wind')
    write_lines(root, [dict(record, labels=['风速'])])
    loaded = load_meteo_annotations(osp.join(root, 'labels.jsonl'), vocab)
    assert loaded[0]['labels'] == ['wind']
    write_lines(root, [dict(record, labels=['wind', 'radar_echo'])])  # not allowed on it
    with pytest.raises(DataFormatError, match="does not allow element"):
        load_meteo_annotations(osp.join(root, 'labels.jsonl'), vocab)


# --------------------------------------------------------------------------- splits
def test_splits(charts):
    root = charts[0]
    vocab = MeteoVocabulary.from_yaml(osp.join(root, 'labels.yaml'))
    records = load_meteo_annotations(osp.join(root, 'labels.jsonl'), vocab, check_images=False)
    parts = {s: split_meteo_records(records, s, seed=1) for s in ('train', 'val', 'test')}
    paths = [{r['path'] for r in p} for p in parts.values()]
    assert sum(map(len, paths)) == len(records) and len(set.union(*paths)) == len(records)
    assert {r['is_meteo'] for r in parts['test']} == {0, 1}
    by_source = split_meteo_records(records, 'val', split_by='source',
                                    sources=dict(train=['office_0'], val=['office_1'],
                                                 test=['office_2']))
    assert by_source and {r['source'] for r in by_source} == {'office_1'}
    with pytest.raises(ConfigError, match='both'):
        split_meteo_records(records, 'val', split_by='source',
                            sources=dict(train=['office_0'], val=['office_0', 'office_1'],
                                         test=['office_2']))
    with pytest.raises(DataFormatError, match='belong to no split'):
        split_meteo_records(records, 'val', split_by='source',
                            sources=dict(train=['office_0'], val=['office_1']))
    with pytest.raises(DataFormatError, match='needs a "split"'):
        split_meteo_records(records, 'train', split_by='field')


# --------------------------------------------------------------------------- dataset
@pytest.mark.parametrize('task', ['gate', 'elements', 'product'])
def test_dataset_items(charts, task):
    dataset = DATASETS.build(dict(type='MeteoChartDataset', data_root=charts[0], task=task,
                                  split='train'))
    item = dataset[0]
    assert item['inputs'].shape == (3, 240, 320) and item['inputs'].dtype == torch.float32
    assert 0 <= item['inputs'].min() and item['inputs'].max() <= 1
    target = item['data_samples']['label']
    record = dataset.records[item['data_samples']['index']]
    stats = dataset.train_statistics()
    counts = stats['class_counts']
    assert len(counts) == len(dataset.metainfo['classes'])
    assert stats['num_samples'] == len(dataset)
    if task == 'gate':
        assert {dataset[i]['data_samples']['label'] for i in range(len(dataset))} == {0., 1.}
        assert sum(counts) == len(dataset) and min(counts) > 0
    elif task == 'elements':
        assert target.shape == (len(dataset.metainfo['classes']), ) and target.sum() >= 1
        assert [dataset.metainfo['classes'][i] for i in torch.nonzero(target).flatten()] == \
            record['labels']
        assert all(r['is_meteo'] for r in dataset.records)
    else:
        assert dataset.metainfo['classes'][target] == record['product']
        assert sum(counts) == len(dataset)
    batch = default_collate([dataset[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 3, 240, 320) and len(batch['data_samples']['path']) == 4


def test_synthetic_dataset_generates_on_first_use(tmp_path):
    cfg = dict(type='SyntheticMeteoChartDataset', data_root=str(tmp_path / 'demo'),
               generator=dict(seed=1, num_meteo=12, num_negative=6, size=(96, 72)),
               split_by='source', sources=dict(train=['office_0'], val=['office_1'],
                                              test=['office_2']),
               split='all')
    first = DATASETS.build(cfg)
    stamp = os.stat(tmp_path / 'demo' / 'labels.jsonl').st_mtime_ns
    second = DATASETS.build(dict(cfg, split='test'))
    assert len(first) == 18 and 0 < len(second) < 18
    assert os.stat(tmp_path / 'demo' / 'labels.jsonl').st_mtime_ns == stamp  # not rewritten
