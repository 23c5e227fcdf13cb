"""Config mistakes explained: unknown types, wrong arguments and missing _base_ files give one
line naming what was wrong and what would be right."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from vtt.registry import HOOKS, MODELS
from vtt.utils.cli import load_config
from vtt.utils.errors import ConfigError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_unknown_type_suggests_the_closest_registered_names():
    with pytest.raises(ConfigError, match=r"unknown type 'FocalLos' in the vtt::model "
                       r"registry; did you mean 'FocalLoss'"):
        MODELS.build(dict(type='FocalLos', num_classes=3))
    with pytest.raises(ConfigError, match="did you mean 'CheckpointHook'"):
        HOOKS.build(dict(type='checkpointhook'))
    with pytest.raises(ConfigError, match='custom_imports'):
        MODELS.build(dict(type='QQQQQQ'))


def test_wrong_arguments_list_what_the_component_accepts():
    with pytest.raises(ConfigError) as error:
        MODELS.build(dict(type='FocalLoss', num_classes=3, gama=2.0))
    message = str(error.value)
    assert "unknown argument 'gama' (did you mean 'gamma'?)" in message
    assert 'FocalLoss accepts: num_classes (required), gamma=2.0' in message
    with pytest.raises(ConfigError, match="missing required argument 'num_classes'"):
        MODELS.build(dict(type='FocalLoss'))
    # a correct config still builds, and **kwargs components are not second-guessed
    assert MODELS.build(dict(type='FocalLoss', num_classes=3)).gamma == 2.0


def test_nested_mistake_names_the_outer_component(tmp_path):
    from mmengine.runner import Runner
    config = tmp_path / 'bad_nested.py'
    base = osp.join(ROOT, 'configs', 'timesclip', 'dual_12s_demo.py')
    config.write_text(f'_base_ = [{base!r}]\nmodel = dict(head=dict(type="FusionClsHeadd"))\n')
    cfg = load_config(str(config))
    cfg.work_dir = str(tmp_path / 'work')
    with pytest.raises(ConfigError, match=r"^TimesCLIPClassifier > unknown type 'FusionClsHeadd'"):
        Runner.from_cfg(cfg).model


def test_missing_base_names_the_path_tried(tmp_path):
    config = tmp_path / 'child.py'
    config.write_text("_base_ = ['../nowhere/base.py']\n")
    with pytest.raises(ConfigError) as error:
        load_config(str(config))
    tried = osp.normpath(str(tmp_path / '..' / 'nowhere' / 'base.py'))
    assert str(config) in str(error.value) and tried in str(error.value)
    with pytest.raises(FileNotFoundError, match='config file not found'):
        load_config(str(tmp_path / 'absent.py'))


def test_cli_prints_one_line_and_the_traceback_with_vtt_debug(tmp_path):
    config = tmp_path / 'bad.py'
    base = osp.join(ROOT, 'configs', 'timesclip', 'dual_12s_demo.py')
    config.write_text(f'_base_ = [{base!r}]\nmodel = dict(head=dict(loss=dict(gama=1.0)))\n')
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop('VTT_DEBUG', None)
    cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'w')]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
    assert len(errors) == 1, result.stderr[-2000:]
    assert errors[0].startswith("error: TimesCLIPClassifier > MLPClsHead > FocalLoss: unknown "
                                "argument 'gama' (did you mean 'gamma'?)"), errors[0]
    assert 'Traceback' not in result.stderr
    debug = subprocess.run(cmd, cwd=ROOT, env=dict(env, VTT_DEBUG='1'), capture_output=True,
                           text=True, timeout=300)
    assert debug.returncode != 0 and 'Traceback' in debug.stderr
