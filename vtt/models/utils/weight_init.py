"""Weight initialisers for ``init_cfg`` (registered in vtt's ``WEIGHT_INITIALIZERS``)."""
from typing import Optional

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from torch import nn

from vtt.registry import WEIGHT_INITIALIZERS
from vtt.utils.errors import ConfigError

from .checkpoint import upgrade_timemae_pretrainer_keys

__all__ = ['StrictPretrainedInit', 'XavierLinearInit']


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class StrictPretrainedInit(PretrainedInit):
    """mmengine's ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)``, strict.

    Registered under the same name in vtt's scope, so configs keep mmengine's syntax. It
    differs from mmengine's in what it accepts:

    * the checkpoint is read by vtt's safe loader (``weights_only`` with an allowlist: see
      :mod:`vtt.utils.compat`), as every checkpoint in vtt;
    * every weight of the module must be in the checkpoint (under ``prefix``) and nothing else
      there may be left over: mmengine only logs such mismatches, which silently leaves a
      "pretrained" model partly random. The error names the keys and the checkpoint;
    * TimeMAE pretraining checkpoints of the former layout (``window_slicer.*``/``encoder.*`` at
      the top level) are read through :func:`upgrade_timemae_pretrainer_keys`, so
      ``prefix='backbone.'`` finds their weights.

    Args:
        checkpoint (str): Checkpoint file.
        prefix (str, optional): Load only the keys under this prefix (``'backbone.'``), with the
            prefix removed.
        map_location (str): Defaults to ``'cpu'``.
    """

    def __call__(self, module: nn.Module) -> None:
        from mmengine.runner.checkpoint import CheckpointLoader
        checkpoint = CheckpointLoader.load_checkpoint(self.checkpoint,
                                                      map_location=self.map_location)
        state_dict = checkpoint.get('state_dict', checkpoint)
        state_dict = dict(state_dict)
        upgrade_timemae_pretrainer_keys(state_dict)
        if self.prefix:
            prefix = self.prefix if self.prefix.endswith('.') else self.prefix + '.'
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()
                          if k.startswith(prefix)}
            if not state_dict:
                raise ConfigError(
                    f'init_cfg Pretrained: {self.checkpoint} has no weights under '
                    f'{prefix!r}; is it a checkpoint of the model this part comes from?')
        print_log(f'load {self.prefix or "all weights"} from {self.checkpoint}',
                  logger='current')
        result = module.load_state_dict(state_dict, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise ConfigError(
                f'init_cfg Pretrained: {self.checkpoint} (prefix {self.prefix!r}) does not fit '
                f'{type(module).__name__}: missing {list(result.missing_keys)[:6]}, unexpected '
                f'{list(result.unexpected_keys)[:6]}. Build this part with the same config as '
                'the model that wrote the checkpoint.')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())


@WEIGHT_INITIALIZERS.register_module(name='XavierLinear')
class XavierLinearInit:
    """Xavier initialisation of every linear map, including the ones mmengine's ``Xavier``
    initialiser (which matches class names) misses: subclasses of ``nn.Linear`` (attention
    output projections) and the packed query/key/value projection of
    ``nn.MultiheadAttention``, which gets one Xavier draw per query/key/value block, as three
    separate ``nn.Linear(D, D)`` would.

    The official TimeMAE code initialises its model this way (normal distribution, bias 0.1).
    The ``backbone`` of a :class:`PretrainedTower` (loaded weights) is left alone.

    Args:
        distribution (str): ``'normal'`` or ``'uniform'``. Defaults to ``'normal'``.
        gain (float): Xavier gain. Defaults to 1.
        bias (float, optional): Constant for biases; None leaves them. Defaults to 0.1.
    """

    def __init__(self, distribution: str = 'normal', gain: float = 1.0,
                 bias: Optional[float] = 0.1):
        if distribution not in ('normal', 'uniform'):
            raise ConfigError(f"XavierLinear: distribution must be 'normal' or 'uniform', got "
                              f'{distribution!r}')
        self.fill = nn.init.xavier_normal_ if distribution == 'normal' else nn.init.xavier_uniform_
        self.gain = gain
        self.bias = bias

    def _init(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            self.fill(module.weight, gain=self.gain)
            if module.bias is not None and self.bias is not None:
                nn.init.constant_(module.bias, self.bias)
        elif isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
            for block in module.in_proj_weight.data.chunk(3, dim=0):
                self.fill(block, gain=self.gain)
            if module.in_proj_bias is not None and self.bias is not None:
                nn.init.constant_(module.in_proj_bias, self.bias)

    def _apply(self, module: nn.Module) -> None:
        # A wrapped pretrained model keeps its loaded weights; the wrapper's own layers (e.g.
        # projections around it) are initialised.
        from .pretrained import PretrainedTower
        for name, child in module.named_children():
            if isinstance(module, PretrainedTower) and name == 'backbone':
                continue
            self._apply(child)
        self._init(module)

    def __call__(self, module: nn.Module) -> None:
        self._apply(module)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=f'XavierLinear: {self.fill.__name__}, '
                             f'bias={self.bias}')
