"""tools/meteo/: the synthetic chart generator's command line."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_generate_charts_reports_speed_and_refuses_to_overwrite(tmp_path):
    root = str(tmp_path / 'charts')
    args = ['tools/meteo/generate_charts.py', root, '--num-meteo', '12', '--num-negative', '4',
            '--size', '160', '120']
    result = run_tool(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r'^images=16 seconds=\d+\.\d images_per_s=\d+\.\d$', result.stdout, re.M)
    with open(osp.join(root, 'labels.jsonl'), encoding='utf-8') as handle:
        assert len([json.loads(line) for line in handle]) == 16
    before = sorted(os.listdir(osp.join(root, 'images')))
    again = run_tool(*args)
    assert again.returncode == 1 and again.stderr.startswith('error: ') and 'exists' in again.stderr
    assert sorted(os.listdir(osp.join(root, 'images'))) == before
