"""CLUB: a contrastive log-ratio upper bound of mutual information (Cheng et al., ICML 2020)."""
import torch
from torch import nn

from vtt.registry import MODELS

__all__ = ['CLUBEstimator']


def _mlp(in_dims: int, hidden_dims: int, out_dims: int, num_hidden: int = 3) -> nn.Sequential:
    layers, dims = [], in_dims
    for _ in range(num_hidden):
        layers += [nn.Linear(dims, hidden_dims), nn.ReLU(inplace=True)]
        dims = hidden_dims
    layers.append(nn.Linear(dims, out_dims))
    return nn.Sequential(*layers)


@MODELS.register_module()
class CLUBEstimator(nn.Module):
    """Upper bound of I(x; y) through a variational Gaussian ``q(y | x)``.

    ``q(y | x) = N(mu(x), exp(logvar(x)))`` with two MLPs (``x_dims -> hidden x 3 -> y_dims``,
    ReLU; ``logvar`` ends in tanh), the sizes of CMG's code. Two uses, two losses:

    * :meth:`learning_loss` ``= -log q(y | x)`` (up to constants) trains ``q`` itself: its OWN
      optimizer, several steps per main step, on DETACHED ``x``, ``y`` (the model's algorithm
      runs those steps; CMG: 5, Adam 1e-3);
    * :meth:`forward` is the MI upper bound the MAIN model minimises (here between a modality's
      semantic and specific features, to keep them apart):
      ``mean over samples of sum_d [log q(y_i | x_i) - log q(y_j | x_i)] / 2`` with ``y_j`` the
      ``y`` of a randomly permuted sample (the CLUB-Sample estimator).

    ``x [..., x_dims]``, ``y [..., y_dims]`` with the same leading shape (``[B, T, D]``: each
    step is a sample; the permutation shuffles whole samples along B, keeping their steps).
    The official code averages over time before the ratio; vtt treats every (sample, step)
    as one pair of the bound.

    Args:
        x_dims, y_dims (int): Feature sizes.
        hidden_dims (int): Defaults to 128 (CMG's 256 // 2).
    """

    def __init__(self, x_dims: int, y_dims: int, hidden_dims: int = 128):
        super().__init__()
        self.mu = _mlp(x_dims, hidden_dims, y_dims)
        self.logvar = nn.Sequential(_mlp(x_dims, hidden_dims, y_dims), nn.Tanh())

    def _gaussian(self, x):
        return self.mu(x), self.logvar(x)

    def log_likelihood(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean over samples of ``sum_d [-(mu - y)^2 / var - logvar] / 2``."""
        mu, logvar = self._gaussian(x)
        return (-(mu - y).pow(2) / logvar.exp() - logvar).sum(-1).mean() / 2

    def learning_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """What q's own optimizer minimises (call it on detached features)."""
        return -self.log_likelihood(x, y)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape[:-1] != y.shape[:-1]:
            raise ValueError(f'CLUB pairs x {tuple(x.shape)} and y {tuple(y.shape)} must share '
                             'their leading dimensions')
        mu, logvar = self._gaussian(x)
        var = logvar.exp()
        positive = -(mu - y).pow(2) / var
        shuffled = y[torch.randperm(y.shape[0], device=y.device)]
        negative = -(mu - shuffled).pow(2) / var
        return (positive - negative).sum(-1).mean() / 2
