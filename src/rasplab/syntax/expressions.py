"""Expressions: from parse-tree nodes to values (atoms, lists, dicts, IR nodes).

``Expressions`` is the expression half of the interpreter (a mixin: the
statement half, in ``interpreter.py``, supplies scopes, calls and limits).

>>> from rasplab.syntax import parse
>>> parse("x = [i * 2 for i in range(3)];")["x"]
[0, 2, 4]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError, RaspError, RaspTypeError
from ..evaluate import evaluate
from ..lang.nodes import Aggregate, Node, Select, Selector, SOp, is_atom
from . import operators as ops
from .errors import LoopLimitError, located
from .values import Builtin, RaspFunction, TokenVariant, show

if TYPE_CHECKING:
    from lark import Tree

    from .scope import Scope
    from .values import Limits, TokenContext

__all__ = ["Expressions"]

_EXPRESSIONS = (
    *("int", "float", "string", "var", "list", "dict", "listcomp", "dictcomp", "call"),
    *("index", "unary", "ternary", "select", "aggregate", "round", "indicator", "in_expr"),
)


class Expressions:
    """Evaluates expression trees in a scope."""

    # Supplied by the statement half (``Interpreter``), which subclasses this mixin.
    tokens: TokenContext
    limits: Limits
    length: SOp

    if TYPE_CHECKING:

        @property
        def filename(self) -> str | None: ...

        def tick(self) -> None: ...

        def reserve(self, steps: int, what: str) -> None: ...

        def bind(self, scope: Scope, name: str, value: Any, *, rename: bool = True) -> None: ...

        def call_function(
            self, fn: RaspFunction, args: list[Any], site: Tree | None = None
        ) -> Any: ...

    def eval(self, tree: Tree, scope) -> Any:
        handler = self._expression_handlers().get(tree.data)
        if handler is None:  # a grammar rule this interpreter does not know
            raise EvaluationError(f"cannot evaluate a {tree.data!r} expression")
        try:
            return handler(tree, scope)
        except RaspError as err:  # the innermost expression names the place
            meta = tree.meta
            line, column = getattr(meta, "line", None), getattr(meta, "column", None)
            raise located(err, self.filename, line, column) from None

    def eval_all(self, tree: Tree | None, scope) -> list[Any]:
        """The values of an ``exprs`` list (empty for a missing one)."""
        if tree is None:
            return []
        return [self.eval(child, scope) for child in tree.children]

    def _expression_handlers(self) -> dict[str, Any]:
        table = self.__dict__.get("_handlers")
        if table is None:
            table = {name: getattr(self, f"_x_{name}") for name in _EXPRESSIONS}
            for name in ("logic_expr", "cmp_expr", "sum_expr", "mod_expr", "prod_expr"):
                table[name] = self._x_binary
            table["pow_expr"] = self._x_binary
            self.__dict__["_handlers"] = table
        return table

    # ------------------------------------------------------------ literals

    def _x_int(self, tree: Tree, scope) -> int:
        return int(str(tree.children[0]))

    def _x_float(self, tree: Tree, scope) -> float:
        return float(str(tree.children[0]))

    def _x_string(self, tree: Tree, scope) -> str:
        return str(tree.children[0])[1:-1]

    def _x_var(self, tree: Tree, scope) -> Any:
        value = scope.lookup(str(tree.children[0]))
        if isinstance(value, TokenVariant):
            return self.tokens.node(value.kind)
        return value

    def _x_list(self, tree: Tree, scope) -> list:
        return self.eval_all(tree.children[0], scope)

    def _x_dict(self, tree: Tree, scope) -> dict:
        out: dict = {}
        for pair in tree.children:
            if pair is None:
                continue
            key = self._dict_key(self.eval(pair.children[0], scope))
            out[key] = self.eval(pair.children[1], scope)
        return out

    def _dict_key(self, key: Any) -> Any:
        if not is_atom(key):
            raise RaspTypeError(f"a dict key must be an atom, got {show(key)}")
        return key

    def _x_listcomp(self, tree: Tree, scope) -> list:
        value, names, iterable = tree.children
        return [self.eval(value, inner) for inner in self._comprehension(names, iterable, scope)]

    def _x_dictcomp(self, tree: Tree, scope) -> dict:
        key, value, names, iterable = tree.children
        out = {}
        for inner in self._comprehension(names, iterable, scope):
            out[self._dict_key(self.eval(key, inner))] = self.eval(value, inner)
        return out

    def _comprehension(self, names: Tree, iterable: Tree, scope) -> list:
        """One scope per item, each binding the loop names (no generators: see PYTHON_STACK)."""
        from .scope import Scope

        targets = [str(t) for t in names.children]
        scopes = []
        for item in self.iterate(self.eval(iterable, scope), len(targets)):
            self.tick()
            inner = Scope(scope, name="comprehension")
            self.bind_targets(inner, targets, item, rename=False)
            scopes.append(inner)
        return scopes

    # ------------------------------------------------------------ operators

    def _x_binary(self, tree: Tree, scope) -> Any:
        left, op, right = tree.children
        return ops.binary(str(op), self.eval(left, scope), self.eval(right, scope), self.limits)

    def _x_in_expr(self, tree: Tree, scope) -> Any:
        item, _, container = tree.children
        return ops.contains(self.eval(item, scope), self.eval(container, scope))

    def _x_unary(self, tree: Tree, scope) -> Any:
        op, operand = tree.children
        return ops.unary(str(op), self.eval(operand, scope))

    def _x_ternary(self, tree: Tree, scope) -> Any:
        if_true, cond, if_false = tree.children
        condition = self.eval(cond, scope)
        if isinstance(condition, SOp):
            return ops.where(condition, self.eval(if_true, scope), self.eval(if_false, scope))
        if isinstance(condition, Node | RaspFunction | Builtin):
            raise RaspTypeError(
                "the condition of 'x if c else y' must be an s-op or an atom, "
                f"got {show(condition)}"
            )
        return self.eval(if_true if condition else if_false, scope)

    def _x_round(self, tree: Tree, scope) -> Any:
        return ops.rounded(self.eval(tree.children[0], scope))

    def _x_indicator(self, tree: Tree, scope) -> Any:
        return ops.indicator(self.eval(tree.children[0], scope))

    def _x_index(self, tree: Tree, scope) -> Any:
        container = self.eval(tree.children[0], scope)
        key = self.eval(tree.children[1], scope)
        return ops.index(container, key, self.length)

    # ------------------------------------------------------------ attention

    def _x_select(self, tree: Tree, scope) -> Select:
        _, keys, queries, predicate = tree.children
        keys, queries = self.eval(keys, scope), self.eval(queries, scope)
        for role, value in (("keys", keys), ("queries", queries)):
            if not (isinstance(value, SOp) or is_atom(value)):
                raise RaspTypeError(
                    f"select: the {role} must be an s-op or an atom, got {show(value)}"
                )
        return Select(keys, queries, str(predicate.children[0]))

    def _x_aggregate(self, tree: Tree, scope) -> Aggregate:
        _, selector, values, default = tree.children
        selector, values = self.eval(selector, scope), self.eval(values, scope)
        default = 0 if default is None else self.eval(default, scope)
        if not isinstance(selector, Selector):
            raise RaspTypeError(
                f"aggregate: the first argument must be a selector, got {show(selector)}"
            )
        if not (isinstance(values, SOp) or is_atom(values)):
            raise RaspTypeError(
                f"aggregate: the values must be an s-op or an atom, got {show(values)}"
            )
        if not is_atom(default):
            raise RaspTypeError(f"aggregate: the default must be an atom, got {show(default)}")
        return Aggregate(selector, values, default=default)

    # ------------------------------------------------------------ calls

    def _x_call(self, tree: Tree, scope) -> Any:
        callee = self.eval(tree.children[0], scope)
        args = self.eval_all(tree.children[1], scope)
        if isinstance(callee, RaspFunction):
            return self.call_function(callee, args, site=tree)
        if isinstance(callee, Builtin):
            self.tick()
            return callee(*args)
        if isinstance(callee, Node):
            return self._apply(callee, args)
        raise RaspTypeError(f"{show(callee)} cannot be called")

    def _apply(self, node: Node, args: list[Any]) -> Any:
        """``sop(input)``: the values of an s-op (or selector) on one input."""
        if len(args) != 1:
            raise RaspTypeError(f"applying {show(node)} needs one input, got {len(args)} arguments")
        raw = args[0]
        if not isinstance(raw, str | list):
            raise RaspTypeError(f"applying {show(node)} needs a string or a list, got {show(raw)}")
        if len(raw) > self.limits.max_input_length:
            raise LoopLimitError(
                f"applying {show(node)} to an input of {len(raw)} tokens is over the limit "
                f"of {self.limits.max_input_length} (max_input_length); raise it with "
                "Limits(max_input_length=...)"
            )
        return evaluate(node, self.tokens.read(raw))

    # ------------------------------------------------------------ helpers

    def iterate(self, value: Any, n_targets: int) -> list[Any]:
        """The items a ``for`` or a comprehension walks over."""
        if isinstance(value, dict):
            items = list(value.items()) if n_targets == 2 else list(value)
        elif isinstance(value, list | str):
            items = list(value)
        else:
            raise RaspTypeError(f"can only loop over a list, dict or string, not {show(value)}")
        self.reserve(len(items), "a loop or comprehension")
        return items

    def bind_targets(self, scope, targets: list[str], item: Any, *, rename: bool = True) -> None:
        if len(targets) == 1:
            self.bind(scope, targets[0], item, rename=rename)
            return
        if not isinstance(item, list | tuple) or len(item) != len(targets):
            raise RaspTypeError(
                f"cannot unpack {show(item)} into {len(targets)} names ({', '.join(targets)})"
            )
        for name, value in zip(targets, item, strict=True):
            self.bind(scope, name, value, rename=rename)
