"""The one-command TimeMAE protocol runs on any bundled UEA/UCR dataset."""
import os
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_protocol_on_a_small_bundled_dataset(tmp_path):
    # UnitTest: 20 train / 22 test univariate series; not one of the datasets with configs
    result = subprocess.run(
        [sys.executable, 'tools/benchmarks/timemae_uea.py', 'UnitTest', '--pretrain-epochs',
         '2', '--finetune-epochs', '3', '--work-dir', str(tmp_path)],
        cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE='1'), capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r'UnitTest acc=[01]\.\d{3} macro_f1=[01]\.\d{3} linear_acc=[01]\.\d{3} '
                        r'seconds=\d+', last), last
    for stage in ('pretrain', 'linear', 'finetune'):
        assert osp.isdir(tmp_path / 'UnitTest' / stage)
    assert osp.isfile(tmp_path / 'UnitTest' / 'finetune' / 'test_metrics.json')
