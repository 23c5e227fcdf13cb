"""The weather-chart cascade from Python: gate -> elements -> candidate products -> product.

::

    cascade = MeteoCascade(gate='gate.pth', elements='elements.pth', products='products.pth',
                           vocab='data/meteo/labels.yaml')
    for record in cascade.run(['a.png', 'b.jpg']):
        print(record)   # {"path", "is_meteo", "gate_score", "gate_threshold",
                        #  "elements": [{"id", "score", "beam"}], "element_decoding",
                        #  "candidates": [...], "products": [{"id", "name", "prob",
                        #  "log_likelihood"}, ...], "product", "product_temperature"}

Stage 1 (the gate) decides whether an image is a weather chart at the threshold calibrated on
validation and saved in its checkpoint. Stage 2 (the CNN-RNN element recogniser) names the
elements of every chart the gate passed. Stage 3 (the product classifier) takes the products
whose required elements were mostly detected (the half-match filter) and ranks them by the
language model's log-likelihood given the image and the elements, with probabilities at the
temperature fitted on validation; the ``top_k`` best are reported. Later stages are optional:
without ``products`` the records stop at the elements, without ``elements`` at the gate.

A stage is a checkpoint (or a folder holding ``best_*.pth`` / ``last_checkpoint``); its config is
read from the checkpoint (mmengine stores it there) unless given. Of a config's test pipeline
only the deterministic resizing is applied (the augmentations are for training and
evaluation). An image that cannot be read gets ``{"path": ..., "error": ...}`` and the run goes
on.
"""
import glob
import os.path as osp
from typing import Callable, Iterable, Iterator, List, Optional

import torch

from vtt.utils.errors import ConfigError

__all__ = ['MeteoCascade', 'load_stage', 'resolve_checkpoint']


def resolve_checkpoint(path: str) -> str:
    """``path`` itself, or for a work directory its best checkpoint (``best_*.pth``, the
    newest), else the one named by its ``last_checkpoint`` file."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        best = sorted(glob.glob(osp.join(path, 'best_*.pth')), key=osp.getmtime)
        if best:
            return best[-1]
        last = osp.join(path, 'last_checkpoint')
        if osp.isfile(last):
            with open(last) as handle:
                named = handle.read().strip()
            if osp.isfile(named):
                return named
        raise FileNotFoundError(f'{path} holds no best_*.pth and no last_checkpoint')
    raise FileNotFoundError(f'checkpoint file not found: {path}')


def load_stage(checkpoint: str, config=None, option: str = '--gate-config'):
    """``(model, resize transforms, config)`` of one stage's checkpoint."""
    from mmengine.config import Config

    from vtt.registry import TRANSFORMS
    from vtt.utils.cli import load_config
    from vtt.utils.compat import safe_torch_load

    from .inference import init_model
    checkpoint = resolve_checkpoint(checkpoint)
    if config is not None:
        cfg = load_config(config) if isinstance(config, str) else config
    else:
        text = (safe_torch_load(checkpoint).get('meta') or {}).get('cfg')
        if not text:
            raise ConfigError(f'{checkpoint} carries no config; pass it with {option}')
        cfg = Config.fromstring(text, '.py')
    model = init_model(cfg, checkpoint)
    dataset = cfg.test_dataloader.dataset
    pipeline = (dataset.get('charts') or dataset).get('pipeline', [])
    resize = [TRANSFORMS.build(t) for t in pipeline if t.get('type') == 'TorchVisionTransform']
    return model, resize, cfg


def _element_names(model) -> List[str]:
    """The element ids of an elements model, in its label order (from the checkpoint's
    dataset meta; indices as strings when the checkpoint has none)."""
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    return list(classes) if classes else [str(i) for i in range(model.head.num_labels)]


@torch.no_grad()
def _predict(model, tensors):
    data = model.data_preprocessor(dict(inputs=torch.stack(tensors)), False)
    return model.predict(data['inputs'])


