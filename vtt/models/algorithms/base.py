"""The base of every vtt algorithm (the top-level model a config's ``model=`` builds)."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from vtt.utils.errors import ConfigError

__all__ = ['BaseAlgorithm']


class BaseAlgorithm(BaseModel):
    """What every vtt algorithm shares; a subclass writes only its own computation.

    ::

        data batch --data_preprocessor--> inputs [B, V, T] (+ data_samples dict: label, mask ...)
          forward(mode='tensor')  -> self.extract_feat(inputs, data_samples)  (or _forward)
          forward(mode='loss')    -> self.loss(inputs, data_samples)    -> dict of losses/logs
          forward(mode='predict') -> self.predict(inputs, data_samples) -> list of dicts

    A subclass implements ``loss`` and, if it predicts, ``predict`` (usually
    ``self.head.predict(self.extract_feat(...), data_samples)``: heads turn features into
    per-sample records with :func:`vtt.models.utils.pack_predictions`), and ``extract_feat``
    or ``_forward`` for ``mode='tensor'``.

    Provided here:

    * the ``forward`` mode dispatch, with a clear error for an unknown mode and for ``predict``
      on an algorithm that has no prediction (``can_predict = False``);
    * the data preprocessor: a config is required (``default_data_preprocessor`` of the class
      is used when it is left out, else a clear error with an example);
    * :meth:`set_train_statistics`, called by ``TrainStatsHook`` with the training split's
      ``train_statistics()``: per-variate ``mean``/``std`` go to the data preprocessor's
      buffers (a preprocessor with its own ``set_train_statistics``, such as the multimodal
      one, takes the whole dict), everything (``class_counts`` ...) to ``self.head`` when it has
      ``set_train_statistics`` (heads hand class counts to their loss); subclasses extend it for
      their own state (and call ``super()``);
    * :meth:`mask_of`: the optional valid-step mask ``[B, T]`` of a batch.

    Args:
        data_preprocessor (dict, optional): e.g. ``dict(type='TimeSeriesDataPreprocessor',
            num_variates=V)``.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    #: Used when the config gives no ``data_preprocessor`` (None: it must be given).
    default_data_preprocessor: Optional[dict] = None
    #: False for algorithms that only learn representations (pretraining).
    can_predict: bool = True

    def __init__(self, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            if self.default_data_preprocessor is None:
                raise ConfigError(
                    f'{type(self).__name__} needs a data_preprocessor, e.g. '
                    "model.data_preprocessor=dict(type='TimeSeriesDataPreprocessor', "
                    'num_variates=V) with V the number of variates of the data')
            data_preprocessor = dict(self.default_data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    # ------------------------------------------------------------------ statistics
    def set_train_statistics(self, stats: dict) -> None:
        """Take the training split's statistics (see the class docstring)."""
        if hasattr(self.data_preprocessor, 'set_train_statistics'):
            self.data_preprocessor.set_train_statistics(stats)  # e.g. one entry per modality
        elif 'mean' in stats and hasattr(self.data_preprocessor, 'set_statistics'):
            self.data_preprocessor.set_statistics(stats['mean'], stats['std'])
        head = getattr(self, 'head', None)
        if head is not None and hasattr(head, 'set_train_statistics'):
            head.set_train_statistics(stats)

    @property
    def num_variates(self) -> Optional[int]:
        """V as declared by the data preprocessor (the one place a config writes it)."""
        return getattr(self.data_preprocessor, 'num_variates', None)

    @staticmethod
    def mask_of(data_samples: Optional[dict]) -> Optional[torch.Tensor]:
        """The batch's valid-step mask ``[B, T]`` (bool), or None when it has none."""
        if isinstance(data_samples, dict) and data_samples.get('mask') is not None:
            return data_samples['mask'].bool()
        return None

    # ------------------------------------------------------------------ mmengine API
    def forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict[str, torch.Tensor], List]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            if not self.can_predict:
                raise NotImplementedError(
                    f'{type(self).__name__} learns representations and makes no predictions; '
                    'evaluate it downstream (linear probe or fine-tuning) and run it without '
                    'val/test loops (tools/train.py --no-validate --no-test)')
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'Invalid mode {mode!r}; use tensor, loss or predict')

    def _forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None):
        """``mode='tensor'``: features by default."""
        return self.extract_feat(inputs, data_samples)

    def extract_feat(self, inputs: torch.Tensor, data_samples: Optional[dict] = None):
        raise NotImplementedError(f'{type(self).__name__} does not define extract_feat')

    def loss(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> dict:
        raise NotImplementedError(f'{type(self).__name__} does not define loss')

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        raise NotImplementedError(f'{type(self).__name__} does not define predict')
