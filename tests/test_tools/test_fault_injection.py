"""Kill -9 anywhere, resume, same result: every research line's tiny experiment is killed with
SIGKILL at a named fault point (mid-epoch, during validation or test, half-way through a
checkpoint write, inside the best-checkpoint swap), resumed with --resume, and must end with
the weights and test metrics of an uninterrupted run. Plus the campaign tool's report line."""
import argparse
import os.path as osp
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if osp.join(ROOT, 'tools', 'benchmarks') not in sys.path:
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks'))

# where each line is killed: the windows where a crash used to lose something
PLANS = {
    'timesclip': ['val.iter:2'],  # during validation (its epoch's checkpoint not yet written)
    'timemae_pretrain': ['file.write:2'],  # half-way through writing a checkpoint (EMA state)
    'cmg_pretrain': ['train.iter:3'],  # mid-epoch (codebook EMA, CLUB's optimizer)
    'meteo_gate': ['best.before_remove_previous:2'],  # between new best and old removed
    'meteo_elements': ['checkpoint.before_remove_outdated:1'],
    'meteo_products': ['test.iter:1'],  # testing the best checkpoint after training
}


@pytest.fixture(scope='module')
def campaign(tmp_path_factory):
    import fault_injection
    # runs fork from the tool's pre-imported zygote (each child is tools/train.py's main,
    # killed by a real SIGKILL): fresh interpreters would cost 15-30 s of start-up per run
    args = argparse.Namespace(budget=60, lines=None, max_kills_per_trial=1, no_fuzz=True,
                              workers=2, no_kill=False, no_zygote=False, seed=0,
                              work_dir=str(tmp_path_factory.mktemp('fault_injection')))
    campaign = fault_injection.Campaign(args)
    yield campaign
    campaign.zygote.close()


def test_every_line_survives_a_kill_at_its_fault_point(campaign):
    from vtt.testing.tiny_experiments import write_tiny_experiments
    configs = write_tiny_experiments(osp.join(campaign.work_dir, 'configs'), list(PLANS))
    # two lines at a time (each run is one single-threaded process)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(PLANS, pool.map(
            lambda line: campaign.scripted_trial(line, configs[line], PLANS[line]), PLANS)))
    assert not any(results.values()), results
    assert campaign.kills == len(PLANS) and campaign.survived == len(PLANS)


def test_report_line_and_fuzz_campaign(tmp_path, capsys):
    import fault_injection
    summary = fault_injection.main(['--budget', '0.2', '--no-kill', '--work-dir',
                                    str(tmp_path)])
    out = capsys.readouterr().out
    line = re.search(r'^kills=(\d+) survived=(\d+) inputs_fuzzed=(\d+) failures=(\d+)$', out,
                     re.M)
    assert line, out
    assert int(line.group(3)) == summary['inputs_fuzzed'] > 50
    assert int(line.group(4)) == 0, out
    assert osp.isfile(tmp_path / 'fault_injection.json')


def test_compare_finds_a_changed_weight():
    import fault_injection
    import torch
    reference = dict(checkpoint='epoch_3.pth', state={'w': torch.zeros(3)}, metrics={'acc': 0.5})
    assert fault_injection.compare(reference, dict(reference)) == []
    other = dict(reference, state={'w': torch.tensor([0.0, 0.1, 0.0])})
    assert fault_injection.compare(reference, other) == ['weight w differs by 0.1']
    worse = dict(reference, metrics={'acc': 0.25})
    assert fault_injection.compare(reference, worse) == ['test metric acc: 0.25 != 0.5']
