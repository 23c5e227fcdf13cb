import os

# Tests never reach the model hub: fail fast instead of retrying for a minute.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

import pytest  # noqa: E402

from vtt.utils import register_all_modules  # noqa: E402

register_all_modules()

from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION  # noqa: E402


@pytest.fixture(scope='session')
def tiny_clip_dir(tmp_path_factory):
    """A tiny random CLIP model written with save_pretrained, as a local 'pretrained' dir."""
    from transformers import CLIPConfig, CLIPModel
    config = CLIPConfig(text_config=TINY_CLIP_TEXT, vision_config=TINY_CLIP_VISION, projection_dim=16)
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
