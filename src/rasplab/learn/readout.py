"""Read a discrete program out as RASP: Python DSL source, ``.rasp`` source, an s-op.

Each variable becomes one statement. The Python source is what builds the
s-op (:func:`to_sop` runs it), so the printed Python and the evaluated
program cannot drift apart; the ``.rasp`` source is printed separately and
loads back through :func:`rasplab.load`.

Where a comparison or a two-input table needs a variable's codes rather
than its values (tokens compared with numbers; fractions as a table key in
``.rasp``), a ``NAME_code`` statement numbers the values first.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass
from typing import Any

from ..errors import DefinitionError
from ..lang import dsl
from ..lang.nodes import SOp
from ..syntax import LIBRARY_NAMES
from .decisions import ones_test
from .discrete import Factor, Head, Mlp, Program, Variable

__all__ = ["Readout", "read_out", "to_sop", "python_source", "rasp_source"]

_DSL_NAMES = (
    *("tokens", "indices", "length", "select", "aggregate", "selector_width", "map", "zipmap"),
)
# Names a variable may not take: the standard library's, the DSL's, and what Python reserves.
_TAKEN = LIBRARY_NAMES | set(_DSL_NAMES) | {"program", "length", "indicator", "round"}


@dataclass(frozen=True)
class Statement:
    name: str
    python: str  # the expression in the Python DSL
    rasp: str  # the expression in the RASP surface language


def _literal(value: Any, rasp: bool) -> str:
    if rasp and isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return repr(int(value)) if rasp else repr(value)
    return repr(value)


class _Writer:
    """Collects statements in order, adding ``NAME_code`` ones on demand."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.variables: dict[str, Variable] = program.variables()
        self.statements: list[Statement] = []
        self.coded: set[str] = set()

    def name(self, var: str) -> str:
        if var in ("tokens", "indices", "length"):
            return var
        name = self.program.names.get(var, var)
        return f"{name}_" if name in _TAKEN or keyword.iskeyword(name) else name

    def add(self, var: str, python: str, rasp: str) -> None:
        self.statements.append(Statement(self.name(var), python, rasp))

    def natural(self, var: str) -> bool:
        """Whether the variable's values are its codes (``0, 1, ...``)."""
        values = self.variables[var].values
        return all(type(v) is int and v == i for i, v in enumerate(values))

    def code(self, var: str) -> str:
        """An expression whose value is the variable's code, adding a statement if needed."""
        if self.natural(var):
            return self.name(var)
        coded = f"{self.name(var)}_code"
        if var not in self.coded:
            self.coded.add(var)
            values = self.variables[var].values
            table = {v: i for i, v in enumerate(values)}
            self.statements.append(
                Statement(coded, _map_py(table, self.name(var)), _map_rasp(table, self.name(var)))
            )
        return coded


def _dict(table: dict, rasp: bool) -> str:
    items = ", ".join(f"{_literal(k, rasp)}: {_literal(v, rasp)}" for k, v in table.items())
    return "{" + items + "}"


def _map_py(table: dict, arg: str) -> str:
    return f"map(lambda x: {_dict(table, False)}[x], {arg})"


def _map_rasp(table: dict, arg: str) -> str:
    return f"{_dict(table, True)}[{arg}]"


def _operands(w: _Writer, factor: Factor) -> tuple[str, str]:
    """Key and query expressions: numbers compare as values, tokens as codes (vocabulary
    order), which are their values where the tokens are sorted or only tested for equality."""
    key, query = w.variables[factor.key], w.variables[factor.query]
    as_values = factor.predicate in ("==", "!=", "true") or _sorted(w.program.vocab)
    if factor.predicate == "true" or (
        key.kind == query.kind and (key.kind != "token" or as_values)
    ):
        return w.name(factor.key), w.name(factor.query)
    sides = [w.code(v.name) if v.kind == "token" else w.name(v.name) for v in (key, query)]
    return sides[0], sides[1]


def _sorted(values: tuple[Any, ...]) -> bool:
    try:
        return list(values) == sorted(values)
    except TypeError:
        return False


def _selector(w: _Writer, head: Head) -> tuple[str, str]:
    """The head's selector in Python and in RASP: its clauses ORed, each ANDed."""
    clauses = [[f for f in c if f.predicate != "true"] for c in head.clauses]
    if any(not c for c in clauses):  # "and everything" adds nothing; "or everything" is all
        return 'select(indices, indices, "true")', "full_s"
    py, rasp = zip(*(_clause(w, c, len(clauses) > 1) for c in clauses), strict=True)
    return " | ".join(py), " or ".join(rasp)


def _clause(w: _Writer, factors: list[Factor], grouped: bool) -> tuple[str, str]:
    """One clause's factors ANDed (in parentheses where ``grouped`` and several)."""
    parts_py, parts_rasp = [], []
    for factor in factors:
        key, query = _operands(w, factor)
        parts_py.append(f'select({key}, {query}, "{factor.predicate}")')
        parts_rasp.append(f"select({key}, {query}, {factor.predicate})")
    py, rasp = " & ".join(parts_py), " and ".join(parts_rasp)
    if grouped and len(factors) > 1:
        return f"({py})", f"({rasp})"
    return py, rasp


