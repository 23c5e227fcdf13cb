"""A series encoder: slice into windows, add positions, encode the window tokens."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['WindowEncoder']


@MODELS.register_module()
class WindowEncoder(BaseModule):
    """Window slicer + positional embedding + token encoder: TimeMAE's backbone.

    ::

        inputs [B, V, T], mask [B, T] (valid steps, optional)
          -> window_slicer -> patches [B, N, D], patch_valid [B, N]
          -> + position [1, N, D] -> encoder (padding windows masked) -> rep [B, N, D]

    The pretrainer (``TimeMAEPretrainer``) uses the parts separately (it encodes only the
    visible windows and needs the patches before positions); downstream models call
    ``forward``. Both hold it as ``backbone``, so a downstream model loads pretrained weights
    with ``init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.')``.

    Args:
        window_slicer (dict): :class:`WindowSlicer` config; ``in_channels`` and ``embed_dims``
            default to this module's arguments.
        encoder (dict): Token encoder (``TransformerEncoder``, ``HFTransformerEncoder``, any
            module ``forward(x [B, N, D], key_padding_mask [B, N]) -> [B, N, D]`` with an
            ``embed_dims`` attribute); ``embed_dims`` defaults to the slicer's.
        in_channels (int, optional): V; algorithms fill it from their data preprocessor's
            ``num_variates``.
        embed_dims (int, optional): D of the slicer (when its config does not say).
        init_cfg (dict, optional): e.g. the ``Pretrained`` init above.
    """

    def __init__(self, window_slicer: dict, encoder: dict, in_channels: Optional[int] = None,
                 embed_dims: Optional[int] = None, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        slicer_cfg = dict(window_slicer)
        if in_channels is not None:
            slicer_cfg.setdefault('in_channels', in_channels)
        if embed_dims is not None:
            slicer_cfg.setdefault('embed_dims', embed_dims)
        if 'in_channels' not in slicer_cfg:
            raise ConfigError('WindowEncoder needs in_channels (the number of variates): set '
                             'model.data_preprocessor.num_variates')
        self.window_slicer = MODELS.build(slicer_cfg)
        self.embed_dims = self.window_slicer.embed_dims
        encoder_cfg = dict(encoder)
        encoder_cfg.setdefault('embed_dims', self.embed_dims)
        self.encoder = MODELS.build(encoder_cfg)
        if getattr(self.encoder, 'embed_dims', self.embed_dims) != self.embed_dims:
            raise ConfigError(f'{type(self.encoder).__name__} has embed_dims='
                             f'{self.encoder.embed_dims}, the window slicer {self.embed_dims}; '
                             'they must match')

    @property
    def in_channels(self) -> int:
        return self.window_slicer.in_channels

    def embed(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Window embeddings before positions: ``(patches [B, N, D], patch_valid [B, N])``."""
        return self.window_slicer(inputs, mask)

    def position(self, n: int) -> torch.Tensor:
        """Positional embedding of the first ``n`` windows, ``[1, n, D]``."""
        return self.window_slicer.position(n)

    def forward(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode every window: ``(rep [B, N, D], patch_valid [B, N])``."""
        patches, valid = self.embed(inputs, mask)
        x = patches + self.position(patches.shape[1])
        # Without a step mask every window is valid: no key padding mask keeps attention on
        # its fastest kernels.
        return self.encoder(x, key_padding_mask=None if mask is None else ~valid), valid
