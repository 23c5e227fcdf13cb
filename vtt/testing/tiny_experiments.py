"""Each research line's experiment shrunk to seconds on a CPU, as config files.

Used by the kill-and-resume tests and ``tools/benchmarks/fault_injection.py``: every config
inherits the real one from ``configs/`` and only makes data, towers and schedules tiny, so a
kill/resume campaign exercises the same hooks, checkpoints and state (EMA teachers, codebook
EMA, CLUB's optimizer, LoRA adapters) as the real experiment. Data: small SYNTHETIC sets
(crop CSV, meteo charts), or the real BasicMotions bundled with aeon.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence

__all__ = ['TINY_LINES', 'write_tiny_experiments']

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_LINES = ('timesclip', 'timemae_pretrain', 'cmg_pretrain', 'meteo_gate', 'meteo_elements',
              'meteo_products')


def _config(base: str, body: str) -> str:
    return f'_base_ = [{osp.join(ROOT, "configs", base)!r}]\n' + body


def _timesclip(folder: str) -> str:
    from vtt.datasets.synthetic import write_crop_phenology_csv
    from vtt.testing import tiny_timesclip_overrides
    csv = osp.join(folder, 'crop.csv')
    if not osp.isfile(csv):
        write_crop_phenology_csv(csv, seed=7, class_sizes=(24, 24, 24, 24))
    return _config('timesclip/dual_12s_demo.py', tiny_timesclip_overrides(csv))


def _timemae(folder: str) -> str:
    return _config('timemae/basicmotions_pretrain.py', '''
model = dict(decoder=dict(num_layers=1))
train_cfg = dict(max_epochs=4)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_last=True))
''')


def _cmg(folder: str) -> str:
    return _config('cmg/basicmotions_pretrain.py', '''
train_cfg = dict(max_epochs=3)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_last=True))
''')


def _chart_loaders(folder: str) -> str:
    """Train, val and test on one small synthetic chart set (the gate and element stages)."""
    charts = (f"dict(type='SyntheticMeteoChartDataset', data_root="
              f"{osp.join(folder, 'charts')!r}, generator=dict(seed=0, num_meteo=24, "
              'num_negative=24, size=(96, 72)))')
    return f'''
demo_data = {charts}
train_dataloader = dict(dataset=demo_data, batch_size=8)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)
train_cfg = dict(max_epochs=3)
'''


def _gate(folder: str) -> str:
    return _config('meteo/gate_demo.py', _chart_loaders(folder) + '''
model = dict(backbone=dict(_delete_=True, type='TimmEncoder', model_name='test_resnet'))
''')


def _elements(folder: str) -> str:
    return _config('meteo/elements_demo.py', _chart_loaders(folder) + '''
model = dict(backbone=dict(_delete_=True, type='TimmEncoder', model_name='test_resnet'),
             head=dict(embed_dims=16, hidden_dims=16, decode='parallel'))
''')


def _products(folder: str) -> str:
    from vtt.models.language_models.tiny_gemma3 import meteo_corpus, write_tiny_gemma3
    lm_dir = osp.join(folder, 'gemma3')
    if not osp.isdir(lm_dir):
        write_tiny_gemma3(lm_dir, meteo_corpus(), image_size=32, patch_size=8, image_tokens=4)
    charts = (f"dict(type='SyntheticMeteoChartDataset', data_root="
              f"{osp.join(folder, 'product_charts')!r}, generator=dict(seed=0, num_meteo=32, "
              'num_negative=0, size=(64, 64)))')
    return _config('meteo/products_gemma3_tiny_demo.py', f'''
charts = {charts}
train_dataloader = dict(dataset=dict(charts=charts))
val_dataloader = dict(dataset=dict(charts=charts))
test_dataloader = dict(dataset=dict(charts=charts))
model = dict(lm=dict(pretrained={lm_dir!r}))
train_cfg = dict(max_epochs=2)
''')


_WRITERS = dict(timesclip=_timesclip, timemae_pretrain=_timemae, cmg_pretrain=_cmg,
                meteo_gate=_gate, meteo_elements=_elements, meteo_products=_products)


def write_tiny_experiments(folder: str, lines: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """Write one tiny config per line into ``folder`` (with the data or model files it needs)
    and return ``{line: config path}``."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for line in lines or TINY_LINES:
        if line not in _WRITERS:
            raise ValueError(f'unknown line {line!r}; choose from {TINY_LINES}')
        path = osp.join(folder, f'tiny_{line}.py')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(_WRITERS[line](folder))
        out[line] = path
    return out
