"""One discrete codebook shared by several paired modalities (CMG's multimodal EMA quantizer).

::

    features {m: z_m [B, T, D]}  (paired: step t of sample b of every modality belong together)
      assign   i_m = argmin_k ||z_m - e_k||^2                       -> indices {m: [B, T]}
      quantize q_m = e[i_m], straight-through z_m + sg(q_m - z_m)   -> quantized {m: [B, T, D]}
      commit   beta * (own * MSE(z_m, sg(q_m)) + cross / (A-1) * sum_{s != m} MSE(z_m, sg(q_s)))
      train:   EMA of the cluster statistics, where the vectors that pull code k when modality
               a chose it are a MIX of the paired vectors of every modality s (weights
               mix[a][s]); dead codes restarted from batch vectors

The codebook is not trained by gradients: in training mode every forward updates it (vtt's
rule: EMAs move inside ``loss()``, so mmengine's DDP wrapper runs them too), with the cluster
statistics summed over all ranks first, so every rank keeps the SAME codebook (the one a single
process would keep on the concatenated batch).

Differences from the official code (haihuangcode/CMG), each deliberate:

* one EMA step per forward with the statistics of all modalities summed (the official code
  applies the decay once per modality, i.e. decay^A per step); the constants are the same;
* ``ema_count`` starts at 1 with ``ema_weight`` = the initial codes (the official zeros make every
  code no modality picked in the first batch jump to ``e0 * decay / 1e-5``);
* a restarted dead code also restarts its EMA statistics (the official reset only overwrites the
  code, which the next EMA step undoes) and dead codes are counted in training steps only.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import BaseModule

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

__all__ = ['MultimodalEMAQuantizer', 'codebook_perplexity', 'code_agreement', 'dominant_codes',
           'toc_channel_scores', 'toc_select_channels']


def _world_size() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def dominant_codes(indices: torch.Tensor, num_codes: int) -> torch.Tensor:
    """The most frequent code of each sample over time (ties: the smallest index).

    Shapes: ``indices [B, T]`` (int) -> ``[B]``.
    """
    counts = torch.zeros(indices.shape[0], num_codes, device=indices.device)
    counts.scatter_add_(1, indices.long(), torch.ones_like(indices, dtype=counts.dtype))
    return counts.argmax(dim=1)


def code_agreement(indices: Mapping[str, torch.Tensor], num_codes: int) -> torch.Tensor:
    """The official code's ``equal_num`` as a rate: the fraction of samples whose dominant code
    (:func:`dominant_codes`) is the same in every modality. ``{m: [B, T]} -> scalar``."""
    dominant = torch.stack([dominant_codes(i, num_codes) for i in indices.values()])
    return (dominant == dominant[:1]).all(dim=0).float().mean()


def codebook_perplexity(indices: torch.Tensor, num_codes: int) -> torch.Tensor:
    """``exp(-sum_k p_k log p_k)`` of the code usage ``p`` over all tokens of ``indices``: 1 when
    one code takes everything, ``min(num_codes, tokens)`` when usage is uniform."""
    usage = torch.bincount(indices.reshape(-1).long(), minlength=num_codes).float()
    p = usage / usage.sum().clamp_min(1.0)
    return torch.exp(-(p * torch.log(p + 1e-10)).sum())


def toc_channel_scores(codebook: torch.Tensor, alpha: float = 0.7) -> torch.Tensor:
    """TOC's training-free score of every code dimension (Huang et al., ACL 2025 Findings).

    ``crit_d = -alpha * mean_{i != j} E[i, d] E[j, d] + (1 - alpha) * Var_i E[i, d]``: a
    dimension is useful when the codes spread along it (variance) and do not all point the
    same way (low mean pairwise product). ``[M, D] -> [D]``.
    """
    codes = codebook.float()
    m = codes.shape[0]
    if m < 2:
        raise ValueError(f'TOC needs at least 2 codes, got {m}')
    total = codes.sum(0)
    # mean over ordered pairs i != j of E_i E_j, without the M x M matrix per dimension
    pairwise = (total.pow(2) - codes.pow(2).sum(0)) / (m * (m - 1))
    return -alpha * pairwise + (1 - alpha) * codes.var(0, unbiased=False)


def toc_select_channels(codebook: torch.Tensor, k: int, alpha: float = 0.7) -> torch.Tensor:
    """The ``k`` dimensions with the highest :func:`toc_channel_scores`, in ascending order.
    ``[M, D] -> [k]`` int64."""
    if not 1 <= k <= codebook.shape[1]:
        raise ValueError(f'k must be in [1, {codebook.shape[1]}], got {k}')
    return toc_channel_scores(codebook, alpha).topk(k).indices.sort().values


@MODELS.register_module()
class MultimodalEMAQuantizer(BaseModule):
    """A codebook of ``num_codes`` vectors shared by the modalities, updated by EMA.

    Args:
        modalities (Sequence[str]): Names of the paired inputs (at least 2), e.g.
            ``('acc', 'gyro')``; ``forward`` takes a dict with exactly these keys.
        num_codes (int): M. Defaults to 400 (the furnace notes also tried 100).
        embed_dims (int): D. Defaults to 256.
        commitment_cost (float): beta. Defaults to 0.25.
        own_commitment (float): Multiplier of the term towards the modality's own code.
            Defaults to 2.0 (0.5 = 2 x 0.25, as the official code).
        cross_commitment (float): Multiplier of the terms towards the paired modalities' codes,
            shared equally among them. Defaults to 1.0 (0.25 for two modalities, 0.125 each
            for three, as the official code).
        decay (float): EMA decay, the weight of the OLD statistics. Defaults to 0.99.
        epsilon (float): Laplace smoothing of the code counts. Defaults to 1e-5.
        mix (dict, optional): ``{target: {source: weight}}``: when modality ``target`` picks a
            code, the code is pulled by ``sum_s weight * z_s`` (the paired vectors of the same
            sample and step). Each row sums to 1. None: 0.5 own and 0.5 shared by the others
            (the official code). The furnace group's asymmetric teacher, video barely learning
            from current and current learning from video, is
            ``dict(video=dict(video=0.95, current=0.05), current=dict(current=0.5, video=0.5))``.
        dead_code_threshold (int, optional): A code that no modality picked for this many
            training forwards is restarted from a random batch vector. None: never. Defaults to
            300 (the official code).
        kmeans_init (bool): Initialise the codes by k-means (faiss) over the vectors of the
            first training batch (all modalities). Needs at least ``num_codes`` vectors per
            batch. Defaults to False (uniform in +-1/M, the official code).
        kmeans_iters (int): k-means iterations. Defaults to 20.
        kmeans_restarts (int): k-means runs from different seeds; the one with the lowest
            error is kept. Defaults to 3.

    ``forward(features) -> (quantized, indices, losses)``: ``quantized {m: [B, T, D]}``
    (straight-through: the gradient reaches the encoder as if the quantizer were the identity),
    ``indices {m: [B, T]}`` (int64) and ``losses {'loss_commit_<m>': scalar}``. Inputs
    ``[B, D]`` (no time axis) are treated as ``T = 1`` and returned in the same shape.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 num_codes: int = 400,
                 embed_dims: int = 256,
                 commitment_cost: float = 0.25,
                 own_commitment: float = 2.0,
                 cross_commitment: float = 1.0,
                 decay: float = 0.99,
                 epsilon: float = 1e-5,
                 mix: Optional[Dict[str, Dict[str, float]]] = None,
                 dead_code_threshold: Optional[int] = 300,
                 kmeans_init: bool = False,
                 kmeans_iters: int = 20,
                 kmeans_restarts: int = 3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.modalities = tuple(modalities)
        if len(self.modalities) < 2 or len(set(self.modalities)) != len(self.modalities):
            raise ConfigError(f'modalities must be at least 2 distinct names, got {modalities}')
        if not 0.5 <= decay < 1.0:
            raise ConfigError(f'decay={decay} is the weight of the OLD statistics (papers\' '
                              '0.99); it must be in [0.5, 1)')
        if dead_code_threshold is not None and dead_code_threshold < 1:
            raise ConfigError(f'dead_code_threshold must be >= 1 or None, got '
                              f'{dead_code_threshold}')
        self.num_codes, self.embed_dims = int(num_codes), int(embed_dims)
        self.commitment_cost = float(commitment_cost)
        self.own_commitment, self.cross_commitment = float(own_commitment), float(cross_commitment)
        self.decay, self.epsilon = float(decay), float(epsilon)
        self.dead_code_threshold = dead_code_threshold
        self.kmeans_iters, self.kmeans_restarts = int(kmeans_iters), int(kmeans_restarts)
        self.mix = self._check_mix(mix)
        codes = torch.empty(self.num_codes, self.embed_dims).uniform_(-1 / self.num_codes,
                                                                      1 / self.num_codes)
        self.register_buffer('embedding', codes)
        self.register_buffer('ema_weight', codes.clone())
        self.register_buffer('ema_count', torch.ones(self.num_codes))
        self.register_buffer('unused_steps', torch.zeros(self.num_codes, dtype=torch.long))
        self.register_buffer('initialised', torch.tensor(not kmeans_init))

    def _check_mix(self, mix) -> Dict[str, Dict[str, float]]:
        names = self.modalities
        if mix is None:
            share = 0.5 / (len(names) - 1)
            return {t: {s: (0.5 if s == t else share) for s in names} for t in names}
        if set(mix) != set(names) or any(set(row) - set(names) for row in mix.values()):
            raise ConfigError(f'mix must map every modality {names} to weights over '
                              f'{names}, got {mix}')
        out = {}
        for target, row in mix.items():
            row = {s: float(row.get(s, 0.0)) for s in names}
            if any(w < 0 for w in row.values()) or abs(sum(row.values()) - 1.0) > 1e-6:
                raise ConfigError(f'mix[{target!r}] = {row}: weights must be >= 0 and sum to 1')
            out[target] = row
        return out

    def extra_repr(self) -> str:
        return (f'modalities={self.modalities}, num_codes={self.num_codes}, '
                f'embed_dims={self.embed_dims}, decay={self.decay}, mix={self.mix}')

    # ------------------------------------------------------------------ assignment
    @torch.no_grad()
    def assign(self, flat: torch.Tensor) -> torch.Tensor:
        """Nearest code of each row. ``[N, D] -> [N]`` int64."""
        codes = self.embedding
        distances = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codes.t()
                     + codes.pow(2).sum(1).unsqueeze(0))
        return distances.argmin(dim=1)

    def code_distributions(self, features: torch.Tensor) -> torch.Tensor:
        """Soft assignment ``softmax_k(-||z - e_k||)`` (CMCM's distributions; differentiable in
        ``z``). ``[..., D] -> [..., M]``."""
        flat = features.reshape(-1, self.embed_dims)
        distances = torch.cdist(flat, self.embedding.to(flat.dtype))
        return F.softmax(-distances, dim=-1).reshape(*features.shape[:-1], self.num_codes)

    # ----------------------------------------------------------------------- forward
    def forward(self, features: Mapping[str, torch.Tensor]
                ) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor],
                           Dict[str, torch.Tensor]]:
        features, squeeze = self._check_inputs(features)
        b, t, d = next(iter(features.values())).shape
        flat = {m: z.reshape(-1, d) for m, z in features.items()}
        if self.training and not bool(self.initialised):
            self._kmeans_init(flat)
        indices = {m: self.assign(z.detach()) for m, z in flat.items()}
        codes = {m: F.embedding(i, self.embedding).view(b, t, d) for m, i in indices.items()}
        losses = {}
        names = self.modalities
        for m in names:
            z = features[m]
            own = F.mse_loss(z, codes[m].to(z.dtype))
            cross = sum(F.mse_loss(z, codes[s].to(z.dtype)) for s in names if s != m)
            losses[f'loss_commit_{m}'] = self.commitment_cost * (
                self.own_commitment * own + self.cross_commitment / (len(names) - 1) * cross)
        if self.training:
            self._ema_update(flat, indices)
        quantized = {m: features[m] + (codes[m].to(features[m].dtype) - features[m]).detach()
                     for m in names}
        indices = {m: i.view(b, t) for m, i in indices.items()}
        if squeeze:
            quantized = {m: q[:, 0] for m, q in quantized.items()}
            indices = {m: i[:, 0] for m, i in indices.items()}
        return quantized, indices, losses

    def _check_inputs(self, features):
        if set(features) != set(self.modalities):
            raise ValueError(f'MultimodalEMAQuantizer built for {self.modalities} got inputs '
                             f'{sorted(features)}')
        shapes = {m: tuple(z.shape) for m, z in features.items()}
        dims = {len(s) for s in shapes.values()}
        if dims not in ({2}, {3}) or len({s[:-1] for s in shapes.values()}) != 1 \
                or any(s[-1] != self.embed_dims for s in shapes.values()):
            raise ValueError(f'paired features must all be [B, T, {self.embed_dims}] (or '
                             f'[B, {self.embed_dims}]) with the same B and T, got {shapes}')
        squeeze = dims == {2}
        ordered = {m: (features[m].unsqueeze(1) if squeeze else features[m])
                   for m in self.modalities}
        return ordered, squeeze

    # -------------------------------------------------------------------------- EMA
    @torch.no_grad()
    def _ema_update(self, flat: Dict[str, torch.Tensor], indices: Dict[str, torch.Tensor]):
        """``count <- decay * count + (1 - decay) * n``, ``W <- decay * W + (1 - decay) * S``,
        Laplace-smoothed counts, ``e = W / count``; ``n_k`` counts the picks of code k by every
        modality, ``S_k`` sums, over the picks of k by modality a, ``sum_s mix[a][s] z_s``."""
        m_codes = self.num_codes
        stacked = {s: z.detach().float() for s, z in flat.items()}
        targets = torch.cat([indices[a] for a in self.modalities])
        pulled = torch.cat([sum(w * stacked[s] for s, w in self.mix[a].items() if w)
                            for a in self.modalities])
        counts = torch.bincount(targets, minlength=m_codes).float()
        sums = torch.zeros(m_codes, self.embed_dims, device=pulled.device)
        sums.index_add_(0, targets, pulled)
        if _world_size() > 1:
            # the statistics of the global batch (summed over ranks): every rank applies the
            # same update, so the codebooks stay identical, and equal one process's on the
            # concatenated batch
            packed = torch.cat([counts.unsqueeze(1), sums], dim=1)
            dist.all_reduce(packed)
            counts, sums = packed[:, 0], packed[:, 1:]
        momentum = 1.0 - self.decay
        torch._foreach_lerp_([self.ema_count, self.ema_weight], [counts, sums], momentum)
        total = self.ema_count.sum()
        self.ema_count.copy_((self.ema_count + self.epsilon)
                             / (total + m_codes * self.epsilon) * total)
        self.embedding.copy_(self.ema_weight / self.ema_count.unsqueeze(1))
        if self.dead_code_threshold is not None:
            self._restart_dead_codes(counts > 0, torch.cat(list(stacked.values())))

    @torch.no_grad()
    def _restart_dead_codes(self, used: torch.Tensor, vectors: torch.Tensor) -> None:
        self.unused_steps.add_(1).masked_fill_(used, 0)
        dead = (self.unused_steps >= self.dead_code_threshold).nonzero().flatten()
        if dead.numel() == 0:
            return
        # same on every rank: the counters are built from all-reduced counts; the new codes are
        # drawn on rank 0 and broadcast
        pick = torch.randint(vectors.shape[0], (dead.numel(), ), device=vectors.device)
        fresh = vectors[pick].clone()
        if _world_size() > 1:
            dist.broadcast(fresh, src=0)
        self.embedding[dead] = fresh
        self.ema_weight[dead] = fresh
        self.ema_count[dead] = 1.0
        self.unused_steps[dead] = 0

    @torch.no_grad()
    def _kmeans_init(self, flat: Dict[str, torch.Tensor]) -> None:
        vectors = torch.cat([z.detach().float() for z in flat.values()])
        if vectors.shape[0] < self.num_codes:
            raise ConfigError(
                f'kmeans_init needs at least num_codes={self.num_codes} vectors in the first '
                f'training batch, got {vectors.shape[0]} (batch x steps x modalities); use a '
                'larger batch, fewer codes or kmeans_init=False')
        centroids = torch.empty(self.num_codes, self.embed_dims, device=vectors.device)
        if not dist.is_initialized() or dist.get_rank() == 0:
            import faiss
            kmeans = faiss.Kmeans(self.embed_dims, self.num_codes, niter=self.kmeans_iters,
                                  nredo=self.kmeans_restarts,
                                  seed=int(torch.randint(2**31 - 1, ()).item()), verbose=False)
            kmeans.train(vectors.cpu().numpy())
            centroids.copy_(torch.from_numpy(kmeans.centroids))
        if _world_size() > 1:
            dist.broadcast(centroids, src=0)
        self.embedding.copy_(centroids)
        self.ema_weight.copy_(centroids)
        self.ema_count.fill_(1.0)
        self.initialised.fill_(True)
