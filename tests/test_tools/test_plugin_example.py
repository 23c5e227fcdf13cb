"""The external plugin example registers components and runs without editing vtt."""
import json
import os
import os.path as osp
import subprocess
import sys

from conftest import ROOT, tiny_overrides

PLUGIN = osp.join(ROOT, 'examples', 'vtt_plugin_example')


def test_plugin_config_trains_with_external_components(small_crop_csv, tmp_path):
    config = tmp_path / 'plugin_tiny.py'
    config.write_text(
        f"_base_ = [{osp.join(PLUGIN, 'configs', 'dual_12s_demo_plugin.py')!r}]\n" +
        tiny_overrides(small_crop_csv) +
        "model.update(text_encoder=dict(hidden_size=32, output_dim=16))\n")
    env = dict(os.environ, PYTHONPATH=PLUGIN, HF_HUB_OFFLINE='1')
    work_dir = tmp_path / 'work'
    result = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir',
                             str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1'],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    dumped = open(work_dir / 'plugin_tiny.py').read()
    assert "type='GRUSequenceEncoder'" in dumped
    assert "type='LabelSmoothingCrossEntropy'" in dumped
    assert 'vtt_plugin_example' in dumped
    metrics = json.load(open(work_dir / 'test_metrics.json'))['metrics']
    assert 0 <= metrics['cls/macro_f1'] <= 1
