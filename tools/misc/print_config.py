"""Print a config fully merged: every ``_base_`` file resolved, command-line overrides applied.

Usage::

    python tools/misc/print_config.py CONFIG [--cfg-options KEY=VALUE ...]

    # e.g. check what an override does before training with it
    python tools/misc/print_config.py configs/timesclip/dual_12s_demo.py \\
        --cfg-options train_cfg.max_epochs=7 model.embed_dims=256

The output is mmengine's Python config format (``Config.pretty_text``), so it can be saved and
used as a standalone config. Set ``VTT_DEBUG=1`` to see the traceback behind an ``error:`` line.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

# isort: split
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the fully merged config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=3 model.embed_dims=256')
    return parser.parse_args(argv)


def load_config(path, cfg_options=None):
    """The config at ``path`` with its bases merged and ``cfg_options`` applied."""
    from vtt.utils.cli import load_config as load
    cfg = load(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    # Only the config's own errors are handled here, not via vtt.utils.cli.user_errors: that
    # helper imports the model packages (torch, transformers), seconds of start-up that printing
    # a config never needs.
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (FileNotFoundError, SyntaxError) as error:
        if os.environ.get('VTT_DEBUG'):
            raise
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
