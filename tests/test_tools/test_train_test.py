"""End to end: tools/train.py (train, resume, test-after-train) and tools/test.py."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(*args, check=True):
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
    return result


def _val_scores(work_dir):
    scores = {}
    for file in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        for line in open(file):
            record = json.loads(line)
            if 'cls/macro_f1' in record:
                scores[record['step']] = (record['cls/accuracy'], record['cls/macro_f1'])
    return scores


@pytest.fixture(scope='module')
def trained(tiny_config, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('full'))
    result = _run('tools/train.py', tiny_config, '--work-dir', work_dir)
    return work_dir, result


def test_train_writes_config_logs_checkpoints_and_tests_best(trained):
    work_dir, result = trained
    files = os.listdir(work_dir)
    assert 'tiny_timesclip.py' in files  # dumped config
    assert 'last_checkpoint' in files and 'epoch_3.pth' in files
    assert any(f.startswith('best_cls_macro_f1_epoch_') for f in files)
    assert glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    metrics = json.load(open(osp.join(work_dir, 'test_metrics.json')))
    assert 'best_cls_macro_f1' in metrics['checkpoint']
    assert 0 <= metrics['metrics']['cls/macro_f1'] <= 1
    assert 'cls/accuracy' in result.stdout and 'Test metrics' in result.stdout
    assert osp.isfile(osp.join(work_dir, 'test_confusion_matrix.png'))
    matrix = json.load(open(osp.join(work_dir, 'test_confusion_matrix.json')))['matrix']
    assert sum(map(sum, matrix)) == 32  # the test split of 160 samples
    # the checkpoint carries the training statistics
    ckpt = torch.load(osp.join(work_dir, 'epoch_3.pth'), map_location='cpu', weights_only=False)
    assert bool(ckpt['state_dict']['data_preprocessor.statistics_ready'])
    assert 'rng_states' in ckpt and 'early_stopping' in ckpt


def test_resume_matches_uninterrupted_run(trained, tiny_config, tmp_path):
    work_dir, _ = trained
    resumed = str(tmp_path / 'resumed')
    _run('tools/train.py', tiny_config, '--work-dir', resumed, '--no-test',
         '--cfg-options', 'train_cfg.max_epochs=2')
    _run('tools/train.py', tiny_config, '--work-dir', resumed, '--resume', '--no-test')
    full, part = _val_scores(work_dir), _val_scores(resumed)
    assert sorted(part) == [1, 2, 3]
    for epoch in (1, 2, 3):
        assert part[epoch] == pytest.approx(full[epoch], abs=1e-6), epoch
    full_ckpt = torch.load(osp.join(work_dir, 'epoch_3.pth'), weights_only=False)['state_dict']
    part_ckpt = torch.load(osp.join(resumed, 'epoch_3.pth'), weights_only=False)['state_dict']
    for key in full_ckpt:
        torch.testing.assert_close(part_ckpt[key], full_ckpt[key], atol=1e-5, rtol=1e-4)


def test_test_tool_writes_metrics(trained, tiny_config, tmp_path):
    work_dir, _ = trained
    best = glob.glob(osp.join(work_dir, 'best_*.pth'))[0]
    out = tmp_path / 'metrics.json'
    result = _run('tools/test.py', tiny_config, best, '--work-dir', str(tmp_path / 'test'),
                  '--out', str(out))
    metrics = json.load(open(out))
    assert set(metrics['metrics']) >= {'cls/accuracy', 'cls/macro_f1'}
    reference = json.load(open(osp.join(work_dir, 'test_metrics.json')))['metrics']
    assert metrics['metrics']['cls/macro_f1'] == pytest.approx(reference['cls/macro_f1'])
    assert 'cls/macro_f1' in result.stdout


def test_test_tool_refuses_malicious_checkpoint(tiny_config, tmp_path):
    marker = tmp_path / 'created_by_pickle'

    class Evil:
        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Evil()}, evil)
    result = _run('tools/test.py', tiny_config, str(evil), '--work-dir', str(tmp_path / 'w'),
                  check=False)
    assert result.returncode != 0
    assert 'refused to load checkpoint' in result.stderr
    assert 'posix.system' in result.stderr or 'os.system' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not marker.exists()


def test_amp_on_cpu_and_missing_data_give_clear_errors(tiny_config, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU, so --amp is valid')
    result = _run('tools/train.py', tiny_config, '--amp', '--work-dir', str(tmp_path),
                  check=False)
    assert result.returncode == 1 and '--amp needs a CUDA GPU' in result.stderr
    result = _run('tools/train.py', tiny_config, '--work-dir', str(tmp_path), '--cfg-options',
                  'train_dataloader.dataset.data_file=/nonexistent/2018four.csv', check=False)
    assert result.returncode == 1
    assert '/nonexistent/2018four.csv' in result.stderr and 'data_file' in result.stderr
    assert 'Traceback' not in result.stderr
    # the real experiment without the CLIP weights says which and how to point at them
    result = _run('tools/train.py', osp.join(ROOT, 'configs/timesclip/dual_12s.py'),
                  '--work-dir', str(tmp_path), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert 'openai/clip-vit-base-patch16' in result.stderr
    assert 'model.vision_encoder.pretrained' in result.stderr


def test_inference_api_reuses_training_statistics(trained, tiny_config, small_crop_csv):
    from vtt.apis import init_model, predict_series
    from vtt.registry import DATASETS
    work_dir, _ = trained
    best = glob.glob(osp.join(work_dir, 'best_*.pth'))[0]
    model = init_model(tiny_config, best)
    test_set = DATASETS.build(dict(type='CSVTimeSeriesDataset', data_file=small_crop_csv,
                                   id_column='sample_id', split='test', num_steps=12))
    preds = predict_series(model, test_set.data.numpy())
    accuracy = sum(p['pred_label'] == int(y) for p, y in zip(preds, test_set.labels)) / len(preds)
    reference = json.load(open(osp.join(work_dir, 'test_metrics.json')))['metrics']
    assert accuracy == pytest.approx(reference['cls/accuracy'])
    assert preds[0]['pred_class'] in test_set.classes


def test_tensorboard_flag_writes_event_files(tiny_config, tmp_path):
    _run('tools/train.py', tiny_config, '--work-dir', str(tmp_path), '--tensorboard',
         '--no-test', '--cfg-options', 'train_cfg.max_epochs=1')
    events = glob.glob(osp.join(tmp_path, '*', 'vis_data', 'events.out.tfevents.*'))
    assert events and os.path.getsize(events[0]) > 0


def test_no_validate_drops_validation_and_early_stopping(tiny_config, tmp_path):
    import importlib.util

    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location('train_tool', osp.join(ROOT, 'tools/train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = tool.parse_args([tiny_config, '--no-validate', '--work-dir', str(tmp_path)])
    cfg = tool.merge_args(Config.fromfile(tiny_config), args)
    assert cfg.val_dataloader is None and cfg.param_scheduler is None
    # the early-stopping default hook is gone (not left as None for mmengine to assert on)
    assert 'early_stopping' not in cfg.default_hooks
    assert 'save_best' not in cfg.default_hooks.checkpoint
    assert cfg.default_hooks.train_stats.type == 'TrainStatsHook'
