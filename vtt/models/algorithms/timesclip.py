"""TimesCLIP: a time series seen (rendered line plots, CLIP vision) and read (numeric patches,
CLIP text), aligned by InfoNCE and fused for classification or regression."""
from typing import Dict, List, Optional

import torch
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import FrozenFeatureCache, weights_fingerprint
from .base import BaseAlgorithm

__all__ = ['TimesCLIP', 'TimesCLIPClassifier', 'TimesCLIPRegressor']


@MODELS.register_module()
class TimesCLIP(BaseAlgorithm):
    """Dual-modal (vision + language) time-series model with any head that owns its loss;
    :class:`TimesCLIPClassifier` and :class:`TimesCLIPRegressor` fill in the head.

    ::

        inputs [B, V, T] (z-scored by the data preprocessor)
         ├─ vision: renderer -> [B*V, 3, H, W] -> frozen CLIP-ViT -> Linear -> img [B, V, D]
         ├─ language: patches -> tokenizer -> frozen CLIP text (inputs_embeds) -> Linear
         │            -> txt [B, V, D]
         ├─ variate selection over img + txt -> selected [B, V, D] (+ attention [B, V, V])
         ├─ InfoNCE(img, txt)
         └─ head(concat[mean_V img, mean_V txt, mean_V selected]) -> logits [B, C] / values
        loss = head.loss (the head's own loss: focal, MSE ...) + contrastive_loss(img, txt)

    Ablations come from the config: ``vision_encoder=None`` (language only),
    ``text_encoder=None`` (vision only), ``contrastive_loss=None``, ``variate_selection=None``.

    Args:
        head (dict): A head that owns its loss; ``in_channels`` is filled in.
        embed_dims (int): D, the shared size of both branches' projections. Defaults to 512.
        vision_encoder, renderer (dict, optional): Vision branch (both or neither).
        text_encoder, patch_tokenizer (dict, optional): Language branch (both or neither);
            ``patch_tokenizer.embed_dims`` defaults to the text encoder's hidden size.
        variate_selection (dict, optional): Neck over the variate tokens.
        contrastive_loss (dict, optional): Alignment loss between img and txt.
        cache_vision_features (bool): Cache the frozen vision tower's output per series (the
            images are deterministic), so an epoch does not run the ViT again. Only used while
            the vision encoder is frozen. The cache is keyed by the series, the renderer's
            settings, the tower's architecture, a hash of its weights and the dtype, so
            loading other weights or changing the renderer never returns stale features.
            Defaults to True.
        feature_cache_dir (str, optional): Also keep the cached features on disk there
            (safetensors shards, written atomically, one folder per context), reused across
            epochs, runs and processes; under DDP rank 0 writes and the others read. Defaults
            to None (memory only). ``tools/train.py --no-feature-cache`` turns caching off.
        vision_batch_size (int): Images per vision-encoder call (bounds memory).
        return_attention (bool): Add the variate-selection weights ``attention [V, V]`` (row
            i: how much variate i attends to each variate, averaged over heads) to every
            prediction record. Defaults to False; :meth:`variate_attention` gives them on
            request regardless.
        data_preprocessor (dict): ``TimeSeriesDataPreprocessor`` config (required).
    """

    def __init__(self,
                 head: dict,
                 embed_dims: int = 512,
                 vision_encoder: Optional[dict] = None,
                 renderer: Optional[dict] = None,
                 text_encoder: Optional[dict] = None,
                 patch_tokenizer: Optional[dict] = None,
                 variate_selection: Optional[dict] = None,
                 contrastive_loss: Optional[dict] = None,
                 cache_vision_features: bool = True,
                 feature_cache_dir: Optional[str] = None,
                 vision_batch_size: int = 256,
                 return_attention: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if vision_encoder is None and text_encoder is None:
            raise ConfigError(f'{type(self).__name__} needs at least one of vision_encoder and '
                              'text_encoder')
        if (vision_encoder is None) != (renderer is None):
            raise ConfigError('vision_encoder and renderer go together (set both or neither)')
        if (text_encoder is None) != (patch_tokenizer is None):
            raise ConfigError('text_encoder and patch_tokenizer go together (set both or neither)')
        self.embed_dims = embed_dims
        self.vision_batch_size = vision_batch_size
        self.return_attention = return_attention

        self.vision_encoder = self.renderer = self.vision_proj = None
        if vision_encoder is not None:
            self.vision_encoder = MODELS.build(vision_encoder)
            self.renderer = MODELS.build(renderer)
            self.vision_proj = nn.Linear(self.vision_encoder.output_dim, embed_dims)
        self.text_encoder = self.patch_tokenizer = self.text_proj = None
        if text_encoder is not None:
            self.text_encoder = MODELS.build(text_encoder)
            tokenizer_cfg = dict(patch_tokenizer)
            tokenizer_cfg.setdefault('embed_dims', self.text_encoder.hidden_size)
            self.patch_tokenizer = MODELS.build(tokenizer_cfg)
            self.text_proj = nn.Linear(self.text_encoder.output_dim, embed_dims)
        self.variate_selection = None
        if variate_selection is not None:
            selection_cfg = dict(variate_selection)
            selection_cfg.setdefault('embed_dims', embed_dims)
            self.variate_selection = MODELS.build(selection_cfg)

        num_parts = (int(self.vision_encoder is not None) + int(self.text_encoder is not None) +
                     int(self.variate_selection is not None))
        head_cfg = dict(head)
        head_cfg['in_channels'] = num_parts * embed_dims
        self.head = MODELS.build(head_cfg)
        self.contrastive_loss = None
        if contrastive_loss is not None and self.vision_encoder is not None \
                and self.text_encoder is not None:
            self.contrastive_loss = MODELS.build(contrastive_loss)
        self.vision_cache = (FrozenFeatureCache(directory=feature_cache_dir)
                             if cache_vision_features else None)

    # ------------------------------------------------------------------ statistics
    def set_train_statistics(self, stats: dict) -> None:
        """Normalisation statistics to the preprocessor, class counts to the head's loss (see
        :class:`BaseAlgorithm`); the vision feature cache is dropped (its inputs change)."""
        super().set_train_statistics(stats)
        if self.vision_cache is not None:
            self.vision_cache.clear()

    # ------------------------------------------------------------------ branches
    def _encode_images(self, series: torch.Tensor, variate_index: torch.Tensor) -> torch.Tensor:
        feats = []
        for start in range(0, series.shape[0], self.vision_batch_size):
            chunk = slice(start, start + self.vision_batch_size)
            images = self.renderer(series[chunk], variate_index[chunk])
            feats.append(self.vision_encoder(images))
        return torch.cat(feats)

    def vision_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Frozen CLIP image embeddings per variate, ``[B, V, D_vision]``."""
        b, v, t = inputs.shape
        series = inputs.reshape(b * v, t)
        variate_index = torch.arange(v, device=inputs.device).repeat(b)
        frozen = getattr(self.vision_encoder, 'frozen', False)
        if self.vision_cache is None or not frozen:
            feats = self._encode_images(series, variate_index)
        else:
            with torch.no_grad():
                feats = self.vision_cache.lookup(
                    series, variate_index,
                    lambda idx: self._encode_images(series[idx.to(series.device)],
                                                    variate_index[idx.to(series.device)]),
                    context=self.vision_cache_context())
            feats = feats.to(inputs.device)
        return feats.view(b, v, -1)

    def vision_cache_context(self) -> tuple:
        """What the cached vision features depend on besides the series: the renderer's
        settings, the vision tower's architecture (its module tree) and weights (a content
        hash, recomputed only when a weight changed), its dtype and the autocast dtype."""
        dtype = next(self.vision_encoder.parameters()).dtype
        device_type = next(self.vision_encoder.parameters()).device.type
        autocast = (str(torch.get_autocast_dtype(device_type))
                    if torch.is_autocast_enabled(device_type) else None)
        return (self.renderer.cache_key(), repr(self.vision_encoder),
                weights_fingerprint(self.vision_encoder), str(dtype), autocast)

    def text_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """CLIP text embeddings of the numeric patches per variate, ``[B, V, D_text]``."""
        b, v, t = inputs.shape
        tokens = self.patch_tokenizer(inputs.reshape(b * v, t))
        return self.text_encoder(tokens).view(b, v, -1)

    def extract_feat(self, inputs: torch.Tensor,
                     data_samples: Optional[dict] = None) -> Dict[str, Optional[torch.Tensor]]:
        """Run the branches. Returns ``feats [B, parts*D]``, ``img``/``txt`` ``[B, V, D]``
        (None when the branch is off) and variate-selection ``attention [B, V, V]``."""
        img = txt = attention = None
        tokens, parts = [], []
        if self.vision_encoder is not None:
            img = self.vision_proj(self.vision_features(inputs).float())
            tokens.append(img)
            parts.append(img.mean(1))
        if self.text_encoder is not None:
            txt = self.text_proj(self.text_features(inputs).float())
            tokens.append(txt)
            parts.append(txt.mean(1))
        if self.variate_selection is not None:
            selected, attention = self.variate_selection(sum(tokens))
            parts.append(selected.mean(1))
        return dict(feats=torch.cat(parts, dim=-1), img=img, txt=txt, attention=attention)

    # ------------------------------------------------------------------ mmengine API
    def _forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None):
        """``mode='tensor'``: the head's output (class logits ``[B, C]``, values ...)."""
        return self.head(self.extract_feat(inputs)['feats'])

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        out = self.extract_feat(inputs)
        losses = self.head.loss(out['feats'], data_samples)
        if self.contrastive_loss is not None:
            losses['loss_contrastive'] = self.contrastive_loss(out['img'], out['txt'])
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        out = self.extract_feat(inputs)
        records = self.head.predict(out['feats'], data_samples)
        if self.return_attention and out['attention'] is not None:
            for record, weights in zip(records, out['attention'].detach().float().cpu()):
                record['attention'] = weights
        return records

    @torch.no_grad()
    def variate_attention(self, inputs: torch.Tensor) -> torch.Tensor:
        """The variate-selection weights ``[B, V, V]`` of a preprocessed batch (rows sum to 1;
        averaged over heads)."""
        if self.variate_selection is None:
            raise ConfigError(f'this {type(self).__name__} has no variate selection '
                              '(model.variate_selection=None), hence no attention map')
        return self.extract_feat(inputs)['attention']


