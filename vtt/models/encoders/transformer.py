"""Token encoders over ``[B, N, D]`` sequences: a plain transformer and any HF encoder."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from .clip import _FrozenAwareEncoder
from .hf_pretrained import load_pretrained

__all__ = ['TransformerEncoder', 'HFTransformerEncoder', 'attendable_padding_mask']


def attendable_padding_mask(key_padding_mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """``key_padding_mask [B, N]`` (True = ignore) with fully padded rows un-masked.

    A row whose keys are all padding would make the attention softmax NaN, and the NaN reaches
    the parameters' gradients even when the row's outputs are weighted 0 in the loss. Letting
    such a row attend to its (padding) keys keeps it finite; callers ignore its outputs anyway.
    """
    if key_padding_mask is None:
        return None
    key_padding_mask = key_padding_mask.bool()
    return key_padding_mask & ~key_padding_mask.all(dim=-1, keepdim=True)


@MODELS.register_module()
class TransformerEncoder(BaseModule):
    """A stack of self-attention blocks (``nn.TransformerEncoderLayer``, GELU, batch first).

    TimeMAE's visible encoder (and, as an EMA copy, its momentum target encoder).

    Args:
        embed_dims (int): D. Defaults to 64.
        num_layers (int): Blocks (the paper's L_v). Defaults to 8.
        num_heads (int): Attention heads. Defaults to 4.
        ffn_ratio (int): FFN hidden size = ``ffn_ratio * D``. Defaults to 4.
        dropout (float): Dropout in attention and FFN. Defaults to 0.2.
        norm_first (bool): Pre-norm blocks plus a final LayerNorm; ``False`` (default) gives
            post-norm blocks as in the official TimeMAE code, whose outputs are LayerNormed too.

    Shapes: ``forward(x [B, N, D], key_padding_mask [B, N] bool (True = ignore) or None)
    -> [B, N, D]``.
    """

    def __init__(self, embed_dims: int = 64, num_layers: int = 8, num_heads: int = 4,
                 ffn_ratio: int = 4, dropout: float = 0.2, norm_first: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        layer = nn.TransformerEncoderLayer(
            embed_dims, num_heads, dim_feedforward=int(ffn_ratio * embed_dims), dropout=dropout,
            activation='gelu', batch_first=True, norm_first=norm_first)
        # Nested tensors would turn padded positions into zeros in eval mode only, so train and
        # eval outputs would differ; keep dense tensors.
        self.layers = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(embed_dims) if norm_first else None,
            enable_nested_tensor=False)

    def forward(self, x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.layers(x, src_key_padding_mask=attendable_padding_mask(key_padding_mask))


@MODELS.register_module()
class HFTransformerEncoder(_FrozenAwareEncoder):
    """Any Hugging Face encoder (BERT, MiniLM, ...) over ``[B, N, D]`` tokens.

    ``Linear(D, hidden) -> AutoModel(inputs_embeds=..., attention_mask=...) -> Linear(hidden,
    D)``: the model adds its own position / token-type embeddings; the word-piece table is not
    used. A drop-in replacement for :class:`TransformerEncoder` in TimeMAE
    (``model.encoder=dict(type='HFTransformerEncoder', pretrained=DIR)``).

    Args:
        pretrained (str): Local directory (or hub id) for ``AutoModel.from_pretrained``.
        embed_dims (int): D of the tokens around it. Defaults to 64.
        frozen (bool): Freeze the HF model (the two projections stay trainable).
            Defaults to False.
        local_files_only (bool): Never contact the hub. Defaults to True.

    Shapes: ``forward(x [B, N, D], key_padding_mask [B, N] bool (True = ignore) or None)
    -> [B, N, D]``; N must not exceed the model's ``max_position_embeddings``.
    """

    def __init__(self, pretrained: str, embed_dims: int = 64, frozen: bool = False,
                 local_files_only: bool = True):
        super().__init__(frozen)
        from transformers import AutoModel
        self.backbone = load_pretrained(AutoModel.from_pretrained, pretrained, 'HF encoder',
                                        'model.encoder.pretrained',
                                        local_files_only=local_files_only)
        self.pretrained = pretrained
        self.embed_dims = embed_dims
        self.hidden_size = self.backbone.config.hidden_size
        self.max_length = getattr(self.backbone.config, 'max_position_embeddings', None)
        self.in_proj = nn.Linear(embed_dims, self.hidden_size)
        self.out_proj = nn.Linear(self.hidden_size, embed_dims)
        self._finish(self.backbone)

    def forward(self, x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.max_length is not None and x.shape[1] > self.max_length:
            raise ValueError(f'{x.shape[1]} tokens exceed the HF encoder\'s '
                             f'{self.max_length} positions; use a longer window')
        attention_mask = None
        if key_padding_mask is not None:
            attention_mask = (~attendable_padding_mask(key_padding_mask)).long()
        hidden = self.backbone(inputs_embeds=self.in_proj(x),
                               attention_mask=attention_mask).last_hidden_state
        return self.out_proj(hidden)
