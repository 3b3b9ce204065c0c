"""The import graph of ``src/rasplab``: arrows point down the layers, and there are no circles.

The IR in ``lang`` is the hub. Each part of the package has a rank; a module
may import only parts of a lower rank (or its own part). A few lazy imports
that go up are deliberate and listed in ``ALLOWED_UPWARD``: Jupyter's display
hooks and calling a program to run it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rasplab"

# Lower ranks are imported by higher ones, never the other way round.
RANKS = {
    "errors": 0,
    "progress": 0,  # progress bars (tqdm): a leaf any long command may use, importing no rasplab module
    "lang": 1,
    "evaluate": 2,
    "analysis": 3,
    "library": 4,
    "compat": 4,
    "syntax": 4,
    "": 5,  # the package's own __init__: the public API of the layers below
    "model": 5,
    "programs": 5,  # program names (lib:NAME, file.py:ATTR, file.rasp) to s-ops
    "compiler": 6,
    "viz": 7,
    "puzzles": 8,
    "train": 8,
    "torch": 9,  # rasplab.torch, the short name for rasplab.model.torch
    "learn": 9,  # programs learned from examples: trains with torch, reads out to lang
    "lab": 9,  # the browser lab: serves the evaluator, viz, compiler and puzzles
    "cli": 10,
    "__main__": 11,
}

# (importing module, imported module): lazy imports inside functions that go up on purpose.
ALLOWED_UPWARD = {
    ("rasplab.lang.nodes", "rasplab.evaluate"),  # calling an s-op evaluates it
    ("rasplab.lang.base", "rasplab.viz.jupyter"),  # Jupyter display hooks
    ("rasplab.analysis", "rasplab.viz.jupyter"),
    ("rasplab.evaluate.trace", "rasplab.viz.jupyter"),
    # raspy's results display as drawings in Jupyter, drawn by viz when shown
    ("rasplab.compat.raspy.display", "rasplab.viz"),
    ("rasplab.compat.raspy.display", "rasplab.viz.jupyter"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(module: str, path: Path, node: ast.ImportFrom, known: dict[str, Path]) -> list[str]:
    """The rasplab modules one ``from ... import ...`` statement loads."""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("rasplab"):
        return []
    # `from rasplab import syntax` imports the submodule rasplab.syntax
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    return subs or [target]


def _type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:``, whose imports only the type checker runs."""
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports() -> list[tuple[str, str, bool]]:
    """Every (importer, imported, lazy) edge; lazy means inside a function or for types only."""
    known = _modules()
    edges = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy_nodes = {
            id(inner)
            for outer in ast.walk(tree)
            if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef) or _type_checking(outer)
            for inner in ast.walk(outer)
        }
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(module, path, node, known)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("rasplab")]
            edges += [(module, t, id(node) in lazy_nodes) for t in targets]
    return edges


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_part_has_a_rank():
    parts = {_part(m) for m in _modules()}
    assert parts <= set(RANKS), f"parts without a rank: {sorted(parts - set(RANKS))}"


def test_imports_point_down():
    upward = [
        f"{a} -> {b}" + (" (lazy)" if lazy else "")
        for a, b, lazy in _imports()
        if _part(a) != _part(b)
        and RANKS[_part(b)] >= RANKS[_part(a)]
        and not (lazy and (a, b) in ALLOWED_UPWARD)
    ]
    assert not upward, "imports that go up or sideways:\n" + "\n".join(sorted(upward))


# The evaluator's working parts (engine, kernels, columns...) are its own business:
# other layers use its package API, and the trace records it hands out.
EVALUATE_PUBLIC = {"rasplab.evaluate", "rasplab.evaluate.trace"}


def test_only_the_evaluators_public_modules_are_imported_from_outside():
    private = sorted(
        f"{a} -> {b}"
        for a, b, _ in _imports()
        if _part(b) == "evaluate" and _part(a) != "evaluate" and b not in EVALUATE_PUBLIC
    )
    assert not private, "imports of the evaluator's private modules:\n" + "\n".join(private)


def test_allow_list_is_still_needed():
    edges = {(a, b) for a, b, lazy in _imports() if lazy}
    stale = ALLOWED_UPWARD - edges
    assert not stale, f"allow-listed imports that no longer exist: {sorted(stale)}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle in ``graph`` if there is one (iterative DFS with colours)."""
    colour: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    for start in sorted(graph):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                return path[path.index(child) :] + [child]
            elif colour[child] == 0:
                colour[child] = 1
                stack.append((child, iter(sorted(graph.get(child, ())))))
                path.append(child)
    return None


def test_no_circular_imports_at_module_level():
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, lazy in _imports():
        # a package's __init__ importing its own modules is not a circle back to it
        if not lazy and a != b and not b.startswith(a + "."):
            graph[a].add(b)
    circle = _cycle(graph)
    assert circle is None, "circular import: " + " -> ".join(circle or [])


@pytest.mark.parametrize(
    "graph, has_cycle",
    [({"a": {"b"}, "b": {"c"}}, False), ({"a": {"b"}, "b": {"a"}}, True)],
)
def test_cycle_finder(graph, has_cycle):
    assert (_cycle(graph) is not None) == has_cycle
