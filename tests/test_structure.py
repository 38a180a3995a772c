"""The house: no import cycles, and no file too long to read in one sitting.

The import graph is read from the source (the AST), not from a running interpreter, so it sees
every import a module can make:

- `import a.b` is an edge to `a.b`; `from a import b` is an edge to `a.b` when `a.b` is a module
  (a submodule import), else to `a`; relative imports are resolved against the importing module;
- imports inside functions count (they run, only later);
- imports under `if TYPE_CHECKING:` count too: they never run, but a type named across a cycle
  still ties the two modules together for whoever reads them (a flow that names the engine's
  class is tied to the engine). What a module needs of one above it is a Protocol of its own
  (conversations/turn.py's `TurnHost` and `Flow`);
- importing `a.b` runs `a/__init__.py` first, but that is not counted as an edge to `a`: a
  package's `__init__` may gather its own modules without every module "depending" on it.

A cycle is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("bot", "conversations", "knowledge")
MAX_LINES = 450


def module_files() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (in functions, under TYPE_CHECKING)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the three packages it imports."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _base(module, path, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_has_the_known_edges() -> None:
    graph = import_graph()
    assert "conversations.turn" in graph["conversations.engine"]  # from conversations.turn import Turn
    assert "conversations.chain.commands" in graph["conversations.chain.flow"]  # from package import module
    assert "conversations.turn" in graph["conversations.flows.triage"]  # under TYPE_CHECKING
    assert "conversations.flows.log" in graph["conversations.flows"]  # inside a function
    assert "knowledge" in graph["conversations.engine"]


@pytest.mark.parametrize(
    "package",
    [
        "bot",
        "conversations",
        "knowledge",
    ],
)
def test_no_import_cycle(package: str) -> None:
    found = [c for c in cycles(import_graph()) if any(m.split(".")[0] == package for m in c)]
    assert found == []


def _long_files(package: str) -> dict[str, int]:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    return {path: n for path, n in lengths.items() if n > MAX_LINES}


@pytest.mark.parametrize(
    "package",
    [
        "bot",
        "conversations",
        "knowledge",
    ],
)
def test_no_file_over_the_limit(package: str) -> None:
    assert _long_files(package) == {}
