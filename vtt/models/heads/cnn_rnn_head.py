"""CNN-RNN multi-label head (Wang et al., "CNN-RNN: A Unified Framework for Multi-label Image
Classification", CVPR 2016): labels predicted as a sequence by an LSTM in a joint image-label
embedding space, plus a parallel BCE head; the meteo element recogniser."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from ..utils import pack_predictions
from .cls_head import build_loss

__all__ = ['CNNRNNLabelHead']


@MODELS.register_module()
class CNNRNNLabelHead(BaseModule):
    """Multi-label prediction as a label sequence, with a parallel BCE head on the same image.

    ::

        feats [B, C] --W_v--> v [B, D]                  image in the joint space (D = 256)
        U [L + 2, D]: label embeddings, rows 0..L-1 the labels, L = <eos>, L + 1 = <bos>
        step t:  U[y_{t-1}] --LSTM (2 layers, H = 384)--> o_t [B, H]
                 x_t = ReLU(W_o o_t + W_I v) [B, D]
                 s_t = x_t U^T [B, L + 2]  (tied scores; <bos> and the labels already in the
                                             sequence masked) --softmax--> P(y_t | image, y_<t)
        parallel: v --dropout, Linear(D, L)--> logits [B, L] --sigmoid--> per-label scores

    **Training** (``loss``): the targets of a sample are its positive labels ordered by training
    frequency (most frequent first; ``set_train_statistics`` sets the order from the training
    split's counts), with ``shuffle_prob`` of the samples in random order, then ``<eos>``.
    ``loss_bce`` (``bce_weight`` x the BCE/focal loss of the parallel head) plus ``loss_seq``
    (``seq_weight`` x the sequence cross-entropy, averaged over each sample's steps, then over
    the batch). With probability ``teacher_forcing`` (set per epoch by
    ``TeacherForcingHook``) a step is fed the true previous label, else the model's own most
    likely label (scheduled sampling).

    **Prediction** (``predict``): per-sample records with

    * ``pred_score [L]``: the parallel head's probabilities (the scores mAP ranks);
    * ``parallel_label [L]``: ``pred_score >= threshold`` with per-label thresholds (a buffer,
      calibrated on validation by ``ThresholdCalibrationHook`` and saved in checkpoints);
    * ``beam_label [L]``: the most probable label sequence of a beam search (width
      ``beam_width``, at most ``max_length`` labels), as a set;
    * ``beam_score [L]``: each label's share of the probability of the finished beams (the
      posterior mass of the beam pool on sets containing the label; 0 for labels in none);
    * ``pred_label [L]``: ``beam_label`` or ``parallel_label``, as ``decode`` says;
    * the batch's ground truth (``gt_label``).

    Args:
        in_channels (int): C, the image feature size.
        num_labels (int): L, the number of labels (elements in ``labels.yaml``).
        embed_dims (int): D, the joint embedding size. Defaults to 256.
        hidden_dims (int): H, the LSTM size. Defaults to 384.
        num_layers (int): LSTM layers. Defaults to 2.
        dropout (float): Dropout on the image embedding and between LSTM layers. Defaults 0.1.
        bce_loss (dict): Loss of the parallel head on ``(logits [B, L], multi-hot [B, L])``
            taking an optional elementwise ``weight``. Defaults to plain BCE
            (``BCEFocalLoss`` with ``bce_weight=1``); ``bce_weight=0`` gives the focal loss.
        bce_weight (float): Weight of ``loss_bce``. Defaults to 1.0.
        seq_weight (float): Weight of ``loss_seq``. Defaults to 0.5.
        class_weighting (str, optional): ``'inverse_frequency'`` weighs each label's positive
            and negative BCE terms by ``N / (2 n)`` of its training counts (rare labels' positives
            count more) and each label's sequence steps by ``balanced`` inverse frequency;
            ``None`` (default) weighs everything 1. Set from the training split by
            ``set_train_statistics``; kept in buffers.
        shuffle_prob (float): Share of training samples whose label order is random. 0.2.
        beam_width (int): Beam width (3-5 in the plan). Defaults to 3.
        max_length (int): Most labels in a decoded sequence. Defaults to 10.
        decode (str): ``'beam'`` or ``'parallel'``: which decision is ``pred_label``.
            Defaults to ``'beam'``.
        threshold (float): Initial per-label threshold of the parallel head. Defaults to 0.5.
    """

    def __init__(self, in_channels: int, num_labels: int, embed_dims: int = 256,
                 hidden_dims: int = 384, num_layers: int = 2, dropout: float = 0.1,
                 bce_loss: dict = dict(type='BCEFocalLoss', bce_weight=1.0),
                 bce_weight: float = 1.0, seq_weight: float = 0.5,
                 class_weighting: Optional[str] = None, shuffle_prob: float = 0.2,
                 beam_width: int = 3, max_length: int = 10, decode: str = 'beam',
                 threshold: float = 0.5, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if int(num_labels) < 1:
            raise ConfigError(f'num_labels must be positive, got {num_labels}')
        if decode not in ('beam', 'parallel'):
            raise ConfigError(f"decode must be 'beam' or 'parallel', got {decode!r}")
        if class_weighting not in (None, 'inverse_frequency'):
            raise ConfigError(f"class_weighting must be None or 'inverse_frequency', got "
                              f'{class_weighting!r}')
        if beam_width < 1 or max_length < 1:
            raise ConfigError(f'beam_width and max_length must be positive, got {beam_width} '
                              f'and {max_length}')
        if not 0.0 <= shuffle_prob <= 1.0:
            raise ConfigError(f'shuffle_prob must be in [0, 1], got {shuffle_prob}')
        self.in_channels, self.num_labels = int(in_channels), int(num_labels)
        self.eos, self.bos = self.num_labels, self.num_labels + 1
        self.bce_weight, self.seq_weight = float(bce_weight), float(seq_weight)
        self.class_weighting = class_weighting
        self.shuffle_prob = float(shuffle_prob)
        self.beam_width, self.max_length = int(beam_width), int(max_length)
        self.decode = decode
        #: probability of feeding the true previous label in training (TeacherForcingHook)
        self.teacher_forcing = 1.0

        self.image_proj = nn.Linear(self.in_channels, embed_dims)            # W_v
        self.label_embed = nn.Embedding(self.num_labels + 2, embed_dims)     # U
        self.lstm = nn.LSTM(embed_dims, hidden_dims, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.rnn_proj = nn.Linear(hidden_dims, embed_dims)                   # W_o
        self.joint_image_proj = nn.Linear(embed_dims, embed_dims)            # W_I
        self.dropout = nn.Dropout(dropout)
        self.parallel_fc = nn.Linear(embed_dims, self.num_labels)
        self.bce_loss = build_loss(bce_loss)

        L = self.num_labels
        # frequency rank of every label (0 = most frequent): the training sequence order
        self.register_buffer('label_rank', torch.arange(L))
        # inverse-frequency weights (ones unless class_weighting is set)
        self.register_buffer('bce_pos_weight', torch.ones(L))
        self.register_buffer('bce_neg_weight', torch.ones(L))
        self.register_buffer('seq_class_weight', torch.ones(L + 1))
        self.register_buffer('threshold', torch.full((L, ), 0.5))
        self.set_threshold(threshold)

    # ------------------------------------------------------------------ state
    def set_threshold(self, threshold: Union[float, Sequence[float]]) -> None:
        """One threshold for every label, or one per label (``[L]``), each in (0, 1)."""
        values = torch.as_tensor(threshold, dtype=torch.float32).flatten()
        if values.numel() == 1:
            values = values.expand(self.num_labels)
        if values.numel() != self.num_labels:
            raise ConfigError(f'{values.numel()} thresholds for {self.num_labels} labels')
        if not bool(((values > 0) & (values < 1)).all()):
            raise ConfigError(f'thresholds must be in (0, 1), got {values.tolist()}')
        self.threshold.copy_(values)

    def set_train_statistics(self, stats: dict) -> None:
        """Label order (and, with ``class_weighting``, weights) from the training split's
        ``class_counts`` (positives per label) and ``num_samples``."""
        if 'class_counts' not in stats:
            return
        counts = torch.as_tensor(list(stats['class_counts']), dtype=torch.float64)
        if counts.numel() != self.num_labels:
            raise ConfigError(f'the training data has {counts.numel()} labels, the head '
                              f'num_labels={self.num_labels}; make them agree (the number of '
                              f'elements in labels.yaml)')
        # most frequent first; ties in label order (stable sort)
        order = torch.sort(-counts, stable=True).indices
        self.label_rank.copy_(torch.argsort(order).to(self.label_rank))
        if self.class_weighting == 'inverse_frequency':
            total = float(stats.get('num_samples', counts.max().item()))
            pos, neg = counts.clamp(min=1), (total - counts).clamp(min=1)
            self.bce_pos_weight.copy_((total / (2 * pos)).clamp(max=10.0).float())
            self.bce_neg_weight.copy_((total / (2 * neg)).clamp(max=10.0).float())
            present = counts > 0
            seq = torch.ones(self.num_labels, dtype=torch.float64)
            seq[present] = counts[present].sum() / (present.sum() * counts[present])
            self.seq_class_weight[:self.num_labels] = seq.clamp(max=10.0).float()

    # ------------------------------------------------------------------ building blocks
    def embed_image(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats [B, C] -> v [B, D]``."""
        return self.dropout(self.image_proj(feats))

    def parallel_logits(self, v: torch.Tensor) -> torch.Tensor:
        """``v [B, D] -> logits [B, L]`` of the parallel BCE head."""
        return self.parallel_fc(self.dropout(v))

    def step_scores(self, o: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``o [..., H], v [..., D] -> tied scores [..., L + 2]`` (``<bos>`` at -inf)."""
        x = F.relu(self.rnn_proj(o) + self.joint_image_proj(v))
        scores = x @ self.label_embed.weight.t()
        return scores.index_fill(-1, scores.new_tensor([self.bos], dtype=torch.long),
                                 float('-inf'))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats [B, C] -> parallel-head logits [B, L]`` (``mode='tensor'``)."""
        return self.parallel_logits(self.embed_image(feats))

    # ------------------------------------------------------------------ training
    def label_sequences(self, target: torch.Tensor, shuffle: bool) -> torch.Tensor:
        """``multi-hot [B, L] -> targets [B, T]``: each sample's labels in frequency order
        (``shuffle_prob`` of them shuffled when ``shuffle``), then ``<eos>``, padded with -100.
        ``T`` is the longest sequence + 1."""
        positive = target > 0.5
        B, L = positive.shape
        key = self.label_rank.to(target.device).float().expand(B, L).clone()
        if shuffle and self.shuffle_prob > 0:
            shuffled = torch.rand(B, device=target.device) < self.shuffle_prob
            key[shuffled] = torch.rand(int(shuffled.sum()), L, device=target.device)
        key = key.masked_fill(~positive, float('inf'))
        order = key.argsort(dim=1)
        lengths = positive.sum(1)
        steps = int(lengths.max()) + 1
        position = torch.arange(steps, device=target.device).expand(B, steps)
        padded = torch.cat([order, order.new_zeros(B, 1)], 1)[:, :steps]
        sequence = torch.where(position < lengths[:, None], padded,
                               torch.full_like(padded, self.eos))
        return sequence.masked_fill(position > lengths[:, None], -100)

    def sequence_scores(self, v: torch.Tensor, sequence: torch.Tensor) -> torch.Tensor:
        """Step scores ``[B, T, L + 2]`` of the targets ``[B, T]``, with the labels of earlier
        targets masked; steps are fed the true previous label with probability
        ``teacher_forcing`` (all of them in eval mode), else the model's own best label."""
        B, T = sequence.shape
        valid = sequence >= 0
        onehot = F.one_hot(sequence.clamp(min=0), self.num_labels + 2) * valid[..., None]
        earlier = (onehot.cumsum(1) - onehot) > 0          # emitted before step t
        earlier[..., self.eos] = False
        bos = sequence.new_full((B, 1), self.bos)
        true_inputs = torch.cat([bos, sequence[:, :-1].clamp(min=0)], 1)
        v_steps = v[:, None].expand(B, T, v.shape[-1])
        if not self.training or self.teacher_forcing >= 1.0:
            o, _ = self.lstm(self.label_embed(true_inputs))
            return self.step_scores(o, v_steps).masked_fill(earlier, float('-inf'))
        # scheduled sampling: one step at a time (T <= labels + 1, short)
        scores, state, token = [], None, true_inputs[:, 0]
        for t in range(T):
            o, state = self.lstm(self.label_embed(token)[:, None], state)
            step = self.step_scores(o[:, 0], v).masked_fill(earlier[:, t], float('-inf'))
            scores.append(step)
            if t + 1 < T:
                own = step[:, :self.num_labels].detach().argmax(-1)   # the best label, no eos
                use_true = torch.rand(B, device=v.device) < self.teacher_forcing
                token = torch.where(use_true, true_inputs[:, t + 1], own)
        return torch.stack(scores, 1)

    def loss(self, feats: torch.Tensor, data_samples: dict) -> Dict[str, torch.Tensor]:
        target = torch.as_tensor(data_samples['label'], device=feats.device).float()
        if target.dim() != 2 or target.shape[1] != self.num_labels:
            raise ValueError(f'{type(self).__name__} expects multi-hot labels [B, '
                             f'{self.num_labels}], got {tuple(target.shape)}')
        v = self.embed_image(feats)
        weight = None
        if self.class_weighting is not None:
            weight = torch.where(target > 0.5, self.bce_pos_weight, self.bce_neg_weight)
        bce = self.bce_loss(self.parallel_logits(v), target, weight=weight)

        sequence = self.label_sequences(target, shuffle=self.training)
        log_prob = F.log_softmax(self.sequence_scores(v, sequence).float(), -1)
        valid = sequence >= 0
        picked = log_prob.gather(-1, sequence.clamp(min=0)[..., None]).squeeze(-1)
        step_weight = self.seq_class_weight[sequence.clamp(min=0, max=self.eos)] * valid
        per_sample = -(picked.masked_fill(~valid, 0) * step_weight).sum(1) / valid.sum(1)
        return dict(loss_bce=self.bce_weight * bce,
                    loss_seq=self.seq_weight * per_sample.mean(),
                    teacher_forcing=torch.tensor(self.teacher_forcing, device=feats.device))

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def beam_search(self, v: torch.Tensor):
        """Beam search over label sequences, vectorised over the batch.

        Every step extends each live path by one label or ``<eos>`` (``<bos>`` and the path's
        labels masked); the ``beam_width`` best label extensions stay live and the ``<eos>``
        extensions compete for the ``beam_width`` places of the finished pool. A sample stops
        when its best live path is less probable than the worst finished one (extensions
        only lower a probability, so none could enter the pool); at ``max_length`` labels only
        ``<eos>`` is allowed.

        Returns:
            tuple: ``best [B, L]`` (bool, the most probable finished set), ``pool_logp [B, K]``
            and ``pool_sets [B, K, L]`` (the finished pool, best first).
        """
        B, K, L = v.shape[0], self.beam_width, self.num_labels
        device, neg_inf = v.device, float('-inf')
        flat_v = v.repeat_interleave(K, 0)                              # [B*K, D]
        live = torch.full((B, K), neg_inf, device=device)
        live[:, 0] = 0.0                                                # one path at the start
        emitted = torch.zeros(B * K, L, dtype=torch.bool, device=device)
        tokens = torch.full((B * K, ), self.bos, dtype=torch.long, device=device)
        pool_logp = torch.full((B, K), neg_inf, device=device)
        pool_sets = torch.zeros(B, K, L, dtype=torch.bool, device=device)
        state = None
        base = torch.arange(B, device=device)[:, None] * K
        for step in range(self.max_length + 1):
            o, state = self.lstm(self.label_embed(tokens)[:, None], state)
            scores = self.step_scores(o[:, 0], flat_v)[:, :L + 1]       # labels + <eos>
            scores[:, :L] = scores[:, :L].masked_fill(emitted, neg_inf)
            if step == self.max_length:
                scores[:, :L] = neg_inf
            total = (live.view(B * K, 1) + F.log_softmax(scores.float(), -1)).view(B, K, L + 1)
            # finished pool: the best K of the old pool and this step's <eos> extensions
            pool_logp, keep = torch.cat([pool_logp, total[..., L]], 1).topk(K, dim=1)
            candidates = torch.cat([pool_sets, emitted.view(B, K, L)], 1)
            pool_sets = candidates.gather(1, keep[..., None].expand(B, K, L))
            # live paths: the best K label extensions
            live, index = total[..., :L].reshape(B, K * L).topk(K, dim=1)
            parent = (base + index // L).view(-1)
            tokens = (index % L).view(-1)
            emitted = emitted[parent] | F.one_hot(tokens, L).bool()
            state = tuple(s[:, parent] for s in state)
            done = live.max(1).values <= pool_logp.min(1).values
            live = live.masked_fill(done[:, None], neg_inf)
            if bool(done.all()):
                break
        return pool_sets[:, 0], pool_logp, pool_sets

    def predict(self, feats: torch.Tensor, data_samples: Optional[dict] = None) -> List[dict]:
        v = self.embed_image(feats)
        scores = torch.sigmoid(self.parallel_logits(v).float())
        parallel = (scores >= self.threshold).long()
        best, pool_logp, pool_sets = self.beam_search(v)
        share = torch.softmax(pool_logp, dim=1)                        # -inf -> 0
        beam_score = (share[..., None] * pool_sets.float()).sum(1)
        outputs = dict(pred_score=scores, parallel_label=parallel, beam_label=best.long(),
                       beam_score=beam_score)
        outputs['pred_label'] = outputs[f'{self.decode}_label']
        return pack_predictions(outputs, data_samples)

    def extra_repr(self) -> str:
        return (f'num_labels={self.num_labels}, decode={self.decode!r}, beam_width='
                f'{self.beam_width}, max_length={self.max_length}, class_weighting='
                f'{self.class_weighting!r}')
