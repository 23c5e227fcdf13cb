"""tools/meteo/: the synthetic chart generator and the gate robustness report."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np

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


def tiny_gate_config(tmp_path):
    """gate_demo.py on a small synthetic set and a tiny random timm backbone."""
    config = tmp_path / 'gate_tiny.py'
    config.write_text(f'''_base_ = [{osp.join(ROOT, 'configs', 'meteo', 'gate_demo.py')!r}]
demo_data = dict(type='SyntheticMeteoChartDataset', data_root={str(tmp_path / 'charts')!r},
                 generator=dict(seed=0, num_meteo=24, num_negative=24, size=(96, 72)))
train_dataloader = dict(dataset=demo_data, batch_size=8)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)
model = dict(backbone=dict(_delete_=True, type='TimmEncoder', model_name='test_resnet'))
''')
    return str(config)


def tiny_elements_config(tmp_path):
    """elements_demo.py on the same small synthetic set, tiny backbone and head."""
    config = tmp_path / 'elements_tiny.py'
    config.write_text(f'''_base_ = [{osp.join(ROOT, 'configs', 'meteo', 'elements_demo.py')!r}]
demo_data = dict(type='SyntheticMeteoChartDataset', data_root={str(tmp_path / 'charts')!r},
                 generator=dict(seed=0, num_meteo=24, num_negative=24, size=(96, 72)))
train_dataloader = dict(dataset=demo_data, batch_size=8)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)
model = dict(backbone=dict(_delete_=True, type='TimmEncoder', model_name='test_resnet'),
             head=dict(embed_dims=16, hidden_dims=16, decode='parallel'))
''')
    return str(config)


def test_robustness_report(tmp_path):
    import torch
    from mmengine.config import Config

    from vtt.registry import MODELS
    config = tiny_gate_config(tmp_path)
    model = MODELS.build(Config.fromfile(config).model)
    model.head.set_threshold(0.4)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'gate.pth')
    result = run_tool('tools/meteo/robustness.py', config, str(tmp_path / 'gate.pth'),
                      '--sizes', '64x48', '--jpeg', '20', '--out', str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith('condition=')]
    assert [line.split()[0] for line in lines] == ['condition=reference', 'condition=size',
                                                  'condition=jpeg']
    with open(tmp_path / 'robustness.json') as handle:
        report = json.load(handle)
    assert [r['condition'] for r in report['rows']] == ['reference', 'size 64x48', 'jpeg q20']
    assert all(0 <= r['auc'] <= 1 and r['images'] > 0 for r in report['rows'])
    assert 'threshold 0.400' in result.stdout
    bad = run_tool('tools/meteo/robustness.py', config, str(tmp_path / 'gate.pth'),
                   '--sizes', '64by48')
    assert bad.returncode == 1 and 'WIDTHxHEIGHT' in bad.stderr


def test_infer_reports_every_image_and_skips_broken_ones(tmp_path):
    import torch
    from mmengine.config import Config

    from vtt.datasets.synthetic import meteo_charts
    from vtt.registry import MODELS
    cfg = Config.fromfile(tiny_gate_config(tmp_path))
    model = MODELS.build(cfg.model)
    model.head.set_threshold(0.3)
    # as mmengine saves it: the config travels in the checkpoint's meta
    torch.save(dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text)),
               tmp_path / 'gate.pth')
    images = tmp_path / 'inbox'
    (images / 'nested').mkdir(parents=True)
    rng = np.random.default_rng(0)
    meteo_charts.draw_chart('surface_pressure', {'pressure'}, rng, (96, 72)).save(
        images / 'chart.png')
    meteo_charts.draw_negative('bar_chart', rng, (96, 72)).save(images / 'nested' / 'bars.jpg')
    (images / 'broken.png').write_bytes(b'\x89PNG but not really')
    (images / 'notes.txt').write_text('not an image')
    elements_cfg = Config.fromfile(tiny_elements_config(tmp_path))
    elements = MODELS.build(elements_cfg.model)
    elements.head.set_threshold(1e-4)  # parallel decoding: every element is reported
    classes = list(meteo_charts.ELEMENTS)
    torch.save(dict(state_dict=elements.state_dict(),
                    meta=dict(cfg=elements_cfg.pretty_text, dataset_meta=dict(classes=classes))),
               tmp_path / 'elements.pth')
    out = tmp_path / 'results.jsonl'
    result = run_tool('tools/meteo/infer.py', str(images), '--gate', str(tmp_path / 'gate.pth'),
                      '--elements', str(tmp_path / 'elements.pth'), '--out', str(out),
                      '--batch-size', '1')
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as handle:
        records = {osp.basename(r['path']): r for r in map(json.loads, handle)}
    assert sorted(records) == ['bars.jpg', 'broken.png', 'chart.png']
    assert 'error' in records['broken.png'] and 'gate_score' not in records['broken.png']
    for name in ('bars.jpg', 'chart.png'):
        record = records[name]
        assert 0 <= record['gate_score'] <= 1 and record['gate_threshold'] == 0.3
        assert record['is_meteo'] == (record['gate_score'] >= 0.3)
        if record['is_meteo']:  # stage 2 runs on what the gate passed, and only on that
            assert sorted(e['id'] for e in record['elements']) == sorted(classes)
            assert record['element_decoding'] == 'parallel'
            assert all(0 <= e['score'] <= 1 and 0 <= e['beam'] <= 1 for e in record['elements'])
        else:
            assert 'elements' not in record
    assert sum('error' in r for r in records.values()) == 1
    assert '3 lines written' in result.stderr
    missing = run_tool('tools/meteo/infer.py', str(images), '--gate', str(tmp_path / 'no.pth'))
    assert missing.returncode == 1 and 'checkpoint file not found' in missing.stderr
    swapped = run_tool('tools/meteo/infer.py', str(images), '--gate', str(tmp_path / 'gate.pth'),
                       '--elements', str(tmp_path / 'gate.pth'))
    assert swapped.returncode == 1 and 'not an element recogniser' in swapped.stderr


def test_elements_training_end_to_end(tmp_path):
    """tools/train.py on the elements demo config (tiny): the frequency order, the calibrated
    per-label thresholds and both decodings' test metrics come out of one run."""
    import glob

    import torch

    from vtt.datasets import MeteoChartDataset
    config = tiny_elements_config(tmp_path)
    work_dir = tmp_path / 'work'
    result = run_tool('tools/train.py', config, '--work-dir', str(work_dir), '--cfg-options',
                      'train_cfg.max_epochs=2', 'custom_hooks.0.unfreeze_epoch=1')
    assert result.returncode == 0, result.stderr[-3000:]
    with open(work_dir / 'test_metrics.json') as handle:
        metrics = json.load(handle)['metrics']
    for key in ('parallel/mAP', 'parallel/micro_f1', 'parallel/macro_f1', 'beam/mAP',
                'beam/micro_f1', 'beam/macro_f1'):
        assert 0 <= metrics[key] <= 1, key
    assert 'parallel/thresholds' not in metrics  # nothing is fitted on test
    best = glob.glob(str(work_dir / 'best_parallel_mAP_epoch_*.pth'))
    state = torch.load(best[0], map_location='cpu', weights_only=False)['state_dict']
    assert not torch.allclose(state['head.threshold'], torch.full((9, ), 0.5))  # calibrated
    train = MeteoChartDataset(str(tmp_path / 'charts'), split='train', task='elements')
    counts = torch.tensor(train.train_statistics()['class_counts'])
    rank = state['head.label_rank']
    assert (counts[rank.argsort()].diff() <= 0).all()  # most frequent first
    log = open(glob.glob(str(work_dir / '*' / '*.log'))[0], encoding='utf-8').read()
    assert 'teacher_forcing: 1.0000' in log and 'teacher_forcing: 0.7000' in log


