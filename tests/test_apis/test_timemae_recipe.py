"""TimeMAE's data-aware defaults: the rules, and that their options build working configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from vtt.apis.timemae_recipe import derive_timemae_recipe, recipe_cfg_options
from vtt.utils.errors import ConfigError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('length,window', [(24, 1), (100, 3), (128, 4), (577, 16), (5000, 16)])
def test_window_gives_about_32_tokens(length, window):
    assert derive_timemae_recipe(20, 25, length).window == window


def test_size_rules():
    tiny = derive_timemae_recipe(12, 16, 345)
    assert tiny.batch_size == 8 and tiny.num_layers == 2 and tiny.augment
    # at least 1000 steps: 2 batches per epoch on 12 series -> 500 epochs
    assert tiny.finetune_epochs == 500 and tiny.finetune_iters == 1000
    assert tiny.final_iters >= 1000 and tiny.pretrain_iters >= 1000
    mid = derive_timemae_recipe(480, 600, 80)
    assert mid.batch_size == 60 and not mid.augment and mid.num_layers == 2
    big = derive_timemae_recipe(4000, 5000, 500)
    assert big.batch_size == 64 and big.num_layers == 4 and big.embed_dims == 128
    # large sets: 30 epochs, more than 1000 steps
    assert big.finetune_epochs == 30 and big.finetune_iters == 30 * 63


def test_bad_sizes_raise():
    with pytest.raises(ConfigError, match='num_train'):
        derive_timemae_recipe(0, 10, 50)
    with pytest.raises(ConfigError, match='ensemble'):
        derive_timemae_recipe(5, 10, 50, ensemble=0)


@pytest.mark.parametrize('stage', ['pretrain', 'select', 'final'])
def test_options_build_the_auto_configs(stage):
    from vtt.registry import MODELS
    recipe = derive_timemae_recipe(32, 40, 100)
    template = 'auto_pretrain.py' if stage == 'pretrain' else 'auto_finetune.py'
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timemae', template))
    cfg.merge_from_dict(recipe_cfg_options(recipe, stage, pretrained=None))
    assert cfg.model.backbone.window_slicer.window == recipe.window
    assert cfg.param_scheduler[-1].end == dict(pretrain=recipe.pretrain_iters,
                                               select=recipe.finetune_iters,
                                               final=recipe.final_iters)[stage]
    if stage == 'final':
        assert cfg.train_dataloader.dataset.split == 'trainval' and cfg.val_dataloader is None
    model = MODELS.build(cfg.model)
    assert type(model.backbone.window_slicer).__name__ == 'ConvWindowSlicer'
    with pytest.raises(ConfigError, match='stage'):
        recipe_cfg_options(recipe, 'test')


def test_the_auto_configs_hold_the_basicmotions_recipe():
    # the numbers written in configs/timemae/auto_*.py are the recipe's for BasicMotions
    # (40 TRAIN series of 100 steps, 32 in the 'train' split)
    recipe = derive_timemae_recipe(32, 40, 100)
    for template, stage in (('auto_pretrain.py', 'pretrain'), ('auto_finetune.py', 'select')):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timemae', template))
        options = recipe_cfg_options(recipe, stage)
        assert cfg.model.backbone.window_slicer.window == recipe.window
        assert cfg.train_dataloader.batch_size == recipe.batch_size
        assert cfg.train_cfg.max_epochs == options['train_cfg.max_epochs']
        assert [dict(s) for s in cfg.param_scheduler] == options['param_scheduler']
