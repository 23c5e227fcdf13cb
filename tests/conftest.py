import os

# Tests never reach the model hub: fail fast instead of retrying for a minute.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

import os.path as osp  # noqa: E402

import pytest  # noqa: E402

from vtt.setup_env import register_all_modules  # noqa: E402

register_all_modules()

from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION, tiny_timesclip_overrides  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session')
def tiny_clip_dir(tmp_path_factory):
    """A tiny random CLIP model written with save_pretrained, as a local 'pretrained' dir."""
    from transformers import CLIPConfig, CLIPModel
    config = CLIPConfig(text_config=TINY_CLIP_TEXT, vision_config=TINY_CLIP_VISION,
                        projection_dim=16)
    model = CLIPModel(config)
    path = tmp_path_factory.mktemp('tiny_clip')
    model.save_pretrained(path)
    return str(path)


@pytest.fixture(scope='session')
def small_crop_csv(tmp_path_factory):
    """A small synthetic crop CSV (wide layout): 4 classes, 40 samples each, 14 x 37."""
    from vtt.datasets.synthetic import write_crop_phenology_csv
    path = tmp_path_factory.mktemp('data') / 'crop.csv'
    write_crop_phenology_csv(str(path), seed=7, class_sizes=(40, 40, 40, 40))
    return str(path)


def tiny_overrides(data_file):
    """Config lines that shrink a TimesCLIP experiment to a small CSV and tiny towers."""
    return tiny_timesclip_overrides(data_file, osp.join(osp.dirname(data_file), 'feature_cache'))


@pytest.fixture(scope='session')
def tiny_config(tmp_path_factory, small_crop_csv):
    """A config file: the demo experiment shrunk to the small CSV and tiny towers."""
    path = tmp_path_factory.mktemp('cfg') / 'tiny_timesclip.py'
    base = osp.join(ROOT, 'configs/timesclip/dual_12s_demo.py')
    path.write_text(f'_base_ = [{base!r}]\n' + tiny_overrides(small_crop_csv))
    return str(path)
