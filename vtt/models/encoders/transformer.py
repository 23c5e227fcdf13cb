"""Token encoders over ``[B, N, D]`` sequences: a transformer stack and any HF encoder."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import PretrainedTower, add_layer_scales, attendable_padding_mask, load_pretrained

__all__ = ['TransformerBlock', 'TransformerEncoder', 'TransformerTextEncoder',
           'HFTransformerEncoder']


class TransformerBlock(nn.Module):
    """Self-attention + FFN (GELU) with residuals, batch first.

    Post-norm (default, as the official TimeMAE code)::

        x = Norm1(x + Dropout(a1 * SelfAttn(x)))
        x = Norm2(x + Dropout(a2 * FFN(x)))

    Pre-norm (``norm_first=True``): ``x = x + Dropout(a1 * SelfAttn(Norm1(x)))`` and likewise
    for the FFN. ``a1``/``a2`` are learnable scalars initialised to ``layer_scale_init`` (the
    official ``enable_res_parameter`` with 1e-8: every block starts as an identity followed by
    its LayerNorm), or fixed at 1 when ``layer_scale_init`` is None. Dropout also acts on the
    attention weights and after the FFN's activation (``nn.TransformerEncoderLayer``'s
    placement; the official code drops after the FFN's second linear layer instead).

    Shapes: ``forward(x [B, N, D], key_padding_mask [B, N] bool (True = ignore) or None)
    -> [B, N, D]``.
    """

    def __init__(self, embed_dims: int, num_heads: int, ffn_ratio: float, dropout: float,
                 norm_first: bool = False, layer_scale_init: Optional[float] = 1e-8):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                               batch_first=True)
        hidden = int(ffn_ratio * embed_dims)
        self.linear1 = nn.Linear(embed_dims, hidden)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(hidden, embed_dims)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = nn.GELU()
        add_layer_scales(self, layer_scale_init)

    def _attn(self, x, key_padding_mask):
        out = self.self_attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=False)[0]
        return self.dropout1(out if self.scale1 is None else self.scale1 * out)

    def _ffn(self, x):
        out = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(out if self.scale2 is None else self.scale2 * out)

    def forward(self, x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.norm_first:
            x = x + self._attn(self.norm1(x), key_padding_mask)
            return x + self._ffn(self.norm2(x))
        x = self.norm1(x + self._attn(x, key_padding_mask))
        return self.norm2(x + self._ffn(x))


@MODELS.register_module()
class TransformerEncoder(BaseModule):
    """A stack of :class:`TransformerBlock` (self-attention, GELU FFN, batch first).

    TimeMAE's visible encoder (and, as an EMA copy, its momentum target encoder). The defaults
    are the official TimeMAE code's: post-norm blocks with a learnable residual scale starting
    at 1e-8 (``layer_scale_init``); ``layer_scale_init=None`` gives plain post-norm blocks
    (``nn.TransformerEncoderLayer``'s computation). Checkpoints of the former
    ``nn.TransformerEncoder``-based layout load (keys ``layers.layers.*``; the missing scales
    are set to 1, which reproduces the old computation exactly).

    Args:
        embed_dims (int): D. Defaults to 64.
        num_layers (int): Blocks (the paper's L_v). Defaults to 8.
        num_heads (int): Attention heads. Defaults to 4.
        ffn_ratio (int): FFN hidden size = ``ffn_ratio * D``. Defaults to 4.
        dropout (float): Dropout in attention and FFN. Defaults to 0.2.
        norm_first (bool): Pre-norm blocks plus a final LayerNorm; ``False`` (default) gives
            post-norm blocks as in the official TimeMAE code, whose outputs are LayerNormed too.
        layer_scale_init (float, optional): Initial residual scale (see above). Defaults to
            1e-8; None disables it.

    Shapes: ``forward(x [B, N, D], key_padding_mask [B, N] bool (True = ignore) or None)
    -> [B, N, D]``.
    """

    def __init__(self, embed_dims: int = 64, num_layers: int = 8, num_heads: int = 4,
                 ffn_ratio: int = 4, dropout: float = 0.2, norm_first: bool = False,
                 layer_scale_init: Optional[float] = 1e-8, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ConfigError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.layers = nn.ModuleList([
            TransformerBlock(embed_dims, num_heads, ffn_ratio, dropout, norm_first,
                             layer_scale_init) for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims) if norm_first else None
        self.register_load_state_dict_pre_hook(_upgrade_stack_keys)

    def forward(self, x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        key_padding_mask = attendable_padding_mask(key_padding_mask)
        for layer in self.layers:
            x = layer(x, key_padding_mask)
        return x if self.norm is None else self.norm(x)


@MODELS.register_module()
class TransformerTextEncoder(BaseModule):
    """A from-scratch transformer in the place of a pretrained text tower (TimesCLIP's E5
    baseline, "the original": a language branch without CLIP).

    Same interface as :class:`~vtt.models.encoders.HFTextEncoder`: a ``[CLS]`` token and
    learned positions are added to the patch tokens, then pre-norm :class:`TransformerEncoder`
    blocks; the output is the ``[CLS]`` state (or the mean over tokens). All trainable.

    Args:
        hidden_size (int): Token size (the patch tokenizer's ``embed_dims``). Defaults to 256.
        num_layers (int): Blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 4.
        dropout (float): Dropout in the blocks. Defaults to 0.1.
        max_length (int): Most patch tokens. Defaults to 64.
        pooling (str): ``'cls'`` or ``'mean'``. Defaults to ``'cls'``.

    Shapes: ``forward(inputs_embeds [N, L, hidden_size]) -> [N, hidden_size]``.
    """

    def __init__(self, hidden_size: int = 256, num_layers: int = 4, num_heads: int = 4,
                 dropout: float = 0.1, max_length: int = 64, pooling: str = 'cls',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if pooling not in ('cls', 'mean'):
            raise ConfigError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        self.hidden_size = self.output_dim = int(hidden_size)
        self.max_length, self.pooling = int(max_length), pooling
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.hidden_size))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, self.max_length + 1,
                                                         self.hidden_size))
        self.encoder = TransformerEncoder(self.hidden_size, num_layers, num_heads, ffn_ratio=4,
                                          dropout=dropout, norm_first=True,
                                          layer_scale_init=None)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        n, length, _ = inputs_embeds.shape
        if length > self.max_length:
            raise ValueError(f'{length} patch tokens exceed max_length={self.max_length} of '
                             f'{type(self).__name__}; raise it or use a longer patch stride')
        tokens = torch.cat([self.cls_token.expand(n, -1, -1), inputs_embeds], dim=1)
        hidden = self.encoder(tokens + self.pos_embed[:, :length + 1])
        return hidden[:, 0] if self.pooling == 'cls' else hidden.mean(dim=1)


def _upgrade_stack_keys(module, state_dict, prefix, *args) -> None:
    # The former layout wrapped the blocks in nn.TransformerEncoder: layers.layers.{i}.* and
    # layers.norm.*.
    for key in [k for k in state_dict if k.startswith(prefix + 'layers.layers.')
                or k.startswith(prefix + 'layers.norm.')]:
        new = key.replace(prefix + 'layers.layers.', prefix + 'layers.', 1)
        new = new.replace(prefix + 'layers.norm.', prefix + 'norm.', 1)
        state_dict[new] = state_dict.pop(key)


@MODELS.register_module()
class HFTransformerEncoder(PretrainedTower):
    """Any Hugging Face encoder (BERT, MiniLM, ...) over ``[B, N, D]`` tokens.

    ``Linear(D, hidden) -> AutoModel(inputs_embeds=..., attention_mask=...) -> Linear(hidden,
    D)``: the model adds its own position / token-type embeddings; the word-piece table is not
    used. A drop-in replacement for :class:`TransformerEncoder` in TimeMAE
    (``model.backbone.encoder=dict(type='HFTransformerEncoder', pretrained=DIR)``).

    Args:
        pretrained (str): Local directory (or hub id) for ``AutoModel.from_pretrained``.
        embed_dims (int): D of the tokens around it. Defaults to 64.
        frozen (bool): Freeze the HF model (the two projections stay trainable).
            Defaults to False.
        local_files_only (bool): Never contact the hub. Defaults to True.
        save_pretrained_weights (bool): With ``frozen``, also write the HF weights into
            checkpoints (by default they are recorded by source and hash).

    Shapes: ``forward(x [B, N, D], key_padding_mask [B, N] bool (True = ignore) or None)
    -> [B, N, D]``; N must not exceed the model's ``max_position_embeddings``.
    """

    def __init__(self, pretrained: str, embed_dims: int = 64, frozen: bool = False,
                 local_files_only: bool = True, save_pretrained_weights: bool = False):
        super().__init__(frozen, pretrained, save_pretrained_weights,
                         'model.backbone.encoder.pretrained')
        from transformers import AutoModel
        self.backbone = load_pretrained(AutoModel.from_pretrained, pretrained, 'HF encoder',
                                        'model.backbone.encoder.pretrained',
                                        local_files_only=local_files_only)
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
