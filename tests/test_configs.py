"""Every config in configs/ loads and builds."""
import copy
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from vtt.registry import DATASETS, MODELS
from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION
from vtt.utils.errors import PretrainedWeightsNotFoundError

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)
TINY = dict(CLIPVisionEncoder=TINY_CLIP_VISION, CLIPTextEncoder=TINY_CLIP_TEXT)


def _offline_lm(pretrained) -> bool:
    from vtt.models.language_models import LM_ASSETS, LM_GENERATED
    return pretrained in LM_ASSETS or pretrained in LM_GENERATED or osp.isdir(pretrained)


def _offline_model_cfg(model_cfg):
    """Swap hub weights (CLIP) for tiny random towers (no downloads in tests); return the
    swapped encoder configs so the caller can check that the real ones fail helpfully. Towers
    whose weights ship offline (MobileNetV2 'imagenet', MiniLM 'minilm') are built for real."""
    model_cfg = copy.deepcopy(model_cfg)
    swapped = []
    for key in ('vision_encoder', 'text_encoder'):
        encoder = model_cfg.get(key)
        if encoder and encoder.get('pretrained') and encoder['type'] in TINY:
            swapped.append(dict(encoder))
            encoder.update(pretrained=None, config=TINY[encoder['type']])
    lm = model_cfg.get('lm')
    if lm and lm.get('type') == 'HFCausalLM' and not _offline_lm(lm['pretrained']):
        swapped.append(dict(lm))  # e.g. Gemma 3 4B: the tiny random multimodal Gemma 3
        lm.update(pretrained='tiny_gemma3_meteo')
    backbone = model_cfg.get('backbone')
    if backbone and backbone.get('type') == 'TimmEncoder' and backbone.get('pretrained'):
        swapped.append(dict(backbone))  # timm weights do not ship offline: random init
        backbone.update(pretrained=None)
    return model_cfg, swapped


def test_configs_found():
    names = {osp.relpath(p, osp.join(ROOT, 'configs')) for p in CONFIGS}
    assert {'timesclip/dual_12s.py', 'timesclip/dual_12s_demo.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds(path, tmp_path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'vtt'
    model_cfg, swapped = _offline_model_cfg(cfg.model)
    for encoder in swapped[:1]:
        with pytest.raises(PretrainedWeightsNotFoundError, match=encoder['pretrained']):
            MODELS.build(encoder)
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) > 0
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:  # e.g. no validation in self-supervised pretraining
            continue
        dataset_cfg = copy.deepcopy(loader['dataset'])
        wrapper = None
        if dataset_cfg['type'] == 'MeteoProductDataset':  # wraps a chart dataset
            wrapper, dataset_cfg = dataset_cfg, dataset_cfg['charts']
        if dataset_cfg['type'] in ('SyntheticCropDataset', 'SyntheticYieldDataset'):
            dataset_cfg['data_file'] = str(tmp_path / 'demo.csv')
        if dataset_cfg['type'] == 'SyntheticMeteoChartDataset':
            dataset_cfg.update(data_root=str(tmp_path / 'meteo'),
                               generator=dict(num_meteo=96, num_negative=48, size=(96, 72)))
        if wrapper is not None:
            dataset_cfg = dict(wrapper, charts=dataset_cfg)
        try:
            dataset = DATASETS.build(dataset_cfg)
        except FileNotFoundError as error:  # user data that is not here: say where to put it
            assert 'data_file' in str(error) or 'data_root' in str(error), error
            continue
        assert len(dataset) > 0
        expected_channels = cfg.model.get('data_preprocessor', {}).get('num_variates', 3)
        inputs = dataset[0]['inputs']
        if isinstance(inputs, dict):  # paired modalities: the channels of each series one
            assert set(inputs) == set(expected_channels)
            for m, channels in expected_channels.items():
                assert channels is None or inputs[m].shape[0] == channels
        else:
            assert inputs.shape[0] == expected_channels  # variates, or RGB