@MODELS.register_module()
class TimesCLIPClassifier(TimesCLIP):
    """TimesCLIP for classification (the seed report's early crop classification).

    Args:
        num_classes (int): C.
        head (dict): Classification head that owns its loss; ``num_classes`` is filled in.
            Defaults to ``MLPClsHead`` with focal loss (gamma 2, alpha from the training class
            frequencies).
        **kwargs: Everything :class:`TimesCLIP` takes.
    """

    def __init__(self, num_classes: int,
                 head: dict = dict(type='MLPClsHead', dropout=0.1,
                                   loss=dict(type='FocalLoss', gamma=2.0, alpha='auto')),
                 **kwargs):
        head = dict(head)
        if head.setdefault('num_classes', num_classes) != num_classes:
            raise ConfigError(f"model.head.num_classes={head['num_classes']} differs from "
                              f'model.num_classes={num_classes}; set it once, at the model')
        self.num_classes = num_classes
        super().__init__(head=head, **kwargs)


@MODELS.register_module()
class TimesCLIPRegressor(TimesCLIP):
    """TimesCLIP for regression (the yield seed): ``loss = MSE + contrastive`` (lambda is the
    contrastive loss's ``loss_weight``, 0.1 in the seed).

    Args:
        head (dict): Regression head that owns its loss and its target normalisation. Defaults
            to ``RegressionHead`` (MLP -> 1, MSE on the target z-scored with TRAIN statistics,
            predictions in the target's units).
        **kwargs: Everything :class:`TimesCLIP` takes.
    """

    def __init__(self, head: dict = dict(type='RegressionHead', dropout=0.1,
                                         loss=dict(type='MSELoss')), **kwargs):
        super().__init__(head=head, **kwargs)
