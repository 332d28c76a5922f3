"""No import cycles in services/ and declic/: a module never needs, even through others, a module that needs it.

The graph is read from the source (ast), not from what Python happened to load: every `import` counts, at the
top of a module or inside a function (an import moved into a function hides a cycle, it does not remove it),
and so does one under `if TYPE_CHECKING:` (the two modules still depend on each other). When it was written the
only cycle was ingest's main ↔ background ↔ writer_process; there is no allow-list: a cycle is fixed where it is made.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "declic")

def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    """Every module of our packages, by dotted name."""
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, module: str, modules: Collection[str]) -> set[str]:
    """The modules among `modules` that `module` imports anywhere in its file: `from a import b` needs the module
    a.b when there is one, else a (b is then a name defined in a)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    return (found & set(modules)) - {module}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    modules = our_modules()
    return {module: imported_modules(path, module, modules) for module, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def a_path(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One cycle through `component`, as the chain of imports that closes it (for the failure message)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")


def test_no_module_of_services_or_declic_imports_itself_through_others() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles (one chain each, then every module caught in it):\n" + "\n".join(
        f"{' -> '.join(a_path(graph, c))}   [{', '.join(sorted(c))}]" for c in found)


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("from . import sibling\n\ndef later():\n    from pkg.other import thing\n    import pkg.third\n")
    modules = {"pkg", "pkg.module", "pkg.sibling", "pkg.other", "pkg.third", "elsewhere"}
    assert imported_modules(source, "pkg.module", modules) == {"pkg.sibling", "pkg.other", "pkg.third"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert a_path({"a": {"b"}, "b": {"a"}}, frozenset("ab")) == ["a", "b", "a"]
