"""The import graph of the vtt package: no circles, and vtt.utils is a leaf layer.

Every import statement counts, also the ones inside functions (a lazy import is still a
dependency, and a circle through it is a circle in the design)."""
import ast
import os.path as osp
from pathlib import Path

ROOT = Path(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = ROOT / 'vtt'


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def _modules() -> dict:
    return {_module_name(p): p for p in PACKAGE.rglob('*.py')}


def _resolve(name: str, modules: dict) -> str:
    """The longest prefix of ``name`` that is a vtt module (``vtt.a.b.Class`` -> ``vtt.a.b``)."""
    while name and name not in modules:
        name = name.rpartition('.')[0]
    return name


def import_graph() -> dict:
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == '__init__.py' else name.rpartition('.')[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    anchor = package.split('.')
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = '.'.join(anchor + ([base] if base else []))
                targets = [f'{base}.{alias.name}' for alias in node.names] or [base]
            for target in targets:
                if target.split('.')[0] != 'vtt':
                    continue
                resolved = _resolve(target, modules)
                if resolved and resolved != name:
                    graph[name].add(resolved)
    return graph


def find_cycle(graph: dict):
    """One cycle as a list of modules, or None (iterative depth-first search)."""
    state = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50 and graph['vtt.models.algorithms.timesclip']  # parsed for real
    assert find_cycle(graph) is None, ' -> '.join(find_cycle(graph))


def test_cycle_finder_finds_cycles():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None


def test_utils_is_a_leaf_layer():
    upper = ('vtt.datasets', 'vtt.models', 'vtt.engine', 'vtt.evaluation', 'vtt.apis',
             'vtt.visualization', 'vtt.setup_env')
    for name, deps in import_graph().items():
        if name == 'vtt.utils' or name.startswith('vtt.utils.'):
            bad = sorted(d for d in deps if d.startswith(upper))
            assert not bad, f'{name} imports {bad}'
