"""tools/analyze_logs.py on small synthetic mmengine scalar logs."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analyze_logs.py')

ITERS_PER_EPOCH = 20
INTERVAL = 5  # logger interval: 4 training records per epoch
# Logged iteration times per epoch; the first of each epoch is the warm-up outlier.
# Without outliers the epoch means are 0.32, 0.52, 0.22, 0.40: slowest 2, fastest 3, overall
# mean 4.38 / 12 = 0.365. With them: 0.74, 0.765, 0.915, 0.55: slowest 3, fastest 4.
TIMES = {
    1: [2.0, 0.30, 0.32, 0.34],
    2: [1.5, 0.50, 0.52, 0.54],
    3: [3.0, 0.20, 0.22, 0.24],
    4: [1.0, 0.40, 0.40, 0.40],
}


def _load_tool():
    spec = importlib.util.spec_from_file_location('analyze_logs', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _records(epochs, loss_scale=1.0, f1_offset=0.0):
    """Training and validation records as mmengine's LoggerHook writes them."""
    records = []
    for epoch in epochs:
        for k, time in enumerate(TIMES[epoch]):
            step = (epoch - 1) * ITERS_PER_EPOCH + (k + 1) * INTERVAL
            records.append(dict(lr=0.001, data_time=0.01, grad_norm=1.0,
                                loss=loss_scale * 2.0 / (1 + 0.1 * step), loss_cls=0.5,
                                time=time, epoch=epoch, iter=step, step=step))
        records.append({'cls/accuracy': 0.5 + 0.1 * epoch, 'cls/macro_f1': 0.4 + 0.1 * epoch
                        + f1_offset, 'cls/f1_0': 0.6, 'data_time': 0.02, 'time': 0.05,
                        'step': epoch})
    return records


def _write_run(work_dir, timestamp, records):
    vis_data = osp.join(str(work_dir), timestamp, 'vis_data')
    os.makedirs(vis_data, exist_ok=True)
    path = osp.join(vis_data, 'scalars.json')
    with open(path, 'w') as handle:
        handle.writelines(json.dumps(r) + '\n' for r in records)
    return path


@pytest.fixture
def run_a(tmp_path):
    work_dir = tmp_path / 'run_a'
    _write_run(work_dir, '20240101_120000', _records([1, 2, 3, 4]))
    return str(work_dir)


@pytest.fixture
def run_b(tmp_path):
    work_dir = tmp_path / 'run_b'
    _write_run(work_dir, '20240102_090000', _records([1, 2, 3, 4], loss_scale=1.5,
                                                     f1_offset=-0.15))
    return str(work_dir)


