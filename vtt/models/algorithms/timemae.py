"""TimeMAE: self-supervised pretraining of a time-series encoder with decoupled masked
autoencoders (Cheng et al., arXiv 2303.00320)."""
from typing import Dict, Optional, Union

import torch
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import MomentumEncoder, upgrade_timemae_pretrainer_keys
from .base import BaseAlgorithm

__all__ = ['TimeMAEPretrainer', 'codeword_ranking_metrics']


def _gather_tokens(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x [B, N, ...]`` at ``index [B, K]`` -> ``[B, K, ...]`` (one gather, no loops)."""
    if x.dim() == 2:
        return x.gather(1, index)
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


@torch.no_grad()
def codeword_ranking_metrics(logits: torch.Tensor, target: torch.Tensor,
                             weight: Optional[torch.Tensor] = None,
                             k: int = 10) -> Dict[str, torch.Tensor]:
    """Hit rate (argmax == target) and NDCG@k of the true codeword, averaged over positions.

    With a single relevant codeword NDCG@k is ``1 / log2(rank + 2)`` when its 0-based rank
    (the number of codewords scored strictly higher) is below k, else 0.

    Shapes: ``logits [B, M, vocab]``, ``target [B, M]`` long, ``weight [B, M]`` (0 = ignore)
    -> dict of scalar tensors in [0, 1].
    """
    logits = logits.float()
    true_score = logits.gather(-1, target.unsqueeze(-1))
    rank = (logits > true_score).sum(-1).float()
    hit = (logits.argmax(-1) == target).float()
    ndcg = torch.where(rank < k, 1.0 / torch.log2(rank + 2.0), torch.zeros_like(rank))
    if weight is None:
        weight = torch.ones_like(hit)
    weight = weight.float()
    total = weight.sum().clamp_min(1e-12)
    return dict(hit_rate=(hit * weight).sum() / total, ndcg10=(ndcg * weight).sum() / total)


def _upgrade_legacy_keys(module, state_dict, prefix, *args) -> None:
    upgrade_timemae_pretrainer_keys(state_dict, prefix)


@MODELS.register_module()
class TimeMAEPretrainer(BaseAlgorithm):
    """TimeMAE pretraining: masked codeword classification + masked representation regression.

    ::

        inputs [B, V, T] (z-scored), mask [B, T] (valid steps, optional)
         ├─ backbone.embed -> patches [B, N, D], patch_valid [B, N]; x = patches + position
         ├─ random permutation per sample -> visible index [B, N-M], masked index [B, M]
         ├─ backbone.encoder(x[visible]) -> visible rep [B, N-M, D]  (no mask tokens enter it)
         ├─ decoder(mask_token + position[masked], visible rep) -> prediction [B, M, D]
         ├─ no_grad: momentum_encoder(x[masked]) -> target rep [B, M, D]     -> MRR (MSE)
         └─ codebook(patches[masked]) -> codes / indices [B, M]
            codebook.predict_logits(prediction) -> [B, M, vocab]            -> MCC (CE)
        loss = mrr_loss (alpha = 5) + mcc_loss (beta = 1)

    M = ``int(mask_ratio * N)`` windows are masked (the official rule; ``mask_count='round'``
    rounds instead), at least 1 and at most N - 1, drawn anew every step. Masked positions
    whose window is only padding get weight 0 in both losses and the metrics, and padding
    windows among the visible ones are excluded by the key padding mask.

    **Backbone.** :class:`WindowEncoder` (slicer + positions + encoder), shared with
    ``TimeMAEClassifier``: downstream models load ``backbone.*`` from this model's checkpoints
    with ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``. Checkpoints
    of the former layout (``window_slicer.*``/``encoder.*``) still load (key map in
    :func:`vtt.models.utils.upgrade_timemae_pretrainer_keys`).

    **Momentum encoder.** A :class:`MomentumEncoder` (mmengine ``ExponentialMovingAverage``)
    of ``backbone.encoder``, updated at the start of every training-mode :meth:`loss` from the
    online weights of that moment (see :mod:`vtt.models.utils.ema`): the same in one process
    and under ``tools/dist_train.sh``, where mmengine's DDP wrapper runs its own
    ``train_step``. ``momentum`` is mmengine's: the weight of the NEW value, 0.01 = the paper's
    0.99. The target encoder is kept in eval mode (targets without dropout noise), a deliberate
    difference from the official code, which leaves it in train mode.

    **Official choices** (defaults; each can be switched off in the config): post-norm blocks
    with learnable residual scales starting at 1e-8 (``TransformerEncoder.layer_scale_init``),
    Xavier-normal linear layers with bias 0.1 (``init_cfg=dict(type='XavierLinear')``),
    N(0, 1) mask token (``mask_token_init_std``) and positions
    (``WindowSlicer.position_init_std``), decoder dropout 0.1.

    **Tokenizer.** ``codebook=dict(type='GumbelCodebook')`` (the paper's: learnable codewords,
    hard Gumbel-softmax with a straight-through estimator; recommended default) or
    ``dict(type='LinearCenterTokenizer')`` (the official code's linear center layer, no STE).
    The codeword targets are computed from the window embeddings *before* positions are added,
    as in the official code.

    ``mode='tensor'`` returns the backbone's representation of the whole, unmasked series
    ``[B, N, D]``; ``mode='predict'`` raises NotImplementedError (pretraining predicts nothing;
    evaluate with a linear probe or fine-tuning).

    Args:
        backbone (dict): :class:`WindowEncoder` config; ``in_channels`` defaults to the
            preprocessor's ``num_variates``.
        decoder (dict): :class:`CrossAttentionDecoder`; ``embed_dims`` defaults to the
            backbone's.
        codebook (dict): Codeword tokenizer; ``embed_dims`` defaults to the backbone's.
        mcc_loss (dict): Defaults to ``MCCLoss`` (label smoothing 0.2, weight 1).
        mrr_loss (dict): Defaults to ``MRRLoss`` (weight 5).
        mask_ratio (float): Fraction of windows masked. Defaults to 0.6.
        mask_count (str): ``'floor'`` (official, default) or ``'round'``.
        batch_shared_mask (bool): One permutation for the whole batch (the official code);
            default False: a mask per sample.
        momentum (float): EMA momentum, weight of the new value. Defaults to 0.01.
        mask_token_init_std (float): Std of the mask token's normal init. Defaults to 1.0.
        data_preprocessor (dict): ``dict(type='TimeSeriesDataPreprocessor', num_variates=V)``.
        init_cfg (dict, optional): Defaults to the official Xavier-normal init of every linear
            layer (``XavierLinear``, bias 0.1); None keeps torch's defaults.
    """

    can_predict = False

    def __init__(self,
                 backbone: dict,
                 decoder: dict,
                 codebook: dict = dict(type='GumbelCodebook'),
                 mcc_loss: dict = dict(type='MCCLoss', label_smoothing=0.2, loss_weight=1.0),
                 mrr_loss: dict = dict(type='MRRLoss', loss_weight=5.0),
                 mask_ratio: float = 0.6,
                 mask_count: str = 'floor',
                 batch_shared_mask: bool = False,
                 momentum: float = 0.01,
                 mask_token_init_std: float = 1.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = dict(type='XavierLinear', distribution='normal',
                                                 bias=0.1)):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0.0 < mask_ratio < 1.0:
            raise ConfigError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        if mask_count not in ('floor', 'round'):
            raise ConfigError(f"mask_count must be 'floor' or 'round', got {mask_count!r}")
        self.mask_ratio = float(mask_ratio)
        self.mask_count = mask_count
        self.batch_shared_mask = batch_shared_mask

        backbone_cfg = dict(backbone)
        if self.num_variates is not None:
            backbone_cfg.setdefault('in_channels', self.num_variates)
        self.backbone = MODELS.build(backbone_cfg)
        self.embed_dims = dims = self.backbone.embed_dims

        def build(cfg):
            cfg = dict(cfg)
            cfg.setdefault('embed_dims', dims)
            module = MODELS.build(cfg)
            if getattr(module, 'embed_dims', dims) != dims:
                raise ConfigError(f'{type(module).__name__} has embed_dims={module.embed_dims},'
                                  f' the backbone {dims}; they must match')
            return module

        self.decoder = build(decoder)
        self.codebook = build(codebook)
        self.momentum_encoder = MomentumEncoder(self.backbone.encoder, momentum=momentum)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dims) * float(mask_token_init_std))
        self.mcc_loss = MODELS.build(mcc_loss)
        self.mrr_loss = MODELS.build(mrr_loss)
        self.register_load_state_dict_pre_hook(_upgrade_legacy_keys)

    @property
    def momentum(self) -> float:
        return self.momentum_encoder.momentum

    # ------------------------------------------------------------------ masking
    def num_masked(self, num_patches: int) -> int:
        """M for N windows: ``int(mask_ratio * N)`` (or rounded), in ``[1, N - 1]``."""
        if num_patches < 2:
            raise ConfigError(f'TimeMAE needs at least 2 windows to mask one, got N={num_patches}'
                             '; use a shorter window_slicer.window')
        raw = self.mask_ratio * num_patches
        count = int(raw) if self.mask_count == 'floor' else int(round(raw))
        return min(max(1, count), num_patches - 1)

    def sample_permutation(self, batch_size: int, num_patches: int,
                           device: Union[str, torch.device] = 'cpu') -> torch.Tensor:
        """A random permutation of the N positions per sample, ``[B, N]`` long (vectorised:
        argsort of uniform noise). The last M entries are the masked positions."""
        rows = 1 if self.batch_shared_mask else batch_size
        perm = torch.rand(rows, num_patches, device=device).argsort(dim=1)
        return perm.expand(batch_size, -1)

    # ------------------------------------------------------------------ forward parts
    def extract_feat(self, inputs: torch.Tensor,
                     data_samples: Optional[dict] = None) -> torch.Tensor:
        """The backbone's representation of every window of the unmasked series
        ``[B, N, D]``."""
        return self.backbone(inputs, self.mask_of(data_samples))[0]

    def masked_forward(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None,
                       permutation: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Everything the losses need, for a given (or a fresh random) permutation ``[B, N]``.

        Returns a dict: ``visible_index [B, N-M]``, ``masked_index [B, M]``,
        ``visible_rep [B, N-M, D]``, ``prediction [B, M, D]``, ``target_rep [B, M, D]``,
        ``codes`` / ``code_logits`` ``[B, M, vocab]``, ``code_indices [B, M]``,
        ``pred_logits [B, M, vocab]`` and ``weight [B, M]`` (1 = masked window with data).
        """
        patches, valid = self.backbone.embed(inputs, mask)
        b, n, _ = patches.shape
        m = self.num_masked(n)
        if permutation is None:
            permutation = self.sample_permutation(b, n, patches.device)
        elif permutation.shape != (b, n):
            raise ValueError(f'permutation must be [B, N] = {(b, n)}, got '
                             f'{tuple(permutation.shape)}')
        permutation = permutation.to(patches.device)
        visible_index, masked_index = permutation[:, :n - m], permutation[:, n - m:]

        position = self.backbone.position(n).expand(b, -1, -1)
        x = patches + position
        visible_valid = _gather_tokens(valid, visible_index)
        masked_valid = _gather_tokens(valid, masked_index)

        # Without a step mask every window is valid: pass no key padding mask at all, which
        # keeps attention on its fastest (mask-free) kernels.
        visible_padding = None if mask is None else ~visible_valid
        masked_padding = None if mask is None else ~masked_valid

        visible_rep = self.backbone.encoder(_gather_tokens(x, visible_index),
                                            key_padding_mask=visible_padding)
        queries = self.mask_token + _gather_tokens(position, masked_index)
        prediction = self.decoder(queries, visible_rep, memory_key_padding_mask=visible_padding)

        masked_x = _gather_tokens(x, masked_index)
        with torch.no_grad():
            # The official code encodes the masked windows jointly, as one sequence.
            target_rep = self.momentum_encoder(masked_x.detach(), key_padding_mask=masked_padding)
        tokens = self.codebook(_gather_tokens(patches, masked_index))
        return dict(visible_index=visible_index, masked_index=masked_index,
                    visible_rep=visible_rep, prediction=prediction, target_rep=target_rep,
                    codes=tokens['codes'], code_indices=tokens['indices'],
                    code_logits=tokens['logits'],
                    pred_logits=self.codebook.predict_logits(prediction),
                    weight=masked_valid.to(prediction.dtype))

    # ------------------------------------------------------------------ mmengine API
    def loss(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
             permutation: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        if self.training:
            # The EMA step for the optimizer step just taken (see the class docstring).
            self.momentum_encoder.update_parameters(self.backbone.encoder)
        out = self.masked_forward(inputs, self.mask_of(data_samples), permutation)
        weight = out['weight']
        losses = dict(
            loss_mcc=self.mcc_loss(out['pred_logits'], out['codes'], weight),
            loss_mrr=self.mrr_loss(out['prediction'], out['target_rep'], weight))
        # Logged but not summed into the loss: mmengine sums only keys containing 'loss'.
        losses.update(codeword_ranking_metrics(out['pred_logits'].detach(), out['code_indices'],
                                               weight))
        return losses
