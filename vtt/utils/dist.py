"""Distributed training on machines without CUDA.

mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and its default DDP wrapper
passes ``device_ids=[LOCAL_RANK]``; both fail on a machine without CUDA.
:func:`init_cpu_distributed` initialises a gloo process group itself (mmengine then skips its
own init) and sets the ``model_wrapper_cfg`` to use.
"""
import os

import torch

__all__ = ['init_cpu_distributed']


def init_cpu_distributed(cfg) -> None:
    """Initialise ``torch.distributed`` with gloo on a machine without CUDA.

    Reads the torchrun environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``)
    and sets ``cfg.model_wrapper_cfg`` to a DDP wrapper without ``device_ids``. Does nothing when
    CUDA is available (mmengine's own NCCL path is used then) or the group is already up.
    """
    import torch.distributed as dist
    if torch.cuda.is_available() or (dist.is_available() and dist.is_initialized()):
        return
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs the torchrun environment; missing {missing}.'
                           ' Start it with tools/dist_train.sh or `torchrun`.')
    dist.init_process_group(
        backend='gloo', rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
