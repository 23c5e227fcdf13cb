"""CMG's tools end to end, shortened: the real-data protocol, the lead sweep, the codes plot, the
step benchmark and the furnace generator."""
import json
import os.path as osp
import re
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for sub in ('tools/benchmarks', 'tools/cmg'):
    if osp.join(ROOT, sub) not in sys.path:
        sys.path.insert(0, osp.join(ROOT, sub))


@pytest.fixture(scope='module')
def protocol(tmp_path_factory):
    import cmg_basicmotions
    work = tmp_path_factory.mktemp('cmg_bm')
    args = ['--seeds', '0', '--pretrain-epochs', '2', '--downstream-epochs', '2',
            '--work-dir', str(work)]
    return cmg_basicmotions, work, args


def test_basicmotions_protocol_prints_one_line_per_seed(protocol, capsys):
    tool, work, args = protocol
    tool.main(args)
    out = capsys.readouterr().out
    line = [x for x in out.splitlines() if x.startswith('seed=')]
    assert len(line) == 1
    pattern = (r'seed=0 acc2gyro=(\S+) gyro2acc=(\S+) acc2acc=(\S+) gyro2gyro=(\S+) '
               r'acc2gyro_random=(\S+) gyro2acc_random=(\S+)$')
    values = [float(v) for v in re.match(pattern, line[0]).groups()]
    assert all(0 <= v <= 1 for v in values)
    rows = json.load(open(work / 'results.json'))
    assert rows[0]['acc2gyro'] == values[0] and rows[0]['dataset'] == 'basicmotions'
    checkpoint = work / rows[0]['pretrain_checkpoint']
    assert checkpoint.is_file()
    # the pretrained runs load the seed's pretraining checkpoint; the random baselines none
    run = (work / 'seed0' / 'acc2gyro' / 'basicmotions_acc2gyro.py').read_text()
    assert f"'{checkpoint}'" in run
    random_run = (work / 'seed0' / 'gyro2acc_random' / 'basicmotions_gyro2acc.py').read_text()
    assert 'pretrained=None' in random_run
    # --reuse keeps the finished seed: nothing is trained again
    mtime = osp.getmtime(work / 'results.json')
    tool.main(args + ['--reuse'])
    assert osp.getmtime(work / 'results.json') == mtime
    assert 'seed=0 acc2gyro=' in capsys.readouterr().out


def test_codes_plot(protocol, tmp_path, capsys):
    import codes_plot
    _, work, _ = protocol
    rows = json.load(open(work / 'results.json'))
    out = tmp_path / 'codes.png'
    codes_plot.main([osp.join(ROOT, 'configs/cmg/basicmotions_pretrain.py'),
                     str(work / rows[0]['pretrain_checkpoint']), '--split', 'val',
                     '--out', str(out)])
    assert out.is_file() and out.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert re.search(r'start: codes used acc=\d+ gyro=\d+ shared=\d+ agreement=', printed)


def test_lead_sweep_on_small_furnace_data(tmp_path, capsys):
    import lead_sweep
    lead_sweep.main([osp.join(ROOT, 'configs/cmg/furnace_synth_pretrain.py'),
                     '--leads', '0', '3', '--pretrain-epochs', '1', '--downstream-epochs', '1',
                     '--work-dir', str(tmp_path), '--true-lead', '3',
                     '--dataset-options', 'generator.num_sequences=6', 'generator.steps=48',
                     'generator.lead=3', 'max_offset=4'])
    rows = json.load(open(tmp_path / 'lead_sweep.json'))
    assert [r['offset'] for r in rows] == [0, 3]
    assert rows[0]['source'] == 'video' and rows[0]['target'] == 'current'
    for r in rows:
        assert 0 <= r['agreement'] <= 1 and r['perplexity_current'] >= 1
    assert (tmp_path / 'lead_sweep.png').is_file()
    # the downstream run of every offset used that offset and the pretraining of that offset
    cfg = open(tmp_path / 'offset3' / 'downstream' / 'furnace_synth_video2current.py').read()
    assert 'offset=3' in cfg and osp.join('offset3', 'pretrain') in cfg
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith('offset=')]
    assert len(lines) == 2 and 'zero_shot_acc=' in lines[1]


def test_cmg_step_benchmark_runs_at_small_batch(capsys):
    import cmg_step
    cmg_step.main(['--batch', '2', '--steps', '1'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.match(r'seconds_per_step=\d+\.\d+ steps=1 batch=2 threads=\d+ dtype=float32$',
                    line)


def test_generate_furnace(tmp_path, capsys):
    import generate_furnace
    out = tmp_path / 'f.npz'
    generate_furnace.main([str(out), '--num-sequences', '3', '--steps', '40', '--lead', '2'])
    data = np.load(out)
    assert data['current'].shape == (3, 3, 320)
    assert 'SYNTHETIC' in capsys.readouterr().out
