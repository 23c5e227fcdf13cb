"""Do the modalities share the codebook? A 2-D map of CMG features coloured by modality, at the
start and at the end of pretraining.

    python tools/cmg/codes_plot.py configs/cmg/basicmotions_pretrain.py \
        work_dirs/basicmotions_pretrain/epoch_200.pth --split test --out codes.png

For every window of the split, each modality's semantic features (before quantization,
averaged over time) and the codes its tokens were assigned are projected to 2-D (PCA by
default, t-SNE with ``--method tsne``) in one common projection per panel; the left panel is
the model at initialisation (seeded, as pretraining starts), the right one the checkpoint (or
``--start CKPT`` for another start). Modalities that share semantics overlap on the right;
codes used by only one modality show as its own colour. Also prints per-panel code statistics.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the CMG pretraining config')
    parser.add_argument('checkpoint', help='checkpoint at the end of pretraining')
    parser.add_argument('--start', default=None,
                        help='checkpoint for the left panel (default: the initialised model)')
    parser.add_argument('--split', default='val')
    parser.add_argument('--method', choices=('pca', 'tsne'), default='pca')
    parser.add_argument('--max-windows', type=int, default=500)
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--out', default=None, help='default: <checkpoint dir>/codes.png')
    return parser.parse_args(argv)


def collect(model, loader, max_windows):
    """``{m: (features [N, D], codes [N * T, D], code ids [N * T])}`` over the loader's
    first batches (at least ``max_windows`` windows, or all)."""
    import torch
    model.eval()
    out = {}
    seen = 0
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            feats = model.extract_feat(data['inputs'])
            for m, z in feats['semantic'].items():
                ids = feats['indices'][m].reshape(-1)
                entry = out.setdefault(m, ([], [], []))
                entry[0].append(z.mean(1))
                entry[1].append(model.quantizer.embedding[ids])
                entry[2].append(ids)
            seen += len(next(iter(feats['semantic'].values())))
            if seen >= max_windows:
                break
    return {m: tuple(torch.cat(v).numpy() for v in parts) for m, parts in out.items()}


def project(blocks, method, seed):
    import numpy as np
    stacked = np.concatenate(blocks)
    if method == 'tsne':
        from sklearn.manifold import TSNE
        points = TSNE(2, init='pca', random_state=seed,
                      perplexity=min(30, max(5, len(stacked) // 4))).fit_transform(stacked)
    else:
        from sklearn.decomposition import PCA
        points = PCA(2, random_state=seed).fit_transform(stacked)
    out, start = [], 0
    for b in blocks:
        out.append(points[start:start + len(b)])
        start += len(b)
    return out


def main(argv=None):
    args = parse_args(argv)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from mmengine.runner import Runner, load_checkpoint

    from vtt.models.tokenizers import code_agreement
    from vtt.registry import MODELS
    from vtt.setup_env import register_all_modules
    from vtt.utils.cli import load_config
    from vtt.visualization.figure_io import save_figure
    register_all_modules()
    cfg = load_config(args.config)
    loader_cfg = dict(cfg.train_dataloader)
    loader_cfg['dataset'] = dict(loader_cfg['dataset'], split=args.split)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg)
    stats = loader.dataset.train_statistics()

    def model_at(checkpoint):
        torch.manual_seed(args.seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
        model.set_train_statistics(stats)
        if checkpoint:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        return model

    panels = [('start' if args.start is None else osp.basename(args.start),
               model_at(args.start)),
              (f'end ({osp.basename(args.checkpoint)})', model_at(args.checkpoint))]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, (title, model) in zip(axes, panels):
        data = collect(model, loader, args.max_windows)
        names = list(data)
        used = {m: np.unique(data[m][2]) for m in names}
        shared = set.intersection(*[set(u.tolist()) for u in used.values()])
        codes = model.quantizer.embedding.numpy()
        all_used = np.unique(np.concatenate(list(used.values())))
        points = project([data[m][0] for m in names] + [codes[all_used]], args.method, args.seed)
        for i, m in enumerate(names):
            ax.scatter(*points[i].T, s=8, alpha=0.5, label=f'{m} ({len(used[m])} codes)')
        ax.scatter(*points[-1].T, marker='x', c='k', s=30, label=f'codes ({len(shared)} shared)')
        per_window = {m: torch.from_numpy(data[m][2]).view(len(data[m][0]), -1) for m in names}
        agreement = float(code_agreement(per_window, model.quantizer.num_codes))
        ax.set_title(f'{title}: agreement {agreement:.2f}')
        ax.legend(fontsize=8)
        print(f'{title}: codes used ' + ' '.join(f'{m}={len(used[m])}' for m in names)
              + f' shared={len(shared)} agreement={agreement:.3f}')
    fig.suptitle(f'CMG semantic features and codes ({args.method.upper()}, {args.split} split)')
    out = args.out or osp.join(osp.dirname(args.checkpoint), 'codes.png')
    save_figure(fig, out)
    print(f'saved {out}')


if __name__ == '__main__':
    main()
