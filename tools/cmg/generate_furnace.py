"""Write the SYNTHETIC furnace current + video data to an .npz (atomically).

    python tools/cmg/generate_furnace.py data/furnace_synth.npz --lead 4
    python tools/cmg/generate_furnace.py data/furnace_maps.npz --video maps --lead 6 --seed 1

The arrays and their layout are the furnace data contract (``FurnaceDataset(data_file=...)``
reads the group's own records in the same layout; see ``docs/research_lines/cmg.md``). The same
arguments always give the same file. Prints the shapes and the abnormal share.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='the .npz to write')
    parser.add_argument('--num-sequences', type=int, default=60)
    parser.add_argument('--steps', type=int, default=160)
    parser.add_argument('--lead', type=int, default=4,
                        help='steps by which the current shows an episode before the video')
    parser.add_argument('--samples-per-step', type=int, default=8)
    parser.add_argument('--current-noise', type=float, default=0.35)
    parser.add_argument('--video-noise', type=float, default=0.3)
    parser.add_argument('--abnormal-share', type=float, default=0.4)
    parser.add_argument('--video', choices=('vector', 'maps'), default='vector')
    parser.add_argument('--video-dims', type=int, default=16)
    parser.add_argument('--map-size', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from vtt.datasets.synthetic import write_furnace_npz
    from vtt.utils.cli import user_errors
    kwargs = {k: v for k, v in vars(args).items() if k != 'out'}
    with user_errors():
        arrays = write_furnace_npz(args.out, **kwargs)
    for key, value in arrays.items():
        print(f'{key}: {value.dtype} {list(value.shape)}')
    print(f"abnormal share (video labels): {arrays['video_labels'].mean():.3f}; "
          f'wrote {args.out} (SYNTHETIC)')


if __name__ == '__main__':
    main()
