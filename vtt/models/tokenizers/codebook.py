"""Codeword tokenizers for TimeMAE's masked codeword classification (MCC).

Two variants, selected by ``model.codebook.type``:

* :class:`GumbelCodebook` (default, the paper's): a learnable codebook, hard Gumbel-softmax
  assignment with a straight-through estimator, so the tokenizer is trained by the MCC loss.
* :class:`LinearCenterTokenizer` (the official code's): a linear "center" layer, Gumbel
  sampling of argmax indices with no gradient; the same layer is the MCC head.

Both return ``dict(codes, indices, logits)`` from ``forward`` and score representations against
the vocabulary with ``predict_logits``.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from vtt.registry import MODELS

__all__ = ['GumbelCodebook', 'LinearCenterTokenizer']


def _gumbel_noise_like(logits: torch.Tensor) -> torch.Tensor:
    # -log(Exp(1)) is Gumbel(0, 1); exponential_ avoids log(0).
    return -torch.empty_like(logits).exponential_().log()


@MODELS.register_module()
class GumbelCodebook(BaseModule):
    """The paper's tokenizer: ``vocab_size`` learnable codewords, Gumbel-softmax assignment.

    ``logits = x @ codewords^T`` (dot-product similarity). In training a Gumbel-softmax sample
    ``y_soft = softmax((logits + g) / tau)`` is drawn, its argmax gives the codeword and, with
    ``straight_through``, ``codes = y_hard - y_soft.detach() + y_soft``: exactly one-hot in the
    forward pass, the gradient of the soft sample in the backward pass, so the MCC loss trains
    the codewords and the window embeddings. In eval mode the assignment is the plain argmax.

    Args:
        embed_dims (int): D.
        vocab_size (int): Number of codewords. Defaults to 192.
        tau (float): Gumbel-softmax temperature. Defaults to 1.0.
        straight_through (bool): Hard one-hot codes with the STE gradient (default). ``False``
            returns the soft Gumbel sample as codes.

    Shapes: ``forward(x [B, M, D]) -> dict(codes [B, M, vocab], indices [B, M] long,
    logits [B, M, vocab])``; ``predict_logits(rep [B, M, D]) -> [B, M, vocab]``.
    """

    def __init__(self, embed_dims: int, vocab_size: int = 192, tau: float = 1.0,
                 straight_through: bool = True):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}')
        self.embed_dims = embed_dims
        self.vocab_size = vocab_size
        self.tau = float(tau)
        self.straight_through = straight_through
        # Rows of norm ~1, so similarities have the scale of the (LayerNormed) inputs' norm.
        self.codewords = nn.Parameter(torch.randn(vocab_size, embed_dims) / embed_dims**0.5)

    def predict_logits(self, rep: torch.Tensor) -> torch.Tensor:
        return rep @ self.codewords.t()

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = self.predict_logits(x)
        if not self.training:
            indices = logits.argmax(-1)
            codes = F.one_hot(indices, self.vocab_size).to(logits.dtype)
            return dict(codes=codes, indices=indices, logits=logits)
        y_soft = ((logits + _gumbel_noise_like(logits)) / self.tau).softmax(-1)
        indices = y_soft.argmax(-1)
        if self.straight_through:
            y_hard = F.one_hot(indices, self.vocab_size).to(y_soft.dtype)
            codes = y_hard - y_soft.detach() + y_soft
        else:
            codes = y_soft
        return dict(codes=codes, indices=indices, logits=logits)

    def extra_repr(self) -> str:
        return (f'embed_dims={self.embed_dims}, vocab_size={self.vocab_size}, tau={self.tau}, '
                f'straight_through={self.straight_through}')


@MODELS.register_module()
class LinearCenterTokenizer(BaseModule):
    """The official TimeMAE code's tokenizer: ``center = Linear(D, vocab)``.

    The codeword of a window is the argmax of a Gumbel-softmax sample of ``center(x)`` (the
    plain argmax in eval mode); the codes are detached one-hots, so the tokenizer receives no
    gradient through its targets. ``predict_logits`` reuses ``center`` as the MCC head, which is
    how the layer learns at all.

    Args:
        embed_dims (int): D.
        vocab_size (int): Number of codewords. Defaults to 192.

    Shapes: as :class:`GumbelCodebook`.
    """

    def __init__(self, embed_dims: int, vocab_size: int = 192):
        super().__init__()
        self.embed_dims = embed_dims
        self.vocab_size = vocab_size
        self.center = nn.Linear(embed_dims, vocab_size)

    def predict_logits(self, rep: torch.Tensor) -> torch.Tensor:
        return self.center(rep)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        with torch.no_grad():
            logits = self.center(x)
            scores = logits + _gumbel_noise_like(logits) if self.training else logits
            indices = scores.argmax(-1)  # argmax of a Gumbel-softmax sample at any tau
            codes = F.one_hot(indices, self.vocab_size).to(logits.dtype)
        return dict(codes=codes, indices=indices, logits=logits)
