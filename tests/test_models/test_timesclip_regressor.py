"""TimesCLIP yield regression: the regressor, its head's target normalisation, the E1-E5
ablation configs (each built and run on a batch), and the regression metric."""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from sklearn.metrics import mean_absolute_percentage_error, r2_score

from vtt.registry import DATASETS, METRICS, MODELS
from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION, tiny_timesclip_cfg
from vtt.utils.errors import ConfigError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tiny_regressor(**overrides):
    cfg = tiny_timesclip_cfg(num_variates=3, **overrides)
    cfg.pop('num_classes')
    cfg.update(type='TimesCLIPRegressor',
               head=dict(type='RegressionHead', hidden_channels=16))
    cfg.update(overrides)
    return MODELS.build(cfg)


def test_regressor_losses_and_predictions_in_target_units():
    torch.manual_seed(0)
    model = tiny_regressor()
    model.set_train_statistics(dict(mean=np.zeros(3), std=np.ones(3),
                                    target_mean=np.array([100.0]), target_std=np.array([20.0])))
    inputs = torch.randn(6, 3, 12)
    target = 100 + 20 * torch.randn(6)
    losses = model(inputs, dict(target=target), mode='loss')
    assert set(losses) == {'loss_reg', 'loss_contrastive'}
    # the loss is on the z-scored target: about 1 for a fresh model, not about 100^2
    assert losses['loss_reg'].item() < 10
    model.eval()
    records = model(inputs, dict(target=target, index=torch.arange(6)), mode='predict')
    values = torch.tensor([r['pred_value'] for r in records])
    assert ((values - 100).abs() < 60).all() and values.std() > 0  # around the TRAIN mean
    assert records[0]['gt_target'] == pytest.approx(target[0].item())
    state = model.state_dict()
    assert state['head.target_mean'].item() == 100 and state['head.target_std'].item() == 20


def test_regressor_learns_a_batch():
    torch.manual_seed(0)
    model = tiny_regressor()
    inputs = torch.randn(16, 3, 12)
    target = inputs[:, 0, :4].mean(1) * 3 + 5
    model.set_train_statistics(dict(target_mean=[target.mean().item()],
                                    target_std=[target.std().item()]))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(60):
        loss = model(inputs, dict(target=target), mode='loss')['loss_reg']
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.3 * first


def test_regression_head_errors():
    head = MODELS.build(dict(type='RegressionHead', in_channels=4))
    with pytest.raises(KeyError, match='data_samples\\["target"\\]'):
        head.loss(torch.randn(2, 4), dict(label=torch.tensor([0, 1])))
    with pytest.raises(ConfigError, match='num_targets=1'):
        head.set_train_statistics(dict(target_mean=[1.0, 2.0], target_std=[1.0, 1.0]))


def test_regression_metric_matches_sklearn():
    pred = np.array([5.0, 6.5, 7.0, 4.0])
    gt = np.array([5.5, 6.0, 7.5, 4.0])
    metric = METRICS.build(dict(type='RegressionMetric'))
    metric.process(None, [dict(pred_value=p, gt_target=g) for p, g in zip(pred, gt)])
    result = metric.evaluate(4)
    assert result['regression/rmse'] == pytest.approx(np.sqrt(np.mean((pred - gt) ** 2)))
    assert result['regression/mae'] == pytest.approx(0.375)
    assert result['regression/r2'] == pytest.approx(r2_score(gt, pred))
    assert result['regression/mape'] == pytest.approx(mean_absolute_percentage_error(gt, pred))
    with pytest.raises(KeyError, match='pred_value and gt_target'):
        METRICS.build(dict(type='RegressionMetric')).process(None, [dict(pred_score=[0.1])])


YIELD_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'timesclip', 'yield_*.py')))


@pytest.mark.parametrize('path', YIELD_CONFIGS, ids=osp.basename)
def test_yield_ablation_configs_build_and_run(path, tmp_path):
    """Every E1-E5 config (and the demo) builds with tiny random CLIP towers and runs a
    training step and a prediction on the synthetic yield data."""
    cfg = Config.fromfile(path)
    model_cfg = copy.deepcopy(cfg.model)
    tiny = dict(CLIPVisionEncoder=TINY_CLIP_VISION, CLIPTextEncoder=TINY_CLIP_TEXT)
    for key in ('vision_encoder', 'text_encoder'):
        if model_cfg.get(key) and model_cfg[key]['type'] in tiny:
            model_cfg[key].update(pretrained=None, config=tiny[model_cfg[key]['type']])
    if model_cfg.get('feature_cache_dir'):
        model_cfg['feature_cache_dir'] = str(tmp_path / 'feature_cache')
    if model_cfg.get('renderer'):
        model_cfg['renderer'].update(image_size=32, scales=(1.0, ), margin=2)
    model = MODELS.build(model_cfg)
    dataset = DATASETS.build(dict(type='SyntheticYieldDataset',
                                  data_file=str(tmp_path / 'yield.csv'), num_steps=12))
    model.set_train_statistics(dataset.train_statistics())
    batch = [dataset[i] for i in range(4)]
    inputs = torch.stack([b['inputs'] for b in batch])
    samples = dict(target=torch.stack([b['data_samples']['target'] for b in batch]))
    losses = model(inputs, samples, mode='loss')
    expected = {'loss_reg'} | ({'loss_contrastive'} if model.contrastive_loss else set())
    assert set(losses) == expected
    sum(losses.values()).backward()
    model.eval()
    assert len(model(inputs, samples, mode='predict')) == 4
    name = osp.basename(path)
    parts = dict(vision=model.vision_encoder is not None,
                 contrastive=model.contrastive_loss is not None,
                 selection=model.variate_selection is not None,
                 clip_text=type(model.text_encoder).__name__ == 'CLIPTextEncoder')
    expected_parts = {
        'yield_full.py': dict(vision=True, contrastive=True, selection=True, clip_text=True),
        'yield_demo.py': dict(vision=True, contrastive=True, selection=True, clip_text=True),
        'yield_no_contrastive.py': dict(vision=True, contrastive=False, selection=True,
                                        clip_text=True),
        'yield_no_variate_selection.py': dict(vision=True, contrastive=True, selection=False,
                                              clip_text=True),
        'yield_clip_text_only.py': dict(vision=False, contrastive=False, selection=False,
                                        clip_text=True),
        'yield_scratch_transformer.py': dict(vision=False, contrastive=False, selection=False,
                                             clip_text=False),
    }[name]
    assert parts == expected_parts


def test_variate_attention_on_request():
    torch.manual_seed(0)
    model = MODELS.build(tiny_timesclip_cfg(num_variates=3, return_attention=True)).eval()
    inputs = torch.randn(4, 3, 12)
    records = model(inputs, dict(label=torch.zeros(4, dtype=torch.long)), mode='predict')
    assert records[0]['attention'].shape == (3, 3)
    assert torch.allclose(records[0]['attention'].sum(-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(model.variate_attention(inputs)[0], records[0]['attention'], atol=1e-5)
    plain = MODELS.build(tiny_timesclip_cfg(num_variates=3, variate_selection=None))
    assert 'attention' not in plain.eval()(inputs, mode='predict')[0]
    with pytest.raises(ConfigError, match='no variate selection'):
        plain.variate_attention(inputs)
