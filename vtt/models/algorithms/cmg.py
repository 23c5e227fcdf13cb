"""CMG (Xia et al., NeurIPS 2023): paired modalities mapped into one discrete codebook, and a
classifier trained on one modality used zero-shot on another.

Pretraining, for modalities ``m`` given as named inputs (at least 2)::

    x_m --semantic encoder--> z_m [B, T, D] ------------------------------+--> Cross-CPC (z)
                                   |                                       +--> CMCM (soft codes)
                                   +--MultimodalEMAQuantizer--> q_m, codes, commitment
    x_m --specific encoder--> s_m, summary [B, T, S]
    decoder(q_m, s_m) -> x_m'   reconstruction MSE
    CLUB(q_m; summary_m)        MI upper bound (its estimator trains on its own, 5 steps)

    loss = sum_m (recon_m + commit_m + club_m) + cross_cpc + cmcm [+ triplet]

Downstream (:class:`CMGCrossModalClassifier`): the frozen semantic encoders + quantizer turn
any modality into codes ``q [B, T, D]`` of the SAME codebook; a head trained on modality A's
codes is applied unchanged to modality B's.
"""
from typing import Dict, List, Mapping, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import ModuleDict
from torch.func import functional_call

from vtt.registry import MODELS, OPTIMIZERS
from vtt.utils.errors import ConfigError

from ..losses import CLUBEstimator
from ..tokenizers import code_agreement, codebook_perplexity, toc_select_channels
from ..utils import pack_predictions
from .base import BaseAlgorithm

__all__ = ['CMGPretrainer', 'CMGCrossModalClassifier']


def _check_modalities(modalities: Mapping[str, dict], what: str) -> Dict[str, dict]:
    if not isinstance(modalities, Mapping) or len(modalities) < 2:
        raise ConfigError(f'{what}: modalities must map at least 2 names to their encoder '
                          f'configs, got {modalities!r}')
    for name, cfg in modalities.items():
        if not isinstance(cfg, Mapping) or 'semantic' not in cfg:
            raise ConfigError(f'{what}: modality {name!r} needs at least a semantic encoder: '
                              "dict(semantic=dict(type='SemanticEncoder', ...), specific=..., "
                              f'decoder=...); got {cfg!r}')
    return {str(k): dict(v) for k, v in modalities.items()}


def _world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


