"""Write a SYNTHETIC weather-chart collection in the meteo data contract and report its speed.

    python tools/meteo/generate_charts.py data/meteo_synthetic [--seed 0] [--num-meteo 480]
        [--num-negative 240] [--size 320 240]

The folder gets ``images/``, ``labels.jsonl``, ``labels.yaml`` and ``logos/`` (see
docs/research_lines/meteo.md); it must not exist yet. The same arguments give the same files.
Prints one line ``images=N seconds=S images_per_s=R``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from vtt.datasets.synthetic import write_meteo_charts  # noqa: E402
from vtt.utils.cli import user_errors  # noqa: E402
from vtt.utils.errors import ConfigError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='folder to create')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-meteo', type=int, default=480, help='charts (all products)')
    parser.add_argument('--num-negative', type=int, default=240, help='non-weather images')
    parser.add_argument('--size', type=int, nargs=2, default=(320, 240),
                        metavar=('WIDTH', 'HEIGHT'))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with user_errors():
        if osp.exists(args.root):
            raise ConfigError(f'{args.root} exists; choose a new folder or delete it')
        stats = write_meteo_charts(args.root, seed=args.seed, num_meteo=args.num_meteo,
                                   num_negative=args.num_negative, size=tuple(args.size))
    print(f'wrote {args.root}')
    print(f"images={stats['images']} seconds={stats['seconds']:.1f} "
          f"images_per_s={stats['images_per_s']:.1f}")


if __name__ == '__main__':
    main()