def test_candidate_scoring_benchmark_matches_naive_scores():
    # one decoder layer of Gemma 3 4B's shapes, a small vocabulary and a short prompt: the
    # cached scores must equal K full passes; the speed-up itself is the benchmark's job
    result = run_tool('tools/benchmarks/candidate_scoring.py', '--layers', '1', '--vocab', '512',
                      '--prompt-tokens', '24', '--candidates', '4', '--repeats', '1',
                      '--threads', '1')
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r'candidate_scoring K=4 prompt=24 naive_s=\S+ naive_keep_s=\S+ '
                         r'kv_reuse_s=\S+ ratio=\S+ ratio_keep=\S+ max_abs_diff=(\S+)', line)
    assert match, line
    assert float(match.group(1)) < 1e-4


def test_product_demo_trains_saves_adapters_only_and_tests_identically(tmp_path):
    # products_gemma3_tiny_demo.py on a small synthetic set with a tiny Gemma 3 of 32-pixel
    # images, through tools/train.py and tools/test.py (the real loading path both times)
    from vtt.models.language_models.tiny_gemma3 import meteo_corpus, write_tiny_gemma3
    lm_dir = write_tiny_gemma3(str(tmp_path / 'gemma3'), meteo_corpus(), image_size=32,
                               patch_size=8, image_tokens=4)
    base = osp.join(ROOT, 'configs', 'meteo', 'products_gemma3_tiny_demo.py')
    config = tmp_path / 'products_tiny.py'
    config.write_text(f'''_base_ = [{base!r}]
charts = dict(type='SyntheticMeteoChartDataset', data_root={str(tmp_path / 'charts')!r},
              generator=dict(seed=0, num_meteo=48, num_negative=0, size=(64, 64)))
train_dataloader = dict(dataset=dict(charts=charts))
val_dataloader = dict(dataset=dict(charts=charts))
test_dataloader = dict(dataset=dict(charts=charts))
model = dict(lm=dict(pretrained={lm_dir!r}))
train_cfg = dict(max_epochs=2)
''')
    work = tmp_path / 'work'
    result = run_tool('tools/train.py', str(config), '--work-dir', str(work))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(work / 'test_metrics.json') as handle:
        trained = json.load(handle)
    best = trained['checkpoint']
    assert osp.basename(best).startswith('best_product_top1')
    assert osp.getsize(best) < 2_000_000  # adapters, lm_head copy, temperature: no base model
    metrics = trained['metrics']
    for key in ('top1', 'top3', 'top5', 'ece', 'ece_scaled', 'element_consistency',
                'overlap_baseline_top1', 'candidate_recall', 'latency_s', 'tokens_per_s'):
        assert f'product/{key}' in metrics, sorted(metrics)
    again = run_tool('tools/test.py', str(config), best, '--work-dir', str(tmp_path / 'test'))
    assert again.returncode == 0, again.stderr[-3000:]
    with open(tmp_path / 'test' / 'test_metrics.json') as handle:
        tested = json.load(handle)['metrics']
    for key in ('top1', 'top3', 'ece', 'ece_scaled'):
        assert tested[f'product/{key}'] == metrics[f'product/{key}']


