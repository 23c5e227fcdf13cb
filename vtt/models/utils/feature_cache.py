"""A cache of a frozen feature extractor's outputs, in memory and optionally on disk."""
import glob
import hashlib
import os
import os.path as osp
import uuid
from typing import Callable, Dict, Hashable, List, Optional

import torch

__all__ = ['FrozenFeatureCache']


class FrozenFeatureCache:
    """Remember the output of a frozen, deterministic feature extractor per input row.

    Rows are keyed by a hash of their exact bytes plus an integer tag (e.g. the variate index,
    which changes the rendered colour), so the cache is keyed by the data itself: the same
    series in another split, batch, epoch or run hits it, a changed value misses. Everything
    else that changes the features (the extractor's identity and weights, the renderer's
    settings, the dtype) is the ``context`` of a lookup: when it differs from the previous
    lookup's, the features stored in memory are dropped first, so a stale feature cannot be
    returned after, e.g., ``load_state_dict`` of other weights.

    **On disk** (``directory`` given), features persist across runs and processes: every
    context has its own folder ``directory/<sha256 of the context>/`` (so entries of another
    context can never be read for this one), holding safetensors shards of ``keys`` (uint8
    ``[M, 16]`` row hashes) and ``feats`` (``[M, D]``), each written atomically (temporary
    file + rename) and never modified. A lookup first loads the context's shards it has not
    seen (another process may have added some), then computes the rest; only the ``writer``
    (by default the process of rank 0: one writer under DDP, the others read what it wrote)
    adds a shard with them. Features are kept on the CPU.

    Args:
        max_items (int): Most rows kept in memory; beyond it a batch is served without
            storing. Defaults to 2,000,000.
        directory (str, optional): Root of the persistent cache. Defaults to None (memory
            only).
        writer (bool, optional): Whether this process writes shards. Defaults to rank 0.
    """

    def __init__(self, max_items: int = 2_000_000, directory: Optional[str] = None,
                 writer: Optional[bool] = None):
        self.max_items = max_items
        self.directory = directory
        self._writer = writer
        self._store: Dict[bytes, torch.Tensor] = {}
        self._context: Optional[Hashable] = None
        self._context_dir: Optional[str] = None
        self._loaded_shards: set = set()
        self.hits = 0
        self.misses = 0
        self.loaded = 0  # rows read from disk
        self.written = 0  # rows written to disk

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Forget what is in memory (the disk is untouched; it is re-read when needed)."""
        self._store.clear()
        self._loaded_shards.clear()

    @property
    def writer(self) -> bool:
        if self._writer is None:
            from mmengine.dist import get_rank
            return get_rank() == 0
        return self._writer

    @staticmethod
    def context_hash(context: Hashable) -> str:
        return hashlib.sha256(repr(context).encode()).hexdigest()[:32]

    # ------------------------------------------------------------------ disk
    def _enter(self, context: Hashable) -> None:
        self._store.clear()
        self._loaded_shards.clear()
        self._context = context
        self._context_dir = None
        if self.directory is not None:
            self._context_dir = osp.join(self.directory, self.context_hash(context))
            if self.writer:
                os.makedirs(self._context_dir, exist_ok=True)
                about = osp.join(self._context_dir, 'context.txt')
                if not osp.isfile(about):
                    from vtt.utils.io import atomic_open
                    with atomic_open(about, 'w', encoding='utf-8') as handle:
                        handle.write(repr(context) + '\n')

    def _read_new_shards(self) -> None:
        if self._context_dir is None or not osp.isdir(self._context_dir):
            return
        from safetensors.torch import load_file
        for path in sorted(glob.glob(osp.join(self._context_dir, 'shard-*.safetensors'))):
            if path in self._loaded_shards:
                continue
            self._loaded_shards.add(path)
            shard = load_file(path)
            for key, feat in zip(shard['keys'].numpy(), shard['feats']):
                if len(self._store) < self.max_items:
                    self._store.setdefault(key.tobytes(), feat)
            self.loaded += len(shard['keys'])

    def _write_shard(self, keys: List[bytes], feats: torch.Tensor) -> None:
        from safetensors.torch import save

        from vtt.utils.io import atomic_write_bytes
        name = f'shard-{os.getpid()}-{uuid.uuid4().hex[:12]}.safetensors'
        path = osp.join(self._context_dir, name)
        key_tensor = torch.frombuffer(bytearray(b''.join(keys)), dtype=torch.uint8)
        atomic_write_bytes(save(dict(keys=key_tensor.view(len(keys), 16).clone(),
                                     feats=feats.contiguous())), path)
        self._loaded_shards.add(path)
        self.written += len(keys)

    # ------------------------------------------------------------------ lookup
    def lookup(self, rows: torch.Tensor, tags: torch.Tensor,
               compute: Callable[[torch.Tensor], torch.Tensor],
               context: Optional[Hashable] = None) -> torch.Tensor:
        """Features of ``rows [N, ...]``; ``compute(indices)`` returns features ``[M, D]`` for
        the rows (given as indices into ``rows``) that are not cached yet. ``context``: a
        hashable description of everything besides the rows that the features depend on."""
        if context != self._context or (self.directory is not None
                                        and self._context_dir is None):
            self._enter(context)
        raw = rows.detach().to('cpu', torch.float32).contiguous().numpy()
        tag_list = tags.detach().cpu().tolist()
        keys: List[bytes] = [
            hashlib.blake2b(raw[i].tobytes() + int(t).to_bytes(4, 'little', signed=True),
                            digest_size=16).digest() for i, t in enumerate(tag_list)]
        missing = [i for i, k in enumerate(keys) if k not in self._store]
        if missing and self._context_dir is not None:
            self._read_new_shards()  # e.g. written meanwhile by another process
            missing = [i for i in missing if keys[i] not in self._store]
        first_of: Dict[bytes, int] = {}
        unique_missing = [i for i in missing if first_of.setdefault(keys[i], i) == i]
        self.misses += len(unique_missing)
        self.hits += len(keys) - len(missing)
        if unique_missing:
            index = torch.as_tensor(unique_missing, dtype=torch.long)
            computed = compute(index).detach().to('cpu')
            if self._context_dir is not None and self.writer:
                self._write_shard([keys[i] for i in unique_missing], computed)
            if len(self._store) + len(unique_missing) <= self.max_items:
                for i, feat in zip(unique_missing, computed):
                    self._store[keys[i]] = feat.clone()
            else:  # full: serve this batch without storing
                local = {keys[i]: f for i, f in zip(unique_missing, computed)}
                return torch.stack([self._store.get(k, local.get(k)) for k in keys])
        return torch.stack([self._store[k] for k in keys])

    def report(self) -> dict:
        """``entries`` (in memory), ``hits``, ``misses``, ``loaded``/``written`` (rows from/to
        disk) and, with a directory, ``disk_bytes`` and ``shards`` of the current context and
        ``disk_bytes_total`` of all contexts."""
        info = dict(entries=len(self), hits=self.hits, misses=self.misses, loaded=self.loaded,
                    written=self.written)
        if self.directory is not None:
            def size(pattern):
                files = glob.glob(pattern)
                return len(files), sum(osp.getsize(f) for f in files)
            if self._context_dir is not None:
                info['shards'], info['disk_bytes'] = size(
                    osp.join(self._context_dir, 'shard-*.safetensors'))
            info['disk_bytes_total'] = size(osp.join(self.directory, '*', 'shard-*'))[1]
            info['directory'] = self.directory
        return info
