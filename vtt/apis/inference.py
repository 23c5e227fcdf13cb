"""Load a trained model and classify new series outside the training loop."""
from typing import List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from vtt.registry import MODELS
from vtt.utils.cli import load_config

__all__ = ['init_model', 'predict_series']


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the model of ``config`` and load ``checkpoint`` (safely: see
    :mod:`vtt.utils.compat`). The checkpoint brings the training split's normalisation
    statistics and class weights with it. Returns the model in eval mode on ``device``."""
    from vtt.setup_env import register_all_modules
    register_all_modules()
    cfg = load_config(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        classes = ckpt.get('meta', {}).get('dataset_meta', {}).get('classes')
        if classes:
            model.dataset_meta = dict(classes=classes)
    return model.to(device).eval()


@torch.no_grad()
def predict_series(model: torch.nn.Module, series: Union[np.ndarray, torch.Tensor],
                   batch_size: int = 128,
                   masks: Optional[Union[np.ndarray, torch.Tensor]] = None) -> List[dict]:
    """Classify raw (un-normalised) series ``[N, V, T]`` with the same preprocessing as in
    training. ``masks`` ``[N, T]`` (bool, True = valid step) marks the padding of
    variable-length series, as the datasets' ``mask`` field does. Returns one dict per series
    with ``pred_label``, ``pred_score`` (and ``pred_class`` when the checkpoint recorded class
    names)."""
    series = torch.as_tensor(np.asarray(series), dtype=torch.float32)
    if series.dim() != 3:
        raise ValueError(f'series must be [N, V, T], got shape {tuple(series.shape)}')
    if masks is not None:
        masks = torch.as_tensor(np.asarray(masks), dtype=torch.bool)
        if masks.shape != (series.shape[0], series.shape[2]):
            raise ValueError(f'masks must be [N, T] = {(series.shape[0], series.shape[2])}, '
                             f'got shape {tuple(masks.shape)}')
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = []
    for start in range(0, len(series), batch_size):
        batch = slice(start, start + batch_size)
        samples = None if masks is None else dict(mask=masks[batch])
        data = model.data_preprocessor(dict(inputs=series[batch], data_samples=samples), False)
        for result in model.predict(data['inputs'], data['data_samples']):
            if classes:
                result['pred_class'] = classes[result['pred_label']]
            results.append(result)
    return results