def test_infer_runs_the_full_cascade_with_products(tmp_path):
    import torch
    from mmengine.config import Config

    from vtt.apis import MeteoCascade
    from vtt.datasets.synthetic import meteo_charts
    from vtt.models.language_models.tiny_gemma3 import meteo_corpus, write_tiny_gemma3
    from vtt.registry import MODELS
    charts = tmp_path / 'charts'
    meteo_charts.write_meteo_charts(str(charts), num_meteo=4, num_negative=2, size=(96, 72))
    gate_cfg = Config.fromfile(tiny_gate_config(tmp_path))
    gate = MODELS.build(gate_cfg.model)
    gate.head.set_threshold(1e-6)  # every image goes on to the later stages
    torch.save(dict(state_dict=gate.state_dict(), meta=dict(cfg=gate_cfg.pretty_text)),
               tmp_path / 'gate.pth')
    elements_cfg = Config.fromfile(tiny_elements_config(tmp_path))
    elements = MODELS.build(elements_cfg.model)
    elements.head.set_threshold(1e-4)  # every element: every product is a candidate
    torch.save(dict(state_dict=elements.state_dict(),
                    meta=dict(cfg=elements_cfg.pretty_text,
                              dataset_meta=dict(classes=list(meteo_charts.ELEMENTS)))),
               tmp_path / 'elements.pth')
    lm_dir = write_tiny_gemma3(str(tmp_path / 'gemma3'), meteo_corpus(), image_size=32,
                               patch_size=8, image_tokens=4)
    products_cfg = Config.fromfile(osp.join(ROOT, 'configs', 'meteo',
                                            'products_gemma3_tiny_demo.py'))
    products_cfg.merge_from_dict({'model.lm.pretrained': lm_dir})
    products = MODELS.build(products_cfg.model)
    products.temperature.fill_(2.0)
    work = tmp_path / 'products_work'
    work.mkdir()
    torch.save(dict(state_dict=products.state_dict(), meta=dict(cfg=products_cfg.pretty_text)),
               work / 'best_product_top1_epoch_1.pth')
    images = str(charts / 'images')
    out = tmp_path / 'results.jsonl'
    result = run_tool('tools/meteo/infer.py', images, '--gate', str(tmp_path / 'gate.pth'),
                      '--elements', str(tmp_path / 'elements.pth'), '--products', str(work),
                      '--vocab', str(charts / 'labels.yaml'), '--top-k', '3', '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as handle:
        records = [json.loads(line) for line in handle]
    assert len(records) == 6
    for record in records:
        assert record['is_meteo'] and len(record['elements']) == 9
        assert sorted(record['candidates']) == sorted(meteo_charts.PRODUCTS)  # all match
        assert len(record['products']) == 3 and record['product_temperature'] == 2.0
        probs = [p['prob'] for p in record['products']]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
        assert record['product'] == record['products'][0]['id']
    # the same from Python
    cascade = MeteoCascade(str(tmp_path / 'gate.pth'), str(tmp_path / 'elements.pth'), str(work),
                           vocab=str(charts / 'labels.yaml'), top_k=3)
    first = next(iter(cascade.run([records[0]['path']])))
    assert first['products'] == records[0]['products']
    alone = run_tool('tools/meteo/infer.py', images, '--gate', str(tmp_path / 'gate.pth'),
                     '--products', str(work))
    assert alone.returncode == 1 and 'needs the element stage' in alone.stderr


def test_visual_token_probe_finds_the_charts_only_the_image_decides():
    sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks'))
    from visual_token_probe import chance_level
    assert chance_level(['a', 'a', 'b', 'c'], [1, 1, 1, 2]) == 0.75
    result = run_tool('tools/benchmarks/visual_token_probe.py',
                      'configs/meteo/products_gemma3_270m_qlora.py', '--sizes', '64',
                      '--grids', '1', '--folds', '2', '--seeds', '1')
    assert result.returncode == 0, result.stderr[-2000:]
    # the demo data: pressure + front (2 products) and height + temperature + wind (2)
    match = re.search(r'(\d+) charts whose element set fits several products \(2 element '
                      r'sets, 4 products\)', result.stdout)
    assert match and int(match.group(1)) >= 40, result.stdout
    row = re.search(r'64 .*1 x 1 .*?(0\.\d{3}) .*?(0\.\d{3})', result.stdout)
    assert row and 0 < float(row.group(1)) <= 1 and 0.25 <= float(row.group(2)) < 1, \
        result.stdout
