"""What the frozen-feature cache saves: a TimesCLIP training epoch at REAL model size, without
and with the cache.

    python tools/benchmarks/timesclip_epoch.py [--samples 32] [--batch-size 16]
        [--cache-dir DIR] [--tiny]

Builds ``configs/timesclip/dual_12s.py``'s model at its real shapes - CLIP ViT-B/16 (224 px,
patch 16, 12 layers, width 768) and the CLIP text transformer (12 layers, width 512) - with
RANDOM weights (no download; the cost does not depend on the values), 14 variates and 12
steps, on ``--samples`` synthetic crop series. Two copies start from the same weights and see
the same batches:

* uncached: ``cache_vision_features=False``; every epoch renders and runs the ViT;
* cached: epoch 1 fills the cache (in memory, or on disk with ``--cache-dir``), epoch 2 reads
  it.

Both train two epochs (AdamW on the trainable parts), then predict the samples. Prints one
line::

    uncached_s=... cached_s=... ratio=... same_metrics=True|False

``uncached_s`` is the uncached model's epoch 2, ``cached_s`` the cached model's epoch 2,
``same_metrics`` whether both end with the same predictions, accuracy and macro-F1 (the cache
returns exactly the features the ViT would). With ``--cache-dir`` a second run of the tool is
the "warm process" case: its epoch 1 already reads from disk (``cold_cached_s``). ``--tiny``
uses small towers (for tests).
"""
import argparse
import copy
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
VIT_B16 = dict(image_size=224, patch_size=16, hidden_size=768, intermediate_size=3072,
               num_hidden_layers=12, num_attention_heads=12, projection_dim=512)
CLIP_TEXT = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048,
                 num_hidden_layers=12, num_attention_heads=8, projection_dim=512,
                 max_position_embeddings=77)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--cache-dir', help='keep the cached features on disk there')
    parser.add_argument('--tiny', action='store_true', help='small towers (for tests)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def model_cfg(args, cached):
    from mmengine.config import Config

    from vtt.testing import TINY_CLIP_TEXT, TINY_CLIP_VISION
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'timesclip', 'dual_12s.py')).model
    vision, text = (TINY_CLIP_VISION, TINY_CLIP_TEXT) if args.tiny else (VIT_B16, CLIP_TEXT)
    cfg.vision_encoder.update(pretrained=None, config=vision)
    cfg.text_encoder.update(pretrained=None, config=text)
    if args.tiny:
        cfg.renderer.update(image_size=vision['image_size'], scales=(1.0, ), margin=2)
        cfg.update(embed_dims=32)
        cfg.patch_tokenizer.update(num_heads=2)
        cfg.variate_selection.update(num_heads=2)
    cfg.cache_vision_features = cached
    cfg.feature_cache_dir = args.cache_dir if cached else None
    return cfg.to_dict()


def data(args):
    import numpy as np
    import torch

    from vtt.datasets.synthetic import generate_crop_phenology
    per_class = max(args.samples // 4 + 1, 1)
    frame = generate_crop_phenology(seed=args.seed, class_sizes=(per_class, ) * 4)
    frame = frame.iloc[:args.samples]
    columns = [c for c in frame.columns if c not in ('sample_id', 'label')]
    cube = frame[columns].to_numpy(np.float32).reshape(len(frame), 14, 37)[..., :12].copy()
    return torch.from_numpy(cube), torch.from_numpy(frame['label'].to_numpy().copy())


def run(model, inputs, labels, batch_size, epochs=2):
    """Train ``epochs`` epochs (fixed batch order); return the epoch times and the final
    predictions."""
    import torch
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    times = []
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for first in range(0, len(inputs), batch_size):
            batch = dict(inputs=inputs[first:first + batch_size],
                         data_samples=dict(label=labels[first:first + batch_size]))
            batch = model.data_preprocessor(batch, True)
            loss = sum(model(**batch, mode='loss').values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=inputs, data_samples=dict(label=labels)),
                                        False)
        logits = model(**batch, mode='tensor')
    return times, logits


def main(argv=None):
    args = parse_args(argv)
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import user_errors
    register_all_modules()
    with user_errors():
        import torch
        from sklearn.metrics import accuracy_score, f1_score

        from vtt.registry import MODELS
        inputs, labels = data(args)
        stats = dict(mean=inputs.mean((0, 2)), std=inputs.std((0, 2)),
                     class_counts=torch.bincount(labels, minlength=4).tolist())
        torch.manual_seed(args.seed)
        uncached = MODELS.build(model_cfg(args, cached=False))
        uncached.set_train_statistics(stats)
        cached = MODELS.build(model_cfg(args, cached=True))
        cached.load_state_dict(copy.deepcopy(uncached.state_dict()))
        cached.set_train_statistics(stats)
        results = {}
        for name, model in (('uncached', uncached), ('cached', cached)):
            torch.manual_seed(args.seed)  # the same dropout draws in both
            times, logits = run(model, inputs, labels, args.batch_size)
            pred = logits.argmax(-1).numpy()
            results[name] = dict(times=times, logits=logits, pred=pred,
                                 accuracy=accuracy_score(labels, pred),
                                 macro_f1=f1_score(labels, pred, average='macro'))
            print(f'{name}: epoch seconds {[round(t, 2) for t in times]}, accuracy '
                  f'{results[name]["accuracy"]:.4f}, macro-F1 {results[name]["macro_f1"]:.4f}',
                  file=sys.stderr, flush=True)
        a, b = results['uncached'], results['cached']
        same = bool((a['pred'] == b['pred']).all() and a['accuracy'] == b['accuracy']
                    and a['macro_f1'] == b['macro_f1']
                    and torch.allclose(a['logits'], b['logits'], atol=1e-3))
        report = cached.vision_cache.report()
        print(f'cache: {report}', file=sys.stderr)
        uncached_s, cached_s = a['times'][1], b['times'][1]
        print(f'uncached_s={uncached_s:.2f} cached_s={cached_s:.2f} '
              f'ratio={uncached_s / cached_s:.1f} same_metrics={same} '
              f'cold_cached_s={b["times"][0]:.2f} samples={args.samples} '
              f'images_per_epoch={args.samples * 14}', flush=True)


if __name__ == '__main__':
    main()
