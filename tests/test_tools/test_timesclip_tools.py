"""tools/timesclip/: the early-classification curve."""
import csv
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_early_curve_trains_one_model_per_length(tiny_config, tmp_path):
    work = tmp_path / 'curve'
    result = run_tool('tools/timesclip/early_curve.py', tiny_config, '--steps', '12', '4',
                      '--max-epochs', '1', '--work-dir', str(work))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(work / 'early_curve.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r['steps']) for r in rows] == [4, 12]
    assert float(rows[0]['fraction']) == round(4 / 37, 4)  # of the full 37-step series
    for row in rows:
        assert 0 <= float(row['macro_f1']) <= 1 and 0 <= float(row['accuracy']) <= 1
    assert (work / 'early_curve.png').stat().st_size > 0
    for steps in (4, 12):  # one independent run, tested once, per length
        assert (work / f'steps_{steps}' / 'test_metrics.json').is_file()
    lines = [line for line in result.stdout.splitlines() if line.startswith('steps=')]
    assert len(lines) == 2 and 'macro_f1=' in lines[0]
    reused = run_tool('tools/timesclip/early_curve.py', tiny_config, '--steps', '4',
                      '--work-dir', str(work), '--reuse')
    assert reused.returncode == 0 and 'steps=4' in reused.stdout
    assert float(reused.stdout.split('seconds=')[1].split()[0]) < 1  # nothing retrained


def test_early_curve_errors(tiny_config, tmp_path):
    too_long = run_tool('tools/timesclip/early_curve.py', tiny_config, '--steps', '40',
                        '--work-dir', str(tmp_path))
    assert too_long.returncode == 1 and 'exceed the series length 37' in too_long.stderr
    no_key = run_tool('tools/timesclip/early_curve.py', 'configs/meteo/gate_demo.py',
                      '--steps', '4', '--work-dir', str(tmp_path))
    assert no_key.returncode == 1 and 'no length key' in no_key.stderr


def test_attention_map_per_class(tiny_config, tmp_path):
    import json

    import torch
    from mmengine.config import Config

    from vtt.registry import DATASETS, MODELS
    cfg = Config.fromfile(tiny_config)
    stats = DATASETS.build(cfg.train_dataloader.dataset).train_statistics()
    model = MODELS.build(cfg.model)
    model.set_train_statistics(stats)  # what TrainStatsHook does in training
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'model.pth')
    result = run_tool('tools/timesclip/attention_map.py', tiny_config, str(tmp_path / 'model.pth'),
                      '--split', 'val', '--out', str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / 'attention_map.json') as handle:
        report = json.load(handle)
    assert report['variates'][:2] == ['B2', 'B3'] and len(report['variates']) == 14
    assert report['titles'][0].startswith('all val')
    assert len(report['matrices']) == 1 + sum(n > 0 for n in report['samples_per_class'].values())
    for matrix in report['matrices']:
        assert torch.allclose(torch.tensor(matrix).sum(1), torch.ones(14), atol=1e-4)
    assert (tmp_path / 'attention_map.png').stat().st_size > 0
    assert 'Most attended variates' in result.stdout

    no_selection = tmp_path / 'no_selection.py'
    no_selection.write_text(f'_base_ = [{tiny_config!r}]\nmodel = dict(variate_selection=None)\n')
    plain = MODELS.build(Config.fromfile(str(no_selection)).model)
    plain.set_train_statistics(stats)
    torch.save(dict(state_dict=plain.state_dict()), tmp_path / 'plain.pth')
    failed = run_tool('tools/timesclip/attention_map.py', str(no_selection),
                      str(tmp_path / 'plain.pth'), '--split', 'val', '--out', str(tmp_path))
    assert failed.returncode == 1 and 'no variate selection' in failed.stderr


def test_no_feature_cache_option():
    from mmengine.config import Config

    from vtt.utils.cli import disable_feature_cache
    from vtt.utils.errors import ConfigError
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', 'dual_12s_demo.py'))
    cfg.model.feature_cache_dir = 'somewhere'
    disable_feature_cache(cfg)
    assert cfg.model.cache_vision_features is False and cfg.model.feature_cache_dir is None
    yield_cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', 'yield_demo.py'))
    disable_feature_cache(yield_cfg)  # the regressor inherits the option
    assert yield_cfg.model.cache_vision_features is False
    gate = Config.fromfile(osp.join(ROOT, 'configs', 'meteo', 'gate_demo.py'))
    try:
        disable_feature_cache(gate)
    except ConfigError as error:
        assert 'has no feature cache' in str(error)
    else:
        raise AssertionError('the gate has no feature cache to switch off')


def test_timesclip_epoch_benchmark_line(tmp_path):
    import re
    result = run_tool('tools/benchmarks/timesclip_epoch.py', '--tiny', '--samples', '8',
                      '--batch-size', '4', '--cache-dir', str(tmp_path / 'cache'))
    assert result.returncode == 0, result.stderr[-3000:]
    line = result.stdout.strip().splitlines()[-1]
    assert re.match(r'^uncached_s=\d+\.\d+ cached_s=\d+\.\d+ ratio=\d+\.\d same_metrics=True ',
                    line), line
    assert list((tmp_path / 'cache').glob('*/shard-*.safetensors'))  # the disk cache was used
    warm = run_tool('tools/benchmarks/timesclip_epoch.py', '--tiny', '--samples', '8',
                    '--batch-size', '4', '--cache-dir', str(tmp_path / 'cache'))
    assert "'loaded': 112" in warm.stderr  # a second process reads all 8 x 14 features
