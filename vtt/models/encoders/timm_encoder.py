"""Any timm image model as a vtt image encoder (the meteo gate's ResNet-18, the element
model's ResNet-50)."""
import os
import os.path as osp
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import (
    ConfigError,
    PretrainedWeightsMismatchError,
    PretrainedWeightsNotFoundError,
)

__all__ = ['TimmEncoder']

#: Weight files looked for in a local directory, in order.
WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin', 'open_clip_pytorch_model.bin')


def _local_weights(pretrained: str) -> Optional[str]:
    """The weight file that ``pretrained`` names locally, or None for a hub id. A value that
    looks like a path (has a ``/`` or starts with ``.`` or ``~``) must exist."""
    path = osp.expanduser(pretrained)
    looks_local = not pretrained.startswith('hf-hub:') and (
        os.sep in pretrained or '/' in pretrained or pretrained.startswith(('.', '~')))
    if looks_local and not osp.exists(path):
        raise PretrainedWeightsNotFoundError(
            f'timm weights not found: {pretrained!r} (a local file or directory). Save them on '
            f'a machine with network access, e.g. timm.models.save_for_hf(timm.create_model('
            f'"resnet18.a1_in1k", pretrained=True), "{pretrained}"), give a hub id such as '
            f'"hf-hub:timm/resnet18.a1_in1k", or pretrained=None for random initialisation')
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        for name in WEIGHT_FILES:
            if osp.isfile(osp.join(path, name)):
                return osp.join(path, name)
        raise PretrainedWeightsNotFoundError(
            f'{path} is a directory without timm weights (looked for {", ".join(WEIGHT_FILES)})')
    return None


@MODELS.register_module()
class TimmEncoder(nn.Module):
    """``timm.create_model(model_name)`` without its classifier.

    Args:
        model_name (str): A timm architecture, e.g. ``'resnet18'``.
        pretrained (str, optional): A local weight file (``.safetensors``/``.pth``/``.bin``),
            a local directory holding one (timm's ``save_for_hf`` layout), a hub id
            (``'hf-hub:timm/resnet18.a1_in1k'`` or ``'resnet18.a1_in1k'``: timm downloads it,
            which needs network access), or None for random initialisation.
        out_type (str): ``'pooled'`` -> ``[N, C]`` (timm's global pool) or ``'feature_map'``
            -> ``[N, C, h, w]``.
        image_size (tuple, optional): ``(H, W)`` the images are resized to first (bilinear,
            antialiased); None keeps their size.
        **kwargs: More ``timm.create_model`` arguments (``drop_rate``, ``in_chans`` ...).

    Images come in ``[0, 1]`` and are normalised with the model's own ``pretrained_cfg``
    mean/std. Shapes: ``forward(images [N, 3, H, W])`` -> ``[N, C]`` or ``[N, C, h, w]``;
    ``output_dim`` is C.
    """

    def __init__(self, model_name: str, pretrained: Optional[str] = None,
                 out_type: str = 'pooled', image_size=None, **kwargs):
        super().__init__()
        import timm
        if out_type not in ('pooled', 'feature_map'):
            raise ValueError(f"out_type must be 'pooled' or 'feature_map', got {out_type!r}")
        if not timm.is_model(model_name):
            raise ConfigError(f'timm has no model {model_name!r}; see timm.list_models() '
                              f'(e.g. "resnet18", "resnet50", "mobilenetv3_large_100")')
        kwargs.setdefault('num_classes', 0)
        if pretrained is None:
            model = timm.create_model(model_name, pretrained=False, **kwargs)
        else:
            model = self._create_pretrained(timm, model_name, str(pretrained), kwargs)
        self.model = model
        self.model_name = model_name
        self.pretrained = pretrained
        self.out_type = out_type
        self.image_size = None if image_size is None else tuple(image_size)
        self.output_dim = model.num_features
        cfg = getattr(model, 'pretrained_cfg', None) or {}
        mean, std = cfg.get('mean', (0.485, 0.456, 0.406)), cfg.get('std', (0.229, 0.224, 0.225))
        self.register_buffer('image_mean', torch.tensor(mean).view(1, -1, 1, 1), False)
        self.register_buffer('image_std', torch.tensor(std).view(1, -1, 1, 1), False)

    @staticmethod
    def _create_pretrained(timm, model_name, pretrained, kwargs):
        local = _local_weights(pretrained)
        try:
            if local is not None:
                return timm.create_model(model_name, pretrained=True,
                                         pretrained_cfg_overlay=dict(file=local), **kwargs)
            hub_name = pretrained if pretrained.startswith('hf-hub:') or '.' in pretrained \
                else model_name
            return timm.create_model(hub_name, pretrained=True, **kwargs)
        except RuntimeError as error:
            if 'size mismatch' in str(error) or 'Missing key' in str(error):
                raise PretrainedWeightsMismatchError(
                    f'{pretrained} does not hold {model_name} weights: '
                    f'{str(error).splitlines()[0][:300]}') from None
            raise
        except (OSError, ValueError) as error:
            offline = os.environ.get('HF_HUB_OFFLINE') == '1'
            raise PretrainedWeightsNotFoundError(
                f'could not load timm weights {pretrained!r} for {model_name} '
                f'({type(error).__name__}: {str(error)[:200]}). Give a local file or directory '
                f'(e.g. one written by timm.models.save_for_hf or torch.save(model.state_dict())) '
                f'or pretrained=None' + (' (HF_HUB_OFFLINE=1 is set)' if offline else '')
            ) from None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.image_size is not None and tuple(images.shape[-2:]) != self.image_size:
            images = F.interpolate(images, size=self.image_size, mode='bilinear',
                                   align_corners=False, antialias=True)
        feats = self.model.forward_features((images - self.image_mean) / self.image_std)
        if self.out_type == 'feature_map':
            return feats
        return self.model.forward_head(feats, pre_logits=True)
