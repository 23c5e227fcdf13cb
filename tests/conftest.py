import os

# Tests never reach the model hub: fail fast instead of retrying for a minute.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

import os.path as osp  # noqa: E402

import pytest  # noqa: E402

from vtt.setup_env import register_all_modules  # noqa: E402

register_all_modules()

from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION  # noqa: E402

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
    return f'''
data = dict(type='CSVTimeSeriesDataset', data_file={data_file!r}, id_column='sample_id',
            _delete_=True, num_steps=12)
train_dataloader = dict(batch_size=16, dataset=dict(data, split='train'))
val_dataloader = dict(dataset=dict(data, split='val'))
test_dataloader = dict(dataset=dict(data, split='test'))
model = dict(
    embed_dims=16,
    vision_encoder=dict(config=dict(image_size=32, patch_size=8, hidden_size=32,
                                    intermediate_size=64, num_hidden_layers=1,
                                    num_attention_heads=2, projection_dim=16)),
    renderer=dict(image_size=32, margin=2),
    text_encoder=dict(config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1)),
    patch_tokenizer=dict(num_heads=2, num_temporal_layers=0),
    variate_selection=dict(num_heads=2),
    head=dict(hidden_channels=16),
    feature_cache_dir={osp.join(osp.dirname(data_file), 'feature_cache')!r})
train_cfg = dict(max_epochs=3)
default_hooks = dict(logger=dict(interval=2))
'''


@pytest.fixture(scope='session')
def tiny_config(tmp_path_factory, small_crop_csv):
    """A config file: the demo experiment shrunk to the small CSV and tiny towers."""
    path = tmp_path_factory.mktemp('cfg') / 'tiny_timesclip.py'
    base = osp.join(ROOT, 'configs/timesclip/dual_12s_demo.py')
    path.write_text(f'_base_ = [{base!r}]\n' + tiny_overrides(small_crop_csv))
    return str(path)
