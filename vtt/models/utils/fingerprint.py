"""Content fingerprints of module weights (for caches and checkpoint records)."""
import hashlib
import itertools
from typing import Iterator, Tuple

import torch
from torch import nn

__all__ = ['weights_fingerprint']


def _tensors(module: nn.Module) -> Iterator[Tuple[str, torch.Tensor]]:
    # Parameters and all buffers (non-persistent ones too, e.g. image normalisation constants),
    # read directly: state_dict() would run hooks that leave out or add entries.
    return itertools.chain(module.named_parameters(), module.named_buffers())


def _versions(module: nn.Module) -> tuple:
    # Every in-place change of a parameter or buffer (optimizer steps, load_state_dict, copy_)
    # bumps its version counter; a replaced tensor changes its storage pointer. Together they
    # tell, without reading the weights, whether the cached hash can still be right.
    return tuple((name, t._version, t.data_ptr(), tuple(t.shape), str(t.dtype))
                 for name, t in _tensors(module))


def weights_fingerprint(module: nn.Module, refresh: bool = False) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``module``'s parameters and buffers.

    The hash is cached on the module and recomputed only when a parameter or buffer changed
    since (in-place update, ``load_state_dict``, replacement) or ``refresh`` is True, so calling
    it per batch is cheap. Changes made through ``tensor.data`` bypass the version counter; pass
    ``refresh=True`` after such changes.

    Returns:
        str: 64 hex digits.
    """
    versions = _versions(module)
    cached = getattr(module, '_vtt_weights_fingerprint', None)
    if not refresh and cached is not None and cached[0] == versions:
        return cached[1]
    digest = hashlib.sha256()
    for name, tensor in sorted(_tensors(module), key=lambda item: item[0]):
        tensor = tensor.detach().to('cpu').contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        if tensor.numel():
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    value = digest.hexdigest()
    object.__setattr__(module, '_vtt_weights_fingerprint', (versions, value))
    return value