class MeteoCascade:
    """Gate, element recogniser and product classifier chained over image files.

    Args:
        gate (str): Gate checkpoint (or work directory).
        elements (str, optional): Element recogniser checkpoint (stage 2).
        products (str, optional): Product classifier checkpoint (stage 3; needs ``elements``).
        gate_config, elements_config, products_config (str, optional): Configs, when the
            checkpoints carry none.
        vocab (str, optional): ``labels.yaml`` with the products and their elements, for stage
            3. Defaults to the one the products checkpoint was trained with, when it still
            exists.
        top_k (int): Products reported per chart. Defaults to 5.
    """

    def __init__(self, gate: str, elements: Optional[str] = None,
                 products: Optional[str] = None, gate_config=None, elements_config=None,
                 products_config=None, vocab: Optional[str] = None, top_k: int = 5):
        if products and not elements:
            raise ConfigError('the product stage needs the element stage (--elements): its '
                              'candidates come from the detected elements')
        self.gate = load_stage(gate, gate_config)
        self.elements = (load_stage(elements, elements_config, '--elements-config')
                         if elements else None)
        if self.elements and not hasattr(self.elements[0].head, 'beam_search'):
            raise ConfigError(f'{elements} is not an element recogniser (its head is '
                              f'{type(self.elements[0].head).__name__}, not CNNRNNLabelHead)')
        self.products = (load_stage(products, products_config, '--products-config')
                         if products else None)
        self.top_k = top_k
        self.vocab = None
        if self.products:
            model = self.products[0]
            if not hasattr(model, 'score_candidates'):
                raise ConfigError(f'{products} is not a product classifier (its model is '
                                  f'{type(model).__name__}, not ChartProductClassifier)')
            self.vocab = self._vocabulary(vocab, products)
            data = self.products[2].test_dataloader.dataset
            self.threshold = float(data.get('threshold', 0.5))
            self.name_field = data.get('name_field', 'en')
            self.product_field = data.get('product_field', 'zh')

    def _vocabulary(self, vocab, products):
        from vtt.datasets.meteo_charts import MeteoVocabulary
        from vtt.utils.compat import safe_torch_load
        if vocab is None:
            meta = safe_torch_load(resolve_checkpoint(products)).get('meta') or {}
            vocab = (meta.get('dataset_meta') or {}).get('vocab_path')
            if not vocab or not osp.isfile(vocab):
                raise ConfigError(f'{products}: the product stage needs the vocabulary '
                                  f'(labels.yaml with the products and their elements); the '
                                  f'checkpoint names {vocab!r}, which is not here: pass --vocab')
        return MeteoVocabulary.from_yaml(vocab)

    # ------------------------------------------------------------------ stage 3
    def rank_products(self, image: torch.Tensor, element_ids: Iterable[str]) -> dict:
        """Stage 3 on one chart: candidates from ``element_ids`` and their probabilities.

        Returns:
            dict: ``candidates`` (ids, filter order), ``products`` (the ``top_k`` best as
            ``{"id", "name", "prob", "log_likelihood"}``), ``product`` (the best id or None),
            ``product_temperature``.
        """
        from vtt.datasets.meteo_products import element_names, product_candidates, product_names
        model = self.products[0]
        known = [e for e in self.vocab.elements if e in set(element_ids)]
        candidates = [pid for pid, _ in product_candidates(known, self.vocab, self.threshold)]
        temperature = float(model.temperature)
        out = dict(candidates=candidates, products=[], product=None,
                   product_temperature=round(temperature, 6))
        if not candidates:
            return out
        names = product_names(candidates, self.vocab, self.product_field)
        scores = model.score_candidates(image, element_names(known, self.vocab, self.name_field),
                                        names)['scores']
        probs = (scores / temperature).softmax(-1)
        order = probs.argsort(descending=True)[:self.top_k].tolist()
        out['products'] = [dict(id=candidates[i], name=names[i], prob=round(float(probs[i]), 6),
                                log_likelihood=round(float(scores[i]), 4)) for i in order]
        out['product'] = candidates[order[0]]
        return out

    # ------------------------------------------------------------------ all stages
    @torch.no_grad()
    def run(self, paths: Iterable[str], batch_size: int = 16,
            on_batch: Optional[Callable[[int], None]] = None,
            counts: Optional[dict] = None) -> Iterator[dict]:
        """Yield one record per image, in input order (batches of ``batch_size`` through the
        gate and the element recogniser; ``on_batch(n)`` after every ``n`` records; ``counts``
        (a dict) receives images / charts / other / unreadable)."""
        from PIL import Image

        from vtt.datasets.meteo_charts import image_to_tensor, run_pipeline
        counts = counts if counts is not None else {}
        for key in ('images', 'charts', 'other', 'unreadable'):
            counts.setdefault(key, 0)
        stages = [s for s in (self.gate, self.elements, self.products) if s]
        batch, records = [], []  # batch: (index into records, one tensor per stage)
        for path in paths:
            counts['images'] += 1
            records.append(dict(path=path))
            try:
                with Image.open(path) as image:
                    image = image.convert('RGB')
                tensors = [image_to_tensor(run_pipeline(s[1], dict(img=image))['img'])
                           for s in stages]
            except Exception as error:  # any decoding failure: report the file and go on
                counts['unreadable'] += 1
                records[-1]['error'] = f'{type(error).__name__}: {error}'
                continue
            batch.append((len(records) - 1, tensors))
            if len(batch) == batch_size:
                yield from self._flush(batch, records, counts, on_batch)
                batch, records = [], []
        yield from self._flush(batch, records, counts, on_batch)

    def _flush(self, batch, records, counts, on_batch):
        gate_model = self.gate[0]
        threshold = float(gate_model.head.threshold)
        charts = []
        gate_out = _predict(gate_model, [b[1][0] for b in batch]) if batch else []
        for (index, tensors), out in zip(batch, gate_out):
            score, is_meteo = float(out['pred_score']), bool(out['pred_label'])
            counts['charts' if is_meteo else 'other'] += 1
            records[index].update(is_meteo=is_meteo, gate_score=round(score, 6),
                                  gate_threshold=round(threshold, 6))
            if is_meteo and self.elements:
                charts.append((index, tensors))
        if charts:
            model = self.elements[0]
            names, decoding = _element_names(model), model.head.decode
            for (index, tensors), out in zip(charts, _predict(model, [c[1][1] for c in charts])):
                chosen = out['pred_label'].bool().tolist()
                found = [dict(id=names[j], score=round(float(out['pred_score'][j]), 6),
                              beam=round(float(out['beam_score'][j]), 6))
                         for j in range(len(names)) if chosen[j]]
                records[index].update(elements=sorted(found, key=lambda e: -e['score']),
                                      element_decoding=decoding)
                if self.products:
                    records[index].update(self.rank_products(
                        tensors[2], [e['id'] for e in records[index]['elements']]))
        yield from records
        if on_batch is not None:
            on_batch(len(records))