def _run(*args):
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONPATH=ROOT)
    env.pop('DISPLAY', None)
    env.pop('WAYLAND_DISPLAY', None)
    return subprocess.run([sys.executable, TOOL, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _pixels_near(image, rgb, tol=12):
    pixels = (image[..., :3] * 255).reshape(-1, 3)
    return int((np.abs(pixels - np.array(rgb)).max(axis=1) <= tol).sum())


def test_plot_curve_png_two_logs_train_and_val(run_a, run_b, tmp_path):
    import matplotlib.image as mpimg

    out = str(tmp_path / 'curves.png')
    result = _run('plot_curve', run_a, run_b, '--keys', 'loss', 'cls/macro_f1', '--legend', 'a',
                  'b', '--title', 'synthetic', '--out', out)
    assert result.returncode == 0, result.stderr
    assert f'save curve to: {out}' in result.stdout
    assert os.path.getsize(out) > 0
    image = mpimg.imread(out)
    assert len(np.unique(image[..., :3].reshape(-1, 3), axis=0)) > 10  # not one colour
    # Both logs are drawn: matplotlib's first two cycle colours (C0 blue, C1 orange).
    assert _pixels_near(image, (31, 119, 180)) > 200
    assert _pixels_near(image, (255, 127, 14)) > 200


def test_plot_curve_pdf_with_smoothing(run_a, run_b, tmp_path):
    out = str(tmp_path / 'curves.pdf')
    assert tool.main(['plot_curve', run_a, run_b, '--keys', 'loss', 'macro_f1', '--window',
                      '3', '--out', out]) == 0
    with open(out, 'rb') as handle:
        assert handle.read(5) == b'%PDF-'
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]  # written atomically


def test_plot_curve_without_display_saves_next_to_log(run_a, monkeypatch, capsys):
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
    assert tool.main(['plot_curve', run_a, '--keys', 'loss', 'cls/macro_f1']) == 0
    expected = osp.join(run_a, 'curve_loss_cls_macro_f1.png')
    assert osp.getsize(expected) > 0
    assert expected in capsys.readouterr().out


def test_cal_train_time_excludes_first_iteration_of_each_epoch(run_a):
    result = _run('cal_train_time', run_a)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f'Analyze train time of {run_a}' in out
    assert 'slowest epoch 2, average time is 0.5200' in out
    assert 'fastest epoch 3, average time is 0.2200' in out
    assert 'time std over epochs is 0.1099' in out
    assert 'average iter time: 0.3650 s/iter' in out
    assert 'Train time' in out  # the rich table


def test_cal_train_time_include_outliers(run_a, capsys):
    assert tool.main(['cal_train_time', run_a, '--include-outliers']) == 0
    out = capsys.readouterr().out
    assert 'slowest epoch 3, average time is 0.9150' in out
    assert 'fastest epoch 4, average time is 0.5500' in out


def test_missing_key_exits_2_and_lists_available_keys(run_a):
    result = _run('plot_curve', run_a, '--keys', 'loss', 'nope', '--out', '/dev/null/x.png')
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith('error: ') and "'nope'" in line and "'loss'" not in line
    assert osp.join(run_a, '20240101_120000', 'vis_data', 'scalars.json') in line
    available = line.split('available keys: ')[1].split(', ')
    assert available == sorted(available)
    assert {'loss', 'lr', 'cls/macro_f1', 'cls/accuracy', 'time'} <= set(available)


def test_missing_log_is_a_clear_error(tmp_path, capsys):
    missing = str(tmp_path / 'no_such_run')
    assert tool.main(['cal_train_time', missing]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: log not found: ') and missing in err


def test_bad_out_extension_fails_before_plotting(run_a, tmp_path, capsys):
    assert tool.main(['plot_curve', run_a, '--out', str(tmp_path / 'curve.xyz')]) == 2
    assert 'end it with .png or .pdf' in capsys.readouterr().err


def test_inputs_resolve_and_resumed_runs_concatenate(tmp_path):
    work_dir = tmp_path / 'resumed'
    # First run: epoch 1 with its validation, then killed in the middle of epoch 2.
    first = _write_run(work_dir, '20240101_100000', _records([1, 2])[:-3])
    # Resumed from the epoch-1 checkpoint: epoch 2 again (different losses), then 3.
    second = _write_run(work_dir, '20240101_110000', _records([2, 3], loss_scale=3.0))
    # A test-only run writes no scalars.json; it must be skipped.
    os.makedirs(work_dir / '20240101_120000' / 'vis_data')

    assert tool.find_scalar_files(str(work_dir)) == [first, second]
    assert tool.find_scalar_files(osp.dirname(osp.dirname(second))) == [second]  # <timestamp>
    assert tool.find_scalar_files(osp.dirname(second)) == [second]  # vis_data
    assert tool.find_scalar_files(second) == [second]

    log = tool.load_log(str(work_dir))
    steps = [r['step'] for r in log.train]
    assert steps == sorted(set(steps)) == [5, 10, 15, 20] + list(range(25, 61, 5))
    assert all(r['loss'] > 2.0 / (1 + 0.1 * r['step']) for r in log.train if r['epoch'] >= 2)
    assert [r['step'] for r in log.val] == [1, 2, 3]

    one_run = tool.load_log(osp.dirname(osp.dirname(first)))
    assert [r['step'] for r in one_run.val] == [1]


def test_key_resolution_and_epoch_axis(run_a, tmp_path):
    log = tool.load_log(run_a)
    assert tool.resolve_key(log, 'cls/macro_f1') == ('val', 'cls/macro_f1')
    assert tool.resolve_key(log, 'macro_f1') == ('val', 'cls/macro_f1')
    assert tool.resolve_key(log, 'time') == ('train', 'time')
    assert tool.resolve_key(log, 'val:time') == ('val', 'time')
    assert tool.resolve_key(log, 'nope') is None

    xs, _, unit = tool.curve(log, 'train', 'loss')
    assert unit == 'epoch'
    assert xs[:4].tolist() == [0.25, 0.5, 0.75, 1.0]  # fractional epochs
    xs, ys, _ = tool.curve(log, 'val', 'cls/macro_f1')
    assert xs.tolist() == [1, 2, 3, 4] and np.allclose(ys, [0.5, 0.6, 0.7, 0.8])

    records = _records([1])
    records[-1]['aux/macro_f1'] = 0.3
    ambiguous = tool.load_log(_write_run(tmp_path / 'amb', '20240101_000000', records))
    with pytest.raises(tool.LogError, match='ambiguous'):
        tool.resolve_key(ambiguous, 'macro_f1')


def test_moving_average_keeps_length_and_start():
    values = np.array([1.0, 3.0, 5.0, 7.0])
    assert tool.moving_average(values, 2).tolist() == [1.0, 2.0, 4.0, 6.0]
    assert tool.moving_average(values, 1) is values
