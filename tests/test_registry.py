import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS as MMENGINE_MODELS

from vtt.registry import DATASETS, HOOKS, METRICS, MODELS


def test_registries_are_children_of_mmengine():
    assert MODELS.parent is MMENGINE_MODELS
    assert MODELS.scope == 'vtt'
    for registry in (MODELS, DATASETS, METRICS, HOOKS):
        assert registry._locations, f'{registry.name} has no locations'


@pytest.mark.parametrize('registry,name', [
    (MODELS, 'TimesCLIPClassifier'), (MODELS, 'FocalLoss'), (MODELS, 'InfoNCELoss'),
    (MODELS, 'TimeSeriesRenderer'), (MODELS, 'CLIPVisionEncoder'), (MODELS, 'CLIPTextEncoder'),
    (MODELS, 'NumericPatchTokenizer'), (MODELS, 'VariateSelection'), (MODELS, 'MLPHead'),
    (DATASETS, 'CSVTimeSeriesDataset'), (DATASETS, 'SyntheticCropDataset'),
    (METRICS, 'SingleLabelMetric'), (HOOKS, 'TrainStatsHook'), (HOOKS, 'RNGStateHook'),
    (HOOKS, 'ResumableEarlyStoppingHook'), (HOOKS, 'ConfusionMatrixHook')])
def test_components_are_registered(registry, name):
    assert registry.get(name) is not None


def test_locations_import_components_on_demand():
    # A fresh interpreter that never imports vtt.models still builds a vtt loss by name.
    code = textwrap.dedent('''
        from mmengine.registry import DefaultScope
        from vtt.registry import MODELS
        DefaultScope.get_instance('t', scope_name='vtt')
        loss = MODELS.build(dict(type='FocalLoss', num_classes=3))
        print(type(loss).__module__)
    ''')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert 'vtt.models.losses.focal' in out.stdout


def test_third_party_component_via_custom_imports(tmp_path, monkeypatch):
    package = tmp_path / 'third_party_pkg'
    package.mkdir()
    (package / '__init__.py').write_text(textwrap.dedent('''
        import torch
        from vtt.registry import MODELS

        @MODELS.register_module()
        class DoubledL1Loss(torch.nn.Module):
            def forward(self, a, b):
                return 2 * (a - b).abs().mean()
    '''))
    config = tmp_path / 'cfg.py'
    config.write_text(textwrap.dedent('''
        default_scope = 'vtt'
        custom_imports = dict(imports=['third_party_pkg'], allow_failed_imports=False)
        loss = dict(type='DoubledL1Loss')
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = Config.fromfile(str(config))  # imports third_party_pkg
    import torch
    loss = MODELS.build(cfg.loss)
    assert float(loss(torch.ones(3), torch.zeros(3))) == 2.0
