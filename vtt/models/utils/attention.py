"""Attention helpers shared by encoders and necks."""
from typing import Optional

import torch

__all__ = ['attendable_padding_mask']


def attendable_padding_mask(key_padding_mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """``key_padding_mask [B, N]`` (True = ignore) with fully padded rows un-masked.

    A row whose keys are all padding would make the attention softmax NaN, and the NaN reaches
    the parameters' gradients even when the row's outputs are weighted 0 in the loss. Letting
    such a row attend to its (padding) keys keeps it finite; callers ignore its outputs anyway.
    """
    if key_padding_mask is None:
        return None
    key_padding_mask = key_padding_mask.bool()
    return key_padding_mask & ~key_padding_mask.all(dim=-1, keepdim=True)
