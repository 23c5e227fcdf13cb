"""Building blocks shared by several model families (not registered components)."""
from .attention import attendable_padding_mask
from .checkpoint import add_layer_scales, upgrade_layer_scale_keys, upgrade_timemae_pretrainer_keys
from .ema import MomentumEncoder, check_momentum, ema_update_
from .feature_cache import FrozenFeatureCache
from .fingerprint import weights_fingerprint
from .patches import patchify, unpatchify
from .predictions import GROUND_TRUTH_KEYS, pack_predictions
from .pretrained import PretrainedTower, build_hf_config, freeze_module, load_pretrained
from .weight_init import StrictPretrainedInit, XavierLinearInit

__all__ = [
    'attendable_padding_mask', 'add_layer_scales', 'upgrade_layer_scale_keys',
    'upgrade_timemae_pretrainer_keys', 'MomentumEncoder', 'check_momentum', 'ema_update_',
    'FrozenFeatureCache', 'weights_fingerprint', 'patchify', 'unpatchify',
    'GROUND_TRUTH_KEYS', 'pack_predictions',
    'PretrainedTower', 'build_hf_config', 'freeze_module', 'load_pretrained',
    'StrictPretrainedInit', 'XavierLinearInit'
]
