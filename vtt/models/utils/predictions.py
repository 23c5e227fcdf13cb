"""Turning batched model outputs into the per-sample records metrics consume."""
from typing import Dict, List, Mapping, Optional

import torch

__all__ = ['pack_predictions', 'GROUND_TRUTH_KEYS']

#: Batch fields copied into every prediction record, as ``{batch key: record key}``.
GROUND_TRUTH_KEYS = {'label': 'gt_label', 'labels': 'gt_labels', 'target': 'gt_target',
                     'index': 'index'}


def _item(value: torch.Tensor):
    return value.item() if value.dim() == 0 else value


def pack_predictions(outputs: Mapping[str, torch.Tensor],
                     data_samples: Optional[dict] = None) -> List[Dict]:
    """One dict per sample from batched outputs, plus the batch's ground truth.

    Args:
        outputs: Tensors with the batch first, e.g. ``pred_score [B, C]`` and
            ``pred_label [B]`` (0-d entries become Python numbers, others CPU tensors).
        data_samples: The batch's ``data_samples`` dict; its ``label``, ``labels``, ``target``
            and ``index`` fields are copied as ``gt_label``, ``gt_labels``, ``gt_target`` and
            ``index`` (see :data:`GROUND_TRUTH_KEYS`).

    Returns:
        list[dict]: ``B`` records, what vtt's metrics' ``process`` receives.
    """
    data_samples = data_samples if isinstance(data_samples, dict) else {}
    sizes = {len(v) for v in outputs.values()}
    if len(sizes) != 1:
        raise ValueError(f'outputs disagree on the batch size: '
                         f'{ {k: len(v) for k, v in outputs.items()} }')
    batch = sizes.pop()
    fields = dict(outputs)
    for key, record_key in GROUND_TRUTH_KEYS.items():
        if data_samples.get(key) is not None:
            fields[record_key] = torch.as_tensor(data_samples[key])
    # one device transfer per field, not one per sample
    fields = {k: v.detach().cpu() for k, v in fields.items()}
    return [{k: _item(v[i]) for k, v in fields.items()} for i in range(batch)]
