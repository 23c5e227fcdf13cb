"""Images per second of vtt's TimeSeriesRenderer against a plain matplotlib line plot.

    python tools/benchmarks/renderer_speed.py [--num-series 2048] [--steps 12] [--image-size 224]

Both render the same series to RGB images of the same size. The matplotlib baseline is what a
straightforward script does (and what the seed pipeline pre-rendered to PNG): a new figure per
series, one line, drawn with Agg and read back as an RGB array (no PNG encoding, which would
only make it slower). vtt is timed for float32 output (what the vision encoder consumes) and
uint8 output (the same type matplotlib produces), each into fresh memory and into a reused output
buffer (``out=``): at large batches, first touches of freshly allocated pages cost more than
drawing.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def series_batch(num: int, steps: int, seed: int = 0) -> torch.Tensor:
    """Crop-phenology-like series from the synthetic generator (14 variates per sample)."""
    from vtt.datasets.synthetic import generate_crop_phenology
    frame = generate_crop_phenology(seed=seed)
    cube = frame.drop(columns=['sample_id', 'label']).to_numpy().reshape(len(frame), 14, 37)
    flat = cube[:, :, :steps].reshape(-1, steps)
    return torch.tensor(np.resize(flat, (num, steps)), dtype=torch.float32)


def time_vtt(series, image_size, out_dtype, repeats, batch, reuse_output=False):
    from vtt.models.renderers import TimeSeriesRenderer
    renderer = TimeSeriesRenderer(image_size=image_size, out_dtype=out_dtype)
    colours = torch.arange(series.shape[0]) % 14
    out = renderer(series[:batch], colours[:batch])  # warm-up
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, series.shape[0], batch):
            chunk = series[i:i + batch]
            buffer = out if reuse_output and len(chunk) == len(out) else None
            renderer(chunk, colours[i:i + batch], out=buffer)
        best = min(best, time.perf_counter() - start)
    return series.shape[0] / best


def time_matplotlib(series, image_size, count):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    colours = plt.get_cmap('tab20').colors
    start = time.perf_counter()
    for i in range(count):
        fig = plt.figure(figsize=(image_size / 100, image_size / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.plot(series[i].numpy(), color=colours[i % 14], linewidth=2)
        ax.axis('off')
        fig.canvas.draw()
        image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
    assert image.shape == (image_size, image_size, 3)
    return count / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-series', type=int, default=2048)
    parser.add_argument('--steps', type=int, default=12)
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=896, help='series per renderer call '
                        '(64 samples x 14 variates, one training batch)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--matplotlib-images', type=int, default=200)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    series = series_batch(args.num_series, args.steps)
    mpl = time_matplotlib(series, args.image_size, args.matplotlib_images)
    rows = [('matplotlib (figure per series, Agg, RGB array)', mpl, 1.0)]
    for dtype, reuse in (('float32', False), ('uint8', False), ('float32', True),
                         ('uint8', True)):
        rate = time_vtt(series, args.image_size, dtype, args.repeats, args.batch, reuse)
        label = f'vtt TimeSeriesRenderer ({dtype}{", reused output buffer" if reuse else ""})'
        rows.append((label, rate, rate / mpl))

    from rich.console import Console
    from rich.table import Table
    table = Table(title=f'{args.image_size}x{args.image_size} line plots of {args.steps}-step '
                  f'series, {torch.get_num_threads()} torch threads')
    table.add_column('renderer')
    table.add_column('images/s', justify='right')
    table.add_column('x matplotlib', justify='right')
    for name, rate, ratio in rows:
        table.add_row(name, f'{rate:,.0f}', f'{ratio:,.1f}')
    Console().print(table)
    for name, rate, ratio in rows[1:]:
        print(f'{name}: {rate:.0f} images/s, {ratio:.1f}x matplotlib ({mpl:.0f} images/s)')


if __name__ == '__main__':
    main()