@MODELS.register_module()
class CMGPretrainer(BaseAlgorithm):
    """CMG pretraining: one codebook for every modality (see the module docstring).

    Args:
        modalities (dict): ``{name: dict(semantic=..., specific=..., decoder=...)}`` for every
            paired input (at least 2). ``specific`` and ``decoder`` may be None together: that
            modality then has no reconstruction and no CLUB term.
        quantizer (dict): :class:`MultimodalEMAQuantizer` config; ``modalities`` and
            ``embed_dims`` are filled in.
        cross_cpc (dict, optional): :class:`CrossCPCLoss` config (``modalities`` and
            ``embed_dims`` filled in). None: no Cross-CPC.
        cmcm (dict, optional): :class:`CMCMLoss` config. None: no CMCM.
        club (dict, optional): The CLUB bound between each modality's quantized code and its
            specific summary: ``hidden_dims`` (128), ``steps`` (5 estimator steps per main
            step), ``optimizer`` (``dict(type='Adam', lr=1e-3)``) and ``loss_weight`` (1.0).
            None: no CLUB.
        triplet (dict, optional): :class:`CrossModalTripletLoss` on the semantic features. Off
            by default (see its warning).
        recon_weight (float): Weight of the reconstruction MSE. Defaults to 1.0.
        data_preprocessor (dict): Defaults to :class:`MultimodalDataPreprocessor`; give its
            ``num_variates``.

    **CLUB's estimator and DDP.** ``q(y | x)`` has its own optimizer, stepped ``steps`` times
    inside :meth:`loss` on detached features, before the main loss is formed (the official
    order). Its parameters are excluded from DDP's gradient reduction (``club.*`` are listed
    in ``_ddp_params_and_buffers_to_ignore``), their gradients are averaged over ranks by hand
    before every estimator step (so every rank keeps the same estimator), and the main loss
    uses them detached (so the main optimizer, which mmengine builds over all parameters,
    never moves them: their ``.grad`` stays None). This keeps mmengine's standard training
    step and DDP wrapper, so ``tools/train.py`` and ``tools/dist_train.sh`` run it unchanged;
    the estimator's optimizer state is saved in the checkpoint (``_extra_state``), so a resumed
    run continues it.

    Logged per iteration: every loss term (``loss_recon_<m>``, ``loss_commit_<m>``,
    ``loss_club_<m>``, ``loss_cpc``, ``loss_cmcm``), ``club_nll_<m>`` (the estimator's own
    loss), ``perplexity_<m>`` (code usage of the batch), ``code_agreement`` (the official
    ``equal_num`` as a rate) and ``cpc_acc_<source>2<target>``.
    """

    can_predict = False

    def __init__(self,
                 modalities: Dict[str, dict],
                 quantizer: dict = dict(type='MultimodalEMAQuantizer'),
                 cross_cpc: Optional[dict] = dict(type='CrossCPCLoss'),
                 cmcm: Optional[dict] = dict(type='CMCMLoss'),
                 club: Optional[dict] = dict(hidden_dims=128, steps=5,
                                             optimizer=dict(type='Adam', lr=1e-3),
                                             loss_weight=1.0),
                 triplet: Optional[dict] = None,
                 recon_weight: float = 1.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        modalities = _check_modalities(modalities, type(self).__name__)
        self.modalities = tuple(modalities)
        self.semantic_encoders = ModuleDict(
            {m: MODELS.build(cfg['semantic']) for m, cfg in modalities.items()})
        dims = {m: enc.embed_dims for m, enc in self.semantic_encoders.items()}
        if len(set(dims.values())) != 1:
            raise ConfigError(f'every semantic encoder must have the same embed_dims (one '
                              f'codebook), got {dims}')
        self.embed_dims = dims[self.modalities[0]]
        with_specific = {m for m, cfg in modalities.items()
                         if cfg.get('specific') is not None}
        for m, cfg in modalities.items():
            if (cfg.get('specific') is None) != (cfg.get('decoder') is None):
                raise ConfigError(f'modality {m!r}: give both specific and decoder, or neither')
        self.specific_encoders = ModuleDict(
            {m: MODELS.build(modalities[m]['specific']) for m in self.modalities
             if m in with_specific})
        self.decoders = ModuleDict(
            {m: MODELS.build(modalities[m]['decoder']) for m in self.modalities
             if m in with_specific})
        self.quantizer = MODELS.build(dict(quantizer, modalities=self.modalities,
                                           embed_dims=self.embed_dims))
        self.cross_cpc = None if cross_cpc is None else MODELS.build(
            dict(cross_cpc, modalities=self.modalities, embed_dims=self.embed_dims))
        self.cmcm = None if cmcm is None else MODELS.build(cmcm)
        self.triplet = None if triplet is None else MODELS.build(triplet)
        self.recon_weight = float(recon_weight)

        club = None if club is None or not self.specific_encoders else dict(club)
        self.club_steps = int(club.get('steps', 5)) if club else 0
        self.club_weight = float(club.get('loss_weight', 1.0)) if club else 0.0
        self._club_optimizer_cfg = dict(club.get('optimizer', dict(type='Adam', lr=1e-3))
                                        ) if club else None
        self.club = ModuleDict({
            m: CLUBEstimator(self.embed_dims, enc.out_dims, club.get('hidden_dims', 128))
            for m, enc in self.specific_encoders.items()}) if club else ModuleDict()
        self._club_optimizer = None
        self._club_optimizer_state = None
        # DDP must not reduce the estimator's gradients: it has its own steps (see above)
        self._ddp_params_and_buffers_to_ignore = [f'club.{n}' for n, _ in
                                                  self.club.named_parameters()]

    # ------------------------------------------------------------------ features
    def encode(self, inputs: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Semantic features ``{m: [B, T, D]}`` (before quantization)."""
        return {m: self.semantic_encoders[m](inputs[m]) for m in self.modalities}

    def extract_feat(self, inputs: Mapping[str, torch.Tensor],
                     data_samples: Optional[dict] = None) -> dict:
        """``mode='tensor'``: ``dict(semantic={m: [B, T, D]}, quantized=..., indices={m: [B,
        T]})`` (the codes plot reads these)."""
        semantic = self.encode(inputs)
        quantized, indices, _ = self.quantizer(semantic)
        return dict(semantic=semantic, quantized=quantized, indices=indices)

    # ------------------------------------------------------------------ CLUB
    def _club_optim(self) -> torch.optim.Optimizer:
        if self._club_optimizer is None:
            cfg = dict(self._club_optimizer_cfg, params=list(self.club.parameters()))
            self._club_optimizer = OPTIMIZERS.build(cfg)
            if self._club_optimizer_state is not None:
                self._club_optimizer.load_state_dict(self._club_optimizer_state)
                self._club_optimizer_state = None
        return self._club_optimizer

    def _train_club(self, pairs: Dict[str, tuple]) -> Dict[str, torch.Tensor]:
        """``steps`` optimizer steps of every estimator on detached ``(x, y)`` pairs; returns
        the last step's negative log-likelihood per modality (logged as ``club_nll_<m>``)."""
        optimizer = self._club_optim()
        params = [p for p in self.club.parameters()]
        world = _world_size()
        nll = {}
        with torch.enable_grad():
            for _ in range(self.club_steps):
                optimizer.zero_grad(set_to_none=True)
                nll = {m: self.club[m].learning_loss(x, y) for m, (x, y) in pairs.items()}
                sum(nll.values()).backward()
                if world > 1:
                    grads = [p.grad for p in params if p.grad is not None]
                    flat = torch.cat([g.flatten() for g in grads])
                    dist.all_reduce(flat)
                    flat /= world
                    offset = 0
                    for g in grads:
                        g.copy_(flat[offset:offset + g.numel()].view_as(g))
                        offset += g.numel()
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return {m: v.detach() for m, v in nll.items()}

    def _club_bound(self, m: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The MI upper bound with the estimator's parameters held fixed (detached)."""
        estimator = self.club[m]
        params = {k: v.detach() for k, v in estimator.named_parameters()}
        return functional_call(estimator, params, (x, y))

    def get_extra_state(self):
        optimizer = self._club_optimizer
        return dict(club_optimizer=None if optimizer is None else optimizer.state_dict())

    def set_extra_state(self, state) -> None:
        saved = (state or {}).get('club_optimizer')
        if saved is None:
            return
        if self._club_optimizer is not None:
            self._club_optimizer.load_state_dict(saved)
        else:
            self._club_optimizer_state = saved

    # ------------------------------------------------------------------ loss
    def loss(self, inputs: Mapping[str, torch.Tensor],
             data_samples: Optional[dict] = None) -> Dict[str, torch.Tensor]:
        semantic = self.encode(inputs)
        quantized, indices, losses = self.quantizer(semantic)
        losses = dict(losses)
        pairs, specific = {}, {}
        for m, encoder in self.specific_encoders.items():
            features, summary = encoder(inputs[m])
            specific[m] = (features, summary)
            recon = self.decoders[m](quantized[m], features)
            if recon.shape != inputs[m].shape:
                raise ValueError(f'decoder of {m!r} returns {tuple(recon.shape)}, the input is '
                                 f'{tuple(inputs[m].shape)}')
            losses[f'loss_recon_{m}'] = self.recon_weight * F.mse_loss(recon, inputs[m])
            if self.club_steps or self.club_weight:
                pairs[m] = (quantized[m], summary)
        if pairs:
            if self.training and self.club_steps:
                nll = self._train_club({m: (x.detach(), y.detach())
                                        for m, (x, y) in pairs.items()})
                losses.update({f'club_nll_{m}': v for m, v in nll.items()})
            for m, (x, y) in pairs.items():
                losses[f'loss_club_{m}'] = self.club_weight * self._club_bound(m, x, y)
        if self.cross_cpc is not None:
            cpc, accuracies = self.cross_cpc(semantic)
            losses['loss_cpc'] = cpc
            losses.update(accuracies)
        if self.cmcm is not None:
            losses['loss_cmcm'] = self.cmcm(
                {m: self.quantizer.code_distributions(z) for m, z in semantic.items()})
        if self.triplet is not None:
            losses['loss_triplet'] = self.triplet(semantic)
        with torch.no_grad():
            for m, i in indices.items():
                losses[f'perplexity_{m}'] = codebook_perplexity(i, self.quantizer.num_codes)
            losses['code_agreement'] = code_agreement(
                {m: (i if i.dim() == 2 else i.unsqueeze(1)) for m, i in indices.items()},
                self.quantizer.num_codes)
        return losses


@MODELS.register_module()
class CMGCrossModalClassifier(BaseAlgorithm):
    """A classifier on CMG codes, trained on one modality and applicable to all.

    ::

        x_m --frozen semantic encoder m--> z --frozen quantizer--> q [B, T, D]
          (--TOC channels: q[..., kept]--> [B, T, k])  --head--> logits

    Training reads only ``train_modality``'s input; ``predict`` classifies every modality with
    the same head and returns ``pred_score``/``pred_label`` of ``train_modality`` (what
    validation selects on: no label of another modality is used) plus
    ``pred_score_<m>``/``pred_label_<m>`` for every modality ``m`` (test with one
    ``SingleLabelMetric(prefix=m, label_key='pred_label_<m>', score_key='pred_score_<m>')``
    per modality: the zero-shot accuracy is the other modality's).

    Args:
        num_classes (int): C.
        modalities (dict): ``{name: dict(semantic=...)}`` as the pretraining config (specific
            encoders and decoders are ignored).
        quantizer (dict): As the pretraining config.
        train_modality (str): The labelled modality the head learns from.
        head (dict): Defaults to :class:`TemporalMaxClsHead` (the official head).
        pretrained (str, optional): A :class:`CMGPretrainer` checkpoint: its semantic encoders
            and quantizer are loaded (strictly) at ``init_weights``. None: random encoders and
            codebook (the un-pretrained baseline).
        freeze (bool): Keep encoders and quantizer frozen and in eval mode (no dropout, no
            codebook update). Defaults to True (the protocol; the official code leaves dropout
            on).
        use_quantized (bool): Classify the quantized codes (True, the protocol) or the
            semantic features before quantization.
        toc_channels (int, optional): Keep only the ``k`` code dimensions TOC ranks highest
            (:func:`toc_select_channels`, computed from the loaded codebook, training-free).
    """

    def __init__(self,
                 num_classes: int,
                 modalities: Dict[str, dict],
                 train_modality: str,
                 quantizer: dict = dict(type='MultimodalEMAQuantizer'),
                 head: dict = dict(type='TemporalMaxClsHead', hidden_channels=256),
                 pretrained: Optional[str] = None,
                 freeze: bool = True,
                 use_quantized: bool = True,
                 toc_channels: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        modalities = _check_modalities(modalities, type(self).__name__)
        self.modalities = tuple(modalities)
        if train_modality not in modalities:
            raise ConfigError(f'train_modality={train_modality!r} is not one of '
                              f'{list(modalities)}')
        self.train_modality = train_modality
        self.pretrained = pretrained

        def loaded(prefix):
            return (None if pretrained is None else
                    dict(type='Pretrained', checkpoint=pretrained, prefix=prefix))

        self.semantic_encoders = ModuleDict(
            {m: MODELS.build(cfg['semantic']) for m, cfg in modalities.items()},
            init_cfg=loaded('semantic_encoders.'))
        self.embed_dims = next(iter(self.semantic_encoders.values())).embed_dims
        self.quantizer = MODELS.build(dict(quantizer, modalities=self.modalities,
                                           embed_dims=self.embed_dims,
                                           init_cfg=loaded('quantizer.')))
        self.freeze, self.use_quantized = freeze, use_quantized
        self.toc_channels = toc_channels
        self.register_buffer('kept_channels', torch.arange(toc_channels or self.embed_dims))
        head_cfg = dict(head)
        if head_cfg.setdefault('num_classes', num_classes) != num_classes:
            raise ConfigError(f"model.head.num_classes={head_cfg['num_classes']} differs from "
                              f'model.num_classes={num_classes}; set it once, at the model')
        head_cfg['in_channels'] = toc_channels or self.embed_dims
        self.head = MODELS.build(head_cfg)
        self.num_classes = num_classes
        if freeze:
            self.semantic_encoders.requires_grad_(False)
            self.quantizer.requires_grad_(False)

    def init_weights(self):
        super().init_weights()
        if self.toc_channels:  # from the loaded (or random) codebook: training-free
            self.kept_channels.copy_(toc_select_channels(self.quantizer.embedding,
                                                         self.toc_channels))

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze:
            self.semantic_encoders.eval()
            self.quantizer.eval()
        return self

    def features(self, x: torch.Tensor, modality: str) -> torch.Tensor:
        """Codes (or semantic features) of one modality: ``[B, T, D or k]``."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            z = self.semantic_encoders[modality](x)
            if self.use_quantized:
                codes = self.quantizer.embedding[self.quantizer.assign(
                    z.reshape(-1, z.shape[-1]).detach())]
                z = codes.view_as(z) if self.freeze else z + (codes.view_as(z) - z).detach()
        return z.index_select(-1, self.kept_channels) if self.toc_channels else z

    def extract_feat(self, inputs, data_samples=None):
        return self.features(inputs[self.train_modality], self.train_modality)

    def _forward(self, inputs, data_samples=None):
        """``mode='tensor'``: logits ``{m: [B, C]}`` of every modality."""
        return {m: self.head(self.features(inputs[m], m)) for m in self.modalities}

    def loss(self, inputs, data_samples: dict) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs, data_samples: Optional[dict] = None) -> List[dict]:
        outputs = {}
        for m in self.modalities:
            scores = F.softmax(self.head(self.features(inputs[m], m)).float(), dim=-1)
            outputs[f'pred_score_{m}'] = scores
            outputs[f'pred_label_{m}'] = scores.argmax(-1)
        outputs['pred_score'] = outputs[f'pred_score_{self.train_modality}']
        outputs['pred_label'] = outputs[f'pred_label_{self.train_modality}']
        return pack_predictions(outputs, data_samples)
