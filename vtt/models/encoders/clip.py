"""CLIP vision and text towers (Hugging Face ``transformers``) as vtt encoders."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vtt.registry import MODELS

from ..utils import PretrainedTower, build_hf_config, load_pretrained

__all__ = ['CLIPVisionEncoder', 'CLIPTextEncoder', 'clip_end_of_text_id']

CLIP_IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_end_of_text_id(config) -> int:
    """The id of CLIP's end-of-text token ``<|endoftext|>`` for a ``CLIPTextConfig``.

    Original OpenAI CLIP configs declare the legacy ``eos_token_id: 2`` (transformers itself
    treats 2 as "legacy" and pools at the highest token id instead); the real end-of-text token
    is the last id of the vocabulary, 49407 of 49408. Configs that declare another id are
    trusted.
    """
    eos = config.eos_token_id
    if eos is None or eos == 2 or not 0 <= eos < config.vocab_size:
        return config.vocab_size - 1
    return int(eos)


@MODELS.register_module()
class CLIPVisionEncoder(PretrainedTower):
    """CLIP image tower: images -> projected CLS embedding.

    Args:
        pretrained (str, optional): Hub id (e.g. ``'openai/clip-vit-base-patch16'``) or local
            directory for ``CLIPVisionModelWithProjection.from_pretrained``. ``None`` builds a
            randomly initialised model from ``config``.
        config (dict, optional): ``CLIPVisionConfig`` kwargs when ``pretrained`` is None.
        frozen (bool): Freeze all weights (the TimesCLIP default). Defaults to True.
        local_files_only (bool): Never contact the hub. Defaults to False.
        image_mean, image_std: Normalisation applied to ``[0, 1]`` images.
        save_pretrained_weights (bool): Write the frozen pretrained weights into checkpoints
            (self-contained, ~350 MB for ViT-B/16). By default checkpoints record the source
            and a hash of the weights instead (see :class:`PretrainedTower`).

    Shapes: ``forward(images [N, 3, H, W] in [0, 1]) -> [N, output_dim]``.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 config: Optional[dict] = None,
                 frozen: bool = True,
                 local_files_only: bool = False,
                 image_mean: Sequence[float] = CLIP_IMAGE_MEAN,
                 image_std: Sequence[float] = CLIP_IMAGE_STD,
                 save_pretrained_weights: bool = False):
        super().__init__(frozen, pretrained, save_pretrained_weights,
                         'model.vision_encoder.pretrained')
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
        if pretrained is not None:
            self.backbone = load_pretrained(
                CLIPVisionModelWithProjection.from_pretrained, pretrained, 'CLIP vision',
                'model.vision_encoder.pretrained', local_files_only=local_files_only)
        else:
            self.backbone = CLIPVisionModelWithProjection(
                build_hf_config(CLIPVisionConfig, config))
        self.image_size = self.backbone.config.image_size
        self.output_dim = self.backbone.config.projection_dim
        self.register_buffer('image_mean', torch.tensor(image_mean).view(1, 3, 1, 1), False)
        self.register_buffer('image_std', torch.tensor(image_std).view(1, 3, 1, 1), False)
        self._finish(self.backbone)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(images, size=(self.image_size, self.image_size),
                                   mode='bilinear', align_corners=False, antialias=True)
        pixels = (images - self.image_mean) / self.image_std
        return self.backbone(pixel_values=pixels).image_embeds


@MODELS.register_module()
class CLIPTextEncoder(PretrainedTower):
    """CLIP text transformer fed with ``inputs_embeds`` (no BPE tokens).

    A learnable summary token is appended to every sequence; it is initialised from CLIP's
    end-of-text token embedding (:func:`clip_end_of_text_id`: id 49407, not the legacy
    ``eos_token_id: 2`` of the original configs), and CLIP pools its text embedding from that
    position too. With
    CLIP's causal attention the last position is the only one that sees the whole sequence, so
    its output (after the final layer norm and the text projection) is the sequence embedding.

    Args:
        pretrained (str, optional): Hub id or local directory for
            ``CLIPTextModelWithProjection.from_pretrained``; ``None`` builds from ``config``.
        config (dict, optional): ``CLIPTextConfig`` kwargs when ``pretrained`` is None.
        frozen (bool): Freeze the transformer (the summary token stays trainable).
        causal (bool): Keep CLIP's causal mask (it was trained with it). Defaults to True.
        local_files_only (bool): Never contact the hub.
        save_pretrained_weights (bool): Write the frozen pretrained weights into checkpoints
            (see :class:`CLIPVisionEncoder`).

    Shapes: ``forward(inputs_embeds [N, L, hidden_size]) -> [N, output_dim]``; ``L + 1`` must
    not exceed ``max_position_embeddings`` (77 for CLIP).
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 config: Optional[dict] = None,
                 frozen: bool = True,
                 causal: bool = True,
                 local_files_only: bool = False,
                 save_pretrained_weights: bool = False):
        super().__init__(frozen, pretrained, save_pretrained_weights,
                         'model.text_encoder.pretrained')
        from transformers import CLIPTextConfig, CLIPTextModelWithProjection
        if pretrained is not None:
            self.backbone = load_pretrained(
                CLIPTextModelWithProjection.from_pretrained, pretrained, 'CLIP text',
                'model.text_encoder.pretrained', local_files_only=local_files_only)
        else:
            self.backbone = CLIPTextModelWithProjection(build_hf_config(CLIPTextConfig, config))
        self.causal = causal
        cfg = self.backbone.config
        self.hidden_size = cfg.hidden_size
        self.output_dim = cfg.projection_dim
        self.max_length = cfg.max_position_embeddings
        token_table = self.backbone.text_model.embeddings.token_embedding.weight
        eos = clip_end_of_text_id(cfg)
        self.summary_token = nn.Parameter(token_table[eos].detach().clone().view(1, 1, -1))
        # The BPE token table (49408 x 512 = 25M parameters for CLIP) is never used with
        # inputs_embeds; drop it so it is neither kept in memory nor saved in checkpoints.
        self.backbone.text_model.embeddings.token_embedding = None
        self._finish(self.backbone)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        n, length, _ = inputs_embeds.shape
        if length + 1 > self.max_length:
            raise ValueError(f'{length} patch tokens + 1 summary token exceed the text '
                             f'encoder\'s {self.max_length} positions; use a longer patch stride')
        text = self.backbone.text_model
        tokens = torch.cat([inputs_embeds, self.summary_token.expand(n, -1, -1)], dim=1)
        hidden = text.embeddings(inputs_embeds=tokens.to(text.embeddings.position_embedding.weight))
        mask = None
        if self.causal:
            mask = torch.full((length + 1, length + 1), float('-inf'), device=hidden.device,
                              dtype=hidden.dtype).triu(1).view(1, 1, length + 1, length + 1)
        hidden = text.encoder(inputs_embeds=hidden, attention_mask=mask).last_hidden_state
        pooled = text.final_layer_norm(hidden[:, -1])
        return self.backbone.text_projection(pooled)
