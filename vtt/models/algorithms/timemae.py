"""TimeMAE: self-supervised pretraining of a time-series encoder with decoupled masked
autoencoders (Cheng et al., arXiv 2303.00320)."""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from vtt.registry import MODELS

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


@MODELS.register_module()
class TimeMAEPretrainer(BaseModel):
    """TimeMAE pretraining: masked codeword classification + masked representation regression.

    ::

        inputs [B, V, T] (z-scored), mask [B, T] (valid steps, optional)
         ├─ window_slicer -> patches [B, N, D], patch_valid [B, N]; x = patches + position
         ├─ random permutation per sample -> visible index [B, N-M], masked index [B, M]
         ├─ encoder(x[visible]) -> visible rep [B, N-M, D]         (no mask tokens enter it)
         ├─ decoder(mask_token + position[masked], visible rep) -> prediction [B, M, D]
         ├─ no_grad: momentum_encoder(x[masked]) -> target rep [B, M, D]     -> MRR (MSE)
         └─ codebook(patches[masked]) -> codes / indices [B, M]
            codebook.predict_logits(prediction) -> [B, M, vocab]            -> MCC (CE)
        loss = mrr_loss (alpha = 5) + mcc_loss (beta = 1)

    M = ``max(1, round(mask_ratio * N))`` positions are masked, drawn anew every step. Masked
    positions whose window is only padding get weight 0 in both losses and the metrics, and
    padding windows among the visible ones are excluded by the key padding mask.

    **EMA placement.** The momentum encoder is an EMA copy of ``encoder`` that never receives
    gradients (``requires_grad=False``, targets computed under ``no_grad``). It is updated inside
    the model: :meth:`train_step` runs mmengine's usual step and then, when the optimizer
    actually stepped (gradient accumulation aware), sets ``ema = m * ema + (1 - m) * online``
    for every parameter (buffers are copied). So no hook is needed, a checkpoint holds both
    encoders and resuming continues the EMA. Caveat: mmengine's ``MMDistributedDataParallel``
    implements ``train_step`` itself; under DDP call :meth:`momentum_update` from a hook.
    The momentum encoder is kept in eval mode (targets without dropout noise).

    **Tokenizer.** ``codebook=dict(type='GumbelCodebook')`` (the paper's: learnable codewords,
    hard Gumbel-softmax with a straight-through estimator; recommended default) or
    ``dict(type='LinearCenterTokenizer')`` (the official code's linear center layer, no STE).
    The codeword targets are computed from the window embeddings *before* positions are added,
    as in the official code.

    ``mode='tensor'`` returns the encoder's representation of the whole, unmasked series
    ``[B, N, D]``; ``mode='predict'`` raises NotImplementedError (pretraining predicts nothing;
    evaluate with a linear probe or fine-tuning).

    Args:
        window_slicer (dict): :class:`WindowSlicer` config; ``in_channels`` defaults to the
            preprocessor's ``num_variates``.
        encoder (dict): Visible encoder (``TransformerEncoder`` / ``HFTransformerEncoder``);
            ``embed_dims`` defaults to the slicer's.
        decoder (dict): :class:`CrossAttentionDecoder`; ``embed_dims`` defaults to the slicer's.
        codebook (dict): Codeword tokenizer; ``embed_dims`` defaults to the slicer's.
        mcc_loss (dict): Defaults to ``MCCLoss`` (label smoothing 0.2, weight 1).
        mrr_loss (dict): Defaults to ``MRRLoss`` (weight 5).
        mask_ratio (float): Fraction of windows masked. Defaults to 0.6.
        batch_shared_mask (bool): One permutation for the whole batch (the official code);
            default False: a mask per sample.
        momentum (float): EMA momentum m. Defaults to 0.99.
        data_preprocessor (dict): ``dict(type='TimeSeriesDataPreprocessor', num_variates=V)``.
    """

    def __init__(self,
                 window_slicer: dict,
                 encoder: dict,
                 decoder: dict,
                 codebook: dict = dict(type='GumbelCodebook'),
                 mcc_loss: dict = dict(type='MCCLoss', label_smoothing=0.2, loss_weight=1.0),
                 mrr_loss: dict = dict(type='MRRLoss', loss_weight=5.0),
                 mask_ratio: float = 0.6,
                 batch_shared_mask: bool = False,
                 momentum: float = 0.99,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            raise ValueError('data_preprocessor must be given, e.g. '
                             "dict(type='TimeSeriesDataPreprocessor', num_variates=9)")
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        self.mask_ratio = float(mask_ratio)
        self.batch_shared_mask = batch_shared_mask
        self.momentum = float(momentum)

        slicer_cfg = dict(window_slicer)
        if 'in_channels' not in slicer_cfg and hasattr(self.data_preprocessor, 'num_variates'):
            slicer_cfg['in_channels'] = self.data_preprocessor.num_variates
        self.window_slicer = MODELS.build(slicer_cfg)
        self.embed_dims = dims = self.window_slicer.embed_dims

        def build(cfg):
            cfg = dict(cfg)
            cfg.setdefault('embed_dims', dims)
            module = MODELS.build(cfg)
            if getattr(module, 'embed_dims', dims) != dims:
                raise ValueError(f'{type(module).__name__} has embed_dims={module.embed_dims}, '
                                 f'the window slicer {dims}; they must match')
            return module

        self.encoder = build(encoder)
        self.decoder = build(decoder)
        self.codebook = build(codebook)
        self.momentum_encoder = copy.deepcopy(self.encoder)
        self.momentum_encoder.requires_grad_(False)
        self.momentum_encoder.eval()  # see train()
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dims))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.mcc_loss = MODELS.build(mcc_loss)
        self.mrr_loss = MODELS.build(mrr_loss)

    # ------------------------------------------------------------------ housekeeping
    def set_train_statistics(self, stats: dict) -> None:
        """Take the training split's per-variate ``mean``/``std`` for normalisation."""
        self.data_preprocessor.set_statistics(stats['mean'], stats['std'])

    def init_weights(self) -> None:
        super().init_weights()
        # The EMA starts from the online encoder (the official copy_weight).
        self.momentum_encoder.load_state_dict(self.encoder.state_dict())

    def train(self, mode: bool = True):
        super().train(mode)
        self.momentum_encoder.eval()  # targets without dropout noise
        return self

    @torch.no_grad()
    def momentum_update(self) -> None:
        """``ema = m * ema + (1 - m) * online`` for all parameters; buffers are copied."""
        ema = list(self.momentum_encoder.parameters())
        online = [p.detach() for p in self.encoder.parameters()]
        torch._foreach_mul_(ema, self.momentum)
        torch._foreach_add_(ema, online, alpha=1.0 - self.momentum)
        for ema_buf, buf in zip(self.momentum_encoder.buffers(), self.encoder.buffers()):
            ema_buf.copy_(buf)

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        log_vars = super().train_step(data, optim_wrapper)
        should_update = getattr(optim_wrapper, 'should_update', None)
        if should_update is None or should_update():
            self.momentum_update()
        return log_vars

    # ------------------------------------------------------------------ masking
    def num_masked(self, num_patches: int) -> int:
        """M for N windows: ``max(1, round(mask_ratio * N))``, leaving at least one visible."""
        if num_patches < 2:
            raise ValueError(f'TimeMAE needs at least 2 windows to mask one, got N={num_patches}'
                             '; use a shorter window_slicer.window')
        return min(max(1, int(round(self.mask_ratio * num_patches))), num_patches - 1)

    def sample_permutation(self, batch_size: int, num_patches: int,
                           device: Union[str, torch.device] = 'cpu') -> torch.Tensor:
        """A random permutation of the N positions per sample, ``[B, N]`` long (vectorised:
        argsort of uniform noise). The last M entries are the masked positions."""
        rows = 1 if self.batch_shared_mask else batch_size
        perm = torch.rand(rows, num_patches, device=device).argsort(dim=1)
        return perm.expand(batch_size, -1)

    # ------------------------------------------------------------------ forward parts
    def extract_feat(self, inputs: torch.Tensor,
                     mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode all windows of the unmasked series: ``(rep [B, N, D], patch_valid [B, N])``."""
        patches, valid = self.window_slicer(inputs, mask)
        x = patches + self.window_slicer.position(patches.shape[1])
        return self.encoder(x, key_padding_mask=None if mask is None else ~valid), valid

    def masked_forward(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None,
                       permutation: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Everything the losses need, for a given (or a fresh random) permutation ``[B, N]``.

        Returns a dict: ``visible_index [B, N-M]``, ``masked_index [B, M]``,
        ``visible_rep [B, N-M, D]``, ``prediction [B, M, D]``, ``target_rep [B, M, D]``,
        ``codes`` / ``code_logits`` ``[B, M, vocab]``, ``code_indices [B, M]``,
        ``pred_logits [B, M, vocab]`` and ``weight [B, M]`` (1 = masked window with data).
        """
        patches, valid = self.window_slicer(inputs, mask)
        b, n, _ = patches.shape
        m = self.num_masked(n)
        if permutation is None:
            permutation = self.sample_permutation(b, n, patches.device)
        elif permutation.shape != (b, n):
            raise ValueError(f'permutation must be [B, N] = {(b, n)}, got '
                             f'{tuple(permutation.shape)}')
        permutation = permutation.to(patches.device)
        visible_index, masked_index = permutation[:, :n - m], permutation[:, n - m:]

        position = self.window_slicer.position(n).expand(b, -1, -1)
        x = patches + position
        visible_valid = _gather_tokens(valid, visible_index)
        masked_valid = _gather_tokens(valid, masked_index)

        # Without a step mask every window is valid: pass no key padding mask at all, which
        # keeps attention on its fastest (mask-free) kernels.
        visible_padding = None if mask is None else ~visible_valid
        masked_padding = None if mask is None else ~masked_valid

        visible_rep = self.encoder(_gather_tokens(x, visible_index),
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
    @staticmethod
    def _mask_of(data_samples: Optional[dict]) -> Optional[torch.Tensor]:
        if isinstance(data_samples, dict):
            return data_samples.get('mask')
        return None

    def forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict[str, torch.Tensor], List]:
        if mode == 'tensor':
            return self.extract_feat(inputs, self._mask_of(data_samples))[0]
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            raise NotImplementedError(
                'TimeMAEPretrainer only pretrains an encoder and makes no predictions; '
                'evaluate it with a linear probe or by fine-tuning a classifier that loads '
                'window_slicer.* and encoder.* from the checkpoint (run pretraining with '
                '--no-validate --no-test, or without val/test loops)')
        raise ValueError(f'Invalid mode {mode!r}; use tensor, loss or predict')

    def loss(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
             permutation: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        out = self.masked_forward(inputs, self._mask_of(data_samples), permutation)
        weight = out['weight']
        losses = dict(
            loss_mcc=self.mcc_loss(out['pred_logits'], out['codes'], weight),
            loss_mrr=self.mrr_loss(out['prediction'], out['target_rep'], weight))
        # Logged but not summed into the loss: mmengine sums only keys containing 'loss'.
        losses.update(codeword_ranking_metrics(out['pred_logits'].detach(), out['code_indices'],
                                               weight))
        return losses
