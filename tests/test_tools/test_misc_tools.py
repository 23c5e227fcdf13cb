"""tools/misc/print_config.py and tools/misc/list_components.py, run as a user would."""
import inspect
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRINT_CONFIG = 'tools/misc/print_config.py'
LIST_COMPONENTS = 'tools/misc/list_components.py'
DEMO_CONFIG = 'configs/timesclip/dual_12s_demo.py'


def _start(*args):
    # No PYTHONPATH: the tools must find vtt from the clone on their own.
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    env.pop('PYTHONPATH', None)
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(process):
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _run(*args):
    return _finish(_start(*args))


def _ok(result):
    assert result.returncode == 0, f'{result.args} failed:\n{result.stderr[-3000:]}'
    return result.stdout


def _assert_user_error(result, *fragments):
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith('error: ')
    for fragment in fragments:
        assert fragment in lines[-1]


@pytest.fixture(scope='module')
def listings():
    """The list_components runs the tests read, started together: each spends seconds importing
    every component, so running them side by side keeps this module fast."""
    runs = dict(table=(), hooks=('hooks',), json=('--format', 'json'))
    started = {key: _start(LIST_COMPONENTS, *extra) for key, extra in runs.items()}
    return {key: _ok(_finish(process)) for key, process in started.items()}


def test_print_config_merges_bases():
    text = _ok(_run(PRINT_CONFIG, DEMO_CONFIG))
    assert "type='SyntheticCropDataset'" in text  # the demo config's own value
    assert 'max_epochs=30' in text  # the demo's override of its base
    assert "type='ReduceOnPlateauLR'" in text  # only in a _base_ file
    assert '_base_' not in text


def test_print_config_applies_cfg_options():
    text = _ok(_run(PRINT_CONFIG, DEMO_CONFIG, '--cfg-options', 'train_cfg.max_epochs=7'))
    assert 'max_epochs=7' in text
    assert 'max_epochs=30' not in text


def test_print_config_missing_file():
    _assert_user_error(_run(PRINT_CONFIG, 'configs/no_such_config.py'), 'no_such_config.py')


def test_list_components_table(listings):
    table = listings['table']
    for name, module in [('FocalLoss', 'vtt.models.losses.focal'),
                         ('InfoNCELoss', 'vtt.models.losses.contrastive'),
                         ('TimesCLIPClassifier', 'vtt.models.algorithms.timesclip')]:
        rows = [line for line in table.splitlines() if f' {name} ' in line]
        assert rows and module in rows[0], f'{name} / {module} not in\n{table}'
    assert 'RNGStateHook' in table
    # mmengine's own components only with --include-mmengine
    assert 'CheckpointHook' not in table


def test_list_components_filters_by_registry(listings):
    assert 'RNGStateHook' in listings['hooks']
    assert 'FocalLoss' not in listings['hooks']


def test_list_components_json(listings):
    from vtt.models.losses.focal import FocalLoss

    rows = json.loads(listings['json'])
    focal = [row for row in rows if row['name'] == 'FocalLoss']
    assert len(focal) == 1
    assert focal[0]['registry'] == 'MODELS'
    assert focal[0]['module'] == 'vtt.models.losses.focal'
    assert focal[0]['doc'] == inspect.cleandoc(FocalLoss.__doc__).splitlines()[0]
    assert {row['scope'] for row in rows} == {'vtt'}


def test_list_components_unknown_registry():
    _assert_user_error(_run(LIST_COMPONENTS, 'hooks', 'no_such_registry'),
                       'no_such_registry', 'MODELS', 'HOOKS')
