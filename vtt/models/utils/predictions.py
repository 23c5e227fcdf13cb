from typing import List, Optional

import torch
import torch.nn.functional as F

__all__ = ['classification_predictions']


def classification_predictions(logits: torch.Tensor,
                               data_samples: Optional[dict] = None) -> List[dict]:
    """One dict per sample for the metrics: ``pred_score`` (softmax), ``pred_label``, and
    ``gt_label`` / ``index`` when the batch carries them."""
    scores = F.softmax(logits.float(), dim=-1).cpu()
    labels = scores.argmax(dim=-1).tolist()
    data_samples = data_samples or {}
    gt = data_samples.get('label')
    index = data_samples.get('index')
    results = []
    for i, label in enumerate(labels):
        result = dict(pred_score=scores[i], pred_label=label)
        if gt is not None:
            result['gt_label'] = int(gt[i])
        if index is not None:
            result['index'] = int(index[i])
        results.append(result)
    return results
