"""List the components registered in vtt's registries (what a config's ``type=`` can name).

Usage::

    python tools/misc/list_components.py                    # every vtt registry
    python tools/misc/list_components.py models hooks       # only these (case-insensitive)
    python tools/misc/list_components.py --include-mmengine hooks   # plus mmengine's own
    python tools/misc/list_components.py --format json > components.json

Each row gives the registry (as named in ``vtt/registry.py``), the component's name, the module
that defines it and the first line of its docstring. By default only components registered in
the ``vtt`` scope are listed; ``--include-mmengine`` adds the entries of mmengine's parent
registries, marked with scope ``mmengine``.
"""
import argparse
import inspect
import json
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)
from vtt import registry as vtt_registry  # noqa: E402  (cheap: imports no components yet)


def registry_names():
    """The registries defined in vtt/registry.py, in the order it declares them."""
    return list(vtt_registry.__all__)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='List the components registered in vtt')
    parser.add_argument(
        'registries', nargs='*', metavar='REGISTRY',
        help='only list these registries, case-insensitive (e.g. models hooks); default: all')
    parser.add_argument('--include-mmengine', action='store_true',
                        help="also list the entries of mmengine's parent registries")
    parser.add_argument('--format', choices=['table', 'json'], default='table',
                        help='a rich table (default) or a JSON list of dicts')
    return parser.parse_args(argv)


def select_registries(requested):
    """Map the requested names (any case) to vtt's registry names; all of them if none.

    Raises:
        ValueError: a requested name is not a registry, with the valid names in the message.
    """
    valid = registry_names()
    if not requested:
        return valid
    by_lower = {name.lower(): name for name in valid}
    unknown = [name for name in requested if name.lower() not in by_lower]
    if unknown:
        raise ValueError(f'unknown registry {", ".join(map(repr, unknown))}; '
                         f'valid names: {", ".join(valid)}')
    selected = {by_lower[name.lower()] for name in requested}
    return [name for name in valid if name in selected]


def summary_line(obj):
    """First line of ``obj``'s own docstring ('' if it has none).

    ``__doc__`` rather than ``inspect.getdoc``: getdoc falls back to a base class's docstring,
    which would describe e.g. ``nn.Module`` instead of the component.
    """
    doc = obj.__doc__ if isinstance(getattr(obj, '__doc__', None), str) else ''
    lines = inspect.cleandoc(doc).splitlines()
    return lines[0].strip() if lines else ''


def component_rows(names, include_mmengine=False):
    """One dict per registered component: registry, name, module, doc, scope."""
    rows = []
    for registry_name in names:
        registry = getattr(vtt_registry, registry_name)
        scopes = [(registry.scope, registry)]
        if include_mmengine and registry.parent is not None:
            scopes.append((registry.parent.scope, registry.parent))
        for scope, reg in scopes:
            for name, obj in sorted(reg.module_dict.items()):
                rows.append(dict(registry=registry_name, name=name,
                                 module=getattr(obj, '__module__', '') or '',
                                 doc=summary_line(obj), scope=scope))
    return rows


def print_table(rows, show_scope=False, console=None):
    """Print ``rows`` as a rich table."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    table = Table(title='vtt components', caption=f'{len(rows)} components')
    table.add_column('registry', no_wrap=True)
    if show_scope:
        table.add_column('scope', no_wrap=True)
    table.add_column('name', no_wrap=True, style='bold')
    table.add_column('module', no_wrap=True)
    table.add_column('doc')
    for row in rows:
        cells = [row['registry']] + ([row['scope']] if show_scope else [])
        cells += [row['name'], row['module'], row['doc']]
        # Text, not str: docstrings hold ``[B, C]``-like shapes that rich would read as markup.
        table.add_row(*map(Text, cells))
    if not console.is_terminal:
        # Piped or redirected: widen past rich's 80-column default so that each component stays
        # on one line (grep-able) instead of being wrapped or cut with an ellipsis.
        unbounded = console.options.update_width(sys.maxsize)
        console.width = max(console.width, Measurement.get(console, unbounded, table).maximum)
    console.print(table)


def main(argv=None):
    args = parse_args(argv)
    # Validate before importing the components: a typo should fail in a moment, not seconds.
    try:
        names = select_registries(args.registries)
    except ValueError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)

    from vtt.setup_env import register_all_modules

    # Nothing is built here, so the default scope is left alone.
    register_all_modules(init_default_scope=False)
    rows = component_rows(names, include_mmengine=args.include_mmengine)
    if args.format == 'json':
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, show_scope=args.include_mmengine)


if __name__ == '__main__':
    main()