def _head(w: _Writer, head: Head) -> None:
    sel_py, sel_rasp = _selector(w, head)
    if head.kind == "width" and sel_rasp == "full_s":  # every key: the input's length
        w.add(head.name, "length", "length")
        return
    if head.kind == "width":
        w.add(head.name, f"selector_width({sel_py})", f"selector_width({sel_rasp})")
        return
    value = w.name(str(head.value))
    if head.kind == "cat":
        default = w.variables[str(head.value)].values[0]
        w.add(
            head.name,
            f"aggregate({sel_py}, {value}, {_literal(default, False)})",
            f"aggregate({sel_rasp}, {value}, {_literal(default, True)})",
        )
        return
    values = w.variables[str(head.value)].values
    test = ones_test(values, head.ones)
    if test is not None:  # the counted values are those passing one comparison
        w.add(
            head.name,
            f"aggregate({sel_py}, map(lambda x: 1 if {test} else 0, {value}), 0)",
            f"aggregate({sel_rasp}, 1 if {test.replace('x', value, 1)} else 0, 0)",
        )
        return
    ones = {v: int(i in head.ones) for i, v in enumerate(values)}
    w.add(
        head.name,
        f"aggregate({sel_py}, {_map_py(ones, value)}, 0)",
        f"aggregate({sel_rasp}, {_map_rasp(ones, value)}, 0)",
    )


def _formula(w: _Writer, mlp: Mlp) -> str:
    names = {"a": w.name(mlp.inputs[0]), "b": w.name(mlp.inputs[-1])}
    # whole words only ("(b == 0)" names b inside its bracket), and not inside a string
    return re.sub(
        r'"(?:[^"\\]|\\.)*"|\b[ab]\b',
        lambda m: names.get(m.group(0), m.group(0)),
        str(mlp.formula),
    )


def _decided(w: _Writer, mlp: Mlp) -> str:
    """A chain of comparisons (decisions.py) in Python: a map or zipmap of its lambda."""
    args = ", ".join(w.name(i) for i in mlp.inputs)
    if len(mlp.inputs) == 1:
        return f"map(lambda a: {mlp.formula}, {args})"
    return f"zipmap(lambda a, b: {mlp.formula}, {args})"


def _mlp(w: _Writer, mlp: Mlp, labels: tuple[Any, ...] | None = None) -> None:
    if mlp.formula is not None:  # a chain of comparisons is a lambda in Python
        python = _decided(w, mlp) if " if " in mlp.formula else _formula(w, mlp)
        w.add(mlp.name, python, _formula(w, mlp))
        return
    outs = [(labels or mlp.out_values)[c] for c in mlp.table]
    first = w.variables[mlp.inputs[0]]
    if len(mlp.inputs) == 1:
        table = dict(zip(first.values, outs, strict=True))
        w.add(mlp.name, _map_py(table, w.name(first.name)), _map_rasp(table, w.name(first.name)))
        return
    second = w.variables[mlp.inputs[1]]
    pairs = [(a, b) for a in first.values for b in second.values]
    common = max(set(outs), key=outs.count)
    rare = {pair: out for pair, out in zip(pairs, outs, strict=True) if out != common}
    a, b = w.name(first.name), w.name(second.name)
    lookup = f"{_dict(rare, False)}.get((a, b), {_literal(common, False)})"
    python = f"zipmap(lambda a, b: {lookup}, {a}, {b})"
    key = f"{w.code(first.name)} * {second.size} + {w.code(second.name)}"
    full = dict(enumerate(outs))
    w.add(mlp.name, python, f"{_dict(full, True)}[{key}]")


def read_out(program: Program) -> list[Statement]:
    """The program as statements, in order; the last one is the output."""
    w = _Writer(program)
    for layer in program.layers:
        for head in layer.heads:
            _head(w, head)
        for mlp in layer.mlps:
            _mlp(w, mlp)
    _mlp(w, program.output, program.labels)
    return w.statements


@dataclass(frozen=True)
class Readout:
    python: str
    rasp: str


def python_source(program: Program, *, header: str = "") -> str:
    """A Python file whose ``program`` is the learned s-op."""
    statements = read_out(program)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append("from rasplab import " + ", ".join(sorted(_DSL_NAMES)))
    lines.append("")
    for s in statements:
        lines.append(f'{s.name} = ({s.python}).named("{s.name}")')
    lines.append(f"program = {statements[-1].name}")
    return "\n".join(lines) + "\n"


def rasp_source(program: Program, *, header: str = "") -> str:
    """``.rasp`` source whose output is the learned program."""
    statements = read_out(program)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append(f"# output: {statements[-1].name}")
    lines.append("")
    lines += [f"{s.name} = {s.rasp};" for s in statements]
    return "\n".join(lines) + "\n"


def to_sop(program: Program) -> SOp:
    """The learned program as an s-op, built by running its Python source."""
    namespace: dict[str, Any] = {name: getattr(dsl, name) for name in _DSL_NAMES}
    exec(compile(python_source(program), "<learned program>", "exec"), namespace)  # noqa: S102
    sop = namespace.get("program")
    if not isinstance(sop, SOp):
        raise DefinitionError("the learned program's source did not build an s-op")
    return sop
