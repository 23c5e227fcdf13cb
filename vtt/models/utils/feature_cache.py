from typing import Callable, Dict, Hashable, List, Optional

import torch

__all__ = ['FrozenFeatureCache']


class FrozenFeatureCache:
    """Remember the output of a frozen, deterministic feature extractor per input row.

    Rows are keyed by their exact bytes plus an integer tag (e.g. the variate index, which
    changes the rendered colour), so the cache is keyed by the data itself: the same series in
    another split, batch or epoch hits it, a changed value misses. Everything else that changes
    the features (the extractor's weights, the renderer's settings) is the ``context`` of a
    lookup: when it differs from the previous lookup's, every stored feature is dropped first,
    so a stale feature cannot be returned after, e.g., ``load_state_dict`` of other weights.
    Features are kept on the CPU.
    """

    def __init__(self, max_items: int = 2_000_000):
        self.max_items = max_items
        self._store: Dict[bytes, torch.Tensor] = {}
        self._context: Optional[Hashable] = None
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()

    def lookup(self, rows: torch.Tensor, tags: torch.Tensor,
               compute: Callable[[torch.Tensor], torch.Tensor],
               context: Optional[Hashable] = None) -> torch.Tensor:
        """Features of ``rows [N, ...]``; ``compute(indices)`` returns features ``[M, D]`` for
        the rows (given as indices into ``rows``) that are not cached yet. ``context``: a
        hashable description of everything besides the rows that the features depend on."""
        if context != self._context:
            self._store.clear()
            self._context = context
        raw = rows.detach().to('cpu', torch.float32).contiguous().numpy()
        tag_list = tags.detach().cpu().tolist()
        keys: List[bytes] = [raw[i].tobytes() + int(t).to_bytes(4, 'little', signed=True)
                             for i, t in enumerate(tag_list)]
        missing = [i for i, k in enumerate(keys) if k not in self._store]
        first_of: Dict[bytes, int] = {}
        unique_missing = [i for i in missing if first_of.setdefault(keys[i], i) == i]
        self.misses += len(unique_missing)
        self.hits += len(keys) - len(missing)
        if unique_missing:
            index = torch.as_tensor(unique_missing, dtype=torch.long)
            computed = compute(index).detach().to('cpu')
            if len(self._store) + len(unique_missing) <= self.max_items:
                for i, feat in zip(unique_missing, computed):
                    self._store[keys[i]] = feat.clone()
            else:  # full: serve this batch without storing
                local = {keys[i]: f for i, f in zip(unique_missing, computed)}
                return torch.stack([self._store.get(k, local.get(k)) for k in keys])
        return torch.stack([self._store[k] for k in keys])
