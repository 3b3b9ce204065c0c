"""Statements: assignments, functions, loops and ``load``, run eagerly to build the IR.

The interpreter walks the parse tree once. Atoms, lists and dicts are
computed on the spot; s-ops and selectors become IR nodes. Errors carry the
file, line and column of the innermost expression that raised them, and the
call sites of the functions they passed through.

>>> from rasplab.syntax import parse
>>> prog = parse('def double(x) { return 2 * x; } y = double(indices);')
>>> prog["y"]("abc")
[0, 2, 4]
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError, RaspError, RaspTypeError
from ..lang.dsl import length
from ..lang.nodes import Indices, Length, Node, Tokens
from .errors import LoopLimitError, RaspLoadError, RecursionLimitError, located
from .expressions import Expressions
from .parser import parse_tree
from .scope import Scope
from .values import Limits, RaspFunction, TokenContext, _MixedTokenTypes, plural

if TYPE_CHECKING:
    from lark import Tree

__all__ = ["Interpreter", "Outcome"]

PYTHON_STACK = 10_000  # frames allowed while interpreting (about 9 per RASP call)


@dataclass
class Outcome:
    """What one top-level statement did, for the REPL to show."""

    kind: str  # expr, assign, def, for, load, draw, set_example, show_example, ...
    bindings: list[tuple[str, Any]] = field(default_factory=list)
    text: str = ""
    value: Any = None


class Interpreter(Expressions):
    """Runs statements in scopes; one interpreter serves one program (and its loads)."""

    def __init__(
        self,
        *,
        tokens: TokenContext,
        limits: Limits | None = None,
        filename: str | None = None,
        base_dir: Path | None = None,
        search_path: tuple[Path, ...] = (),
    ) -> None:
        self.tokens = tokens
        self.limits = limits or Limits()
        self.length = length
        self.search_path = tuple(Path(p) for p in search_path)
        self.files: list[tuple[str | None, Path | None]] = [(filename, base_dir)]
        self.loading: list[Path] = []
        self.steps = 0
        self.depth = 0
        self.labels: dict[str, int] = {}
        self.base: Scope | None = None
        self.example: Any = None

    @property
    def filename(self) -> str | None:
        return self.files[-1][0]

    # ------------------------------------------------------------ entry points

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """Room on the Python stack, and only ``RaspError`` escapes."""
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, PYTHON_STACK))
        try:
            yield
        except (RaspError, _MixedTokenTypes):
            raise
        except RecursionError:
            raise RecursionLimitError("the program nests too deeply to run") from None
        except Exception as err:  # a failure this interpreter did not foresee
            raise EvaluationError(f"{type(err).__name__}: {err}") from err
        finally:
            sys.setrecursionlimit(old)

    def run(self, items: list[Tree], scope: Scope) -> list[Outcome]:
        """Run top-level items in order (a fresh step budget); stops after ``exit``."""
        self.steps = 0
        outcomes = []
        with self.guarded():
            for item in items:
                outcome = self.execute(item, scope)
                outcomes.append(outcome)
                if outcome.kind == "exit":
                    break
        return outcomes

    def execute(self, tree: Tree, scope: Scope) -> Outcome:
        handler = getattr(self, f"_s_{tree.data}", None)
        if handler is None:
            raise EvaluationError(f"cannot run a {tree.data!r} statement")
        try:
            return handler(tree, scope)
        except RaspError as err:
            raise located(err, self.filename, *_position(tree)) from None
        except RecursionError:
            too_deep = RecursionLimitError("the program nests too deeply to run")
            raise located(too_deep, self.filename, *_position(tree)) from None

    # ------------------------------------------------------------ bookkeeping

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise LoopLimitError(
                f"the program ran more than {self.limits.max_steps} loop steps and calls "
                "(max_steps); is a loop or a recursion runaway? Raise the limit with "
                "Limits(max_steps=...)"
            )

    def reserve(self, steps: int, what: str) -> None:
        """Refuse at once a loop whose items alone (one step each) would pass ``max_steps``."""
        if self.steps + steps > self.limits.max_steps:
            raise LoopLimitError(
                f"{what} over {steps} items: the program would run more than "
                f"{self.limits.max_steps} loop steps and calls (max_steps; "
                f"{self.steps} used so far); raise the limit with Limits(max_steps=...)"
            )

    def unique_label(self, name: str) -> str:
        count = self.labels.get(name, 0) + 1
        self.labels[name] = count
        return name if count == 1 else f"{name}_{count}"

    def bind(self, scope: Scope, name: str, value: Any, *, rename: bool = True) -> None:
        """Assign; a freshly built s-op or selector takes the name as its label."""
        primitive = isinstance(value, Tokens | Indices | Length)
        if rename and isinstance(value, Node) and value.name is None and not primitive:
            value = value.named(self.unique_label(name))
        scope.assign(name, value)

    # ------------------------------------------------------------ statements

    def _s_expr_stmt(self, tree: Tree, scope: Scope) -> Outcome:
        value = self.eval(tree.children[0], scope)
        scope.set("out", value)
        return Outcome("expr", [("out", value)])

    def _s_assign(self, tree: Tree, scope: Scope) -> Outcome:
        names = [str(t) for t in tree.children[0].children]
        values = self.eval_all(tree.children[1], scope)
        value = values[0] if len(values) == 1 else values
        if len(names) > 1 and (not isinstance(value, list) or len(value) != len(names)):
            got = f"{len(value)} values" if isinstance(value, list) else "one value"
            raise RaspTypeError(f"expected {len(names)} values for {', '.join(names)}, got {got}")
        items = [value] if len(names) == 1 else value
        for name, item in zip(names, items, strict=True):
            self.bind(scope, name, item)
        scope.set("out", value)
        return Outcome("assign", [(name, scope.vars[name]) for name in names])

    def _s_funcdef(self, tree: Tree, scope: Scope) -> Outcome:
        name_token, params, *body, returns = tree.children
        names = [str(t) for t in params.children] if params is not None else []
        if len(set(names)) != len(names):
            raise RaspTypeError(f"function {name_token} repeats a parameter name: {names}")
        fn = RaspFunction(str(name_token), names, body, returns, scope, self, self.files[-1])
        scope.assign(fn.name, fn)
        return Outcome("def", [(fn.name, fn)])

    def _s_forloop(self, tree: Tree, scope: Scope) -> Outcome:
        names, iterable, *body = tree.children
        targets = [str(t) for t in names.children]
        for item in self.iterate(self.eval(iterable, scope), len(targets)):
            self.tick()
            self.bind_targets(scope, targets, item, rename=False)
            for statement in body:
                self.execute(statement, scope)
        return Outcome("for")

    def _s_draw(self, tree: Tree, scope: Scope) -> Outcome:
        values = [self.eval(child, scope) for child in tree.children if child is not None]
        return Outcome("draw", value=values)

    def _s_set_example(self, tree: Tree, scope: Scope) -> Outcome:
        value = self.eval(tree.children[1], scope)
        self.example = value
        return Outcome("set_example", text=str(tree.children[0]), value=value)

    def _s_show_example(self, tree: Tree, scope: Scope) -> Outcome:
        return Outcome("show_example", text=str(tree.children[0]))

    def _s_toggle_examples(self, tree: Tree, scope: Scope) -> Outcome:
        return Outcome("toggle_examples", text=str(tree.children[0]))

    def _s_toggle_seq(self, tree: Tree, scope: Scope) -> Outcome:
        return Outcome("toggle_seq", text=str(tree.children[0]))

    def _s_exit(self, tree: Tree, scope: Scope) -> Outcome:
        return Outcome("exit", text=str(tree.children[0]))

    # ------------------------------------------------------------ functions

    def call_function(self, fn: RaspFunction, args: list[Any], site: Tree | None = None) -> Any:
        if len(args) != len(fn.params):
            raise RaspTypeError(
                f"{fn.name}({', '.join(fn.params)}) takes "
                f"{plural(len(fn.params), 'argument')}, got {len(args)}"
            )
        self.tick()
        if self.depth >= self.limits.max_call_depth:
            raise RecursionLimitError(
                f"function calls nest more than {self.limits.max_call_depth} deep "
                f"(calling {fn.name}); is a recursion unbounded? Raise the limit with "
                "Limits(max_call_depth=...)"
            )
        caller = self.filename
        with self.guarded():
            try:
                return self._call(fn, args)
            except RaspError as err:
                raise _called_from(err, fn, caller, site) from None

    def _call(self, fn: RaspFunction, args: list[Any]) -> Any:
        scope = Scope(fn.closure, name=fn.name)
        for name, value in zip(fn.params, args, strict=True):
            scope.assign(name, value)
        self.depth += 1
        self.files.append(fn.home)
        try:
            for statement in fn.body:
                self.execute(statement, scope)
            try:
                values = self.eval_all(fn.returns.children[0], scope)
            except RaspError as err:
                raise located(err, self.filename, *_position(fn.returns)) from None
        finally:
            self.depth -= 1
            self.files.pop()
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ load

    def _s_load(self, tree: Tree, scope: Scope) -> Outcome:
        name = str(tree.children[0])[1:-1]
        path = self._resolve(name)
        key = path.resolve()
        if key in self.loading:
            chain = " -> ".join(p.name for p in [*self.loading, key])
            raise RaspLoadError(f"load cycle: {chain}")
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise RaspLoadError(f"cannot read {path}: {err}") from None
        items = parse_tree(source, filename=str(path), limits=self.limits).children
        file_scope = Scope(self.base, name=path.stem, exports_to=scope)
        self.loading.append(key)
        self.files.append((str(path), path.parent))
        try:
            for item in items:
                if self.execute(item, file_scope).kind == "exit":
                    break
        finally:
            self.loading.pop()
            self.files.pop()
        exported = [
            (n, file_scope.vars[n]) for n in file_scope.history if n != "out" and n[:1] != "_"
        ]
        return Outcome("load", exported, text=str(path))

    def _resolve(self, name: str) -> Path:
        names = [name] if name.endswith(".rasp") else [f"{name}.rasp", name]
        here = self.files[-1][1]
        folders = [d for d in (here, Path.cwd(), *self.search_path) if d is not None]
        for candidate in names:
            path = Path(candidate)
            places = [path] if path.is_absolute() else [d / path for d in folders]
            for place in places:
                if place.is_file():
                    return place
        looked = ", ".join(str(d) for d in dict.fromkeys(folders))
        raise RaspLoadError(f"cannot find {names[0]!r} to load (looked in {looked})")


def _position(tree: Tree) -> tuple[int | None, int | None]:
    meta = tree.meta
    return getattr(meta, "line", None), getattr(meta, "column", None)


def _called_from(err: RaspError, fn: RaspFunction, caller: str | None, site: Tree | None):
    notes = err.rasp_calls
    if site is None or notes >= 4:
        return err
    line, column = _position(site)
    where = f"line {line}, column {column}"
    if caller:
        where = f"{caller}: {where}"
    message = err.args[0] if err.args else ""
    err.args = (f"{message}\n  in {fn.name}(), called at {where}", *err.args[1:])
    err.rasp_calls = notes + 1
    return err
