"""Before lowering: the paper's BOS-free selector width becomes a ``selector_width``
(and, in :func:`select_all_widths`, a width of a select-all selector ``length``).

The RASP paper counts the keys a selector ``S`` picks without a beginning-of-
sequence token: it averages ``[j == 0]`` over ``S | at0`` (``1 / (w + 1)``
where position 0 is not in ``S``), averages 1 over ``S & at0`` (whether it
is), and maps the pair to ``w`` (:func:`rasplab.library.helpers.
selector_width_nobos`). A compiled model has a BOS token, so one count head
computes ``selector_width(S)``: no second head, no ``1 / x`` over up to
``max_seq_len`` values for an MLP to fit, and ``S`` is one pattern a head can
compare as numbers. :func:`~rasplab.compiler.ranks.width_selector` checks the
construction on the value sets (the map is ``1 / inv - 1 + z`` on every pair
of values), so the rewrite keeps every value.

>>> from rasplab import tokens, select
>>> from rasplab.library.helpers import selector_width_nobos
>>> from rasplab.compiler.value_sets import infer
>>> width = selector_width_nobos(select(tokens, tokens, "=="))
>>> found = bos_free_widths(width, infer(width, "ab", 5))
>>> found.program.kind, found.notes[0].split(": ")[1].split(" (")[0]
('selector_width', "the paper's BOS-free selector width, computed by one count head")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..lang.graph import topological_order
from ..lang.nodes import Comparison, Length, Node, Select, Selector, SelectorWidth, SOp, ZipMap
from .ranks import width_selector
from .value_sets import ValueSets

__all__ = ["Rewritten", "rebuild", "bos_free_widths", "select_all_widths"]

_CHILDREN = ("inner", "keys", "queries", "fst", "snd", "selector", "sop")


@dataclass(frozen=True)
class Rewritten:
    program: SOp
    origin: dict[int, Node]  # a rebuilt node's id -> the program's node it stands for
    notes: tuple[str, ...]


Change = Callable[[Node, dict[int, Node]], tuple[Node, str] | None]


def rebuild(program: SOp, change: Change) -> Rewritten | None:
    """``program`` with every node ``change`` replaces (given the rebuilt nodes so far)
    replaced, and everything above it rebuilt over it (None: nothing changed)."""
    new: dict[int, Node] = {}
    origin: dict[int, Node] = {}
    notes: list[str] = []
    for node in topological_order(program):
        found = change(node, new)
        if found is not None:
            built, note = found
            notes.append(note)
        else:
            built = _copy(node, new)
        new[node.id] = built
        if built is not node:
            origin[built.id] = node
    root = new[program.id]
    if not notes or not isinstance(root, SOp):
        return None
    return Rewritten(root, origin, tuple(notes))


def bos_free_widths(program: SOp, values: ValueSets) -> Rewritten | None:
    """``program`` with each BOS-free width rebuilt as a ``selector_width`` (None: none)."""

    def change(node: Node, new: dict[int, Node]) -> tuple[Node, str] | None:
        sel = width_selector(node, values) if isinstance(node, ZipMap) else None
        if sel is None:
            return None
        rebuilt = new[sel.id]
        assert isinstance(rebuilt, Selector)  # a rebuilt selector stays one
        width = SelectorWidth(rebuilt)._copy(name=node.name, encoding=node.encoding)
        return width, (
            f"{node.label}: the paper's BOS-free selector width, computed by one count "
            "head (the model has a BOS token)"
        )

    return rebuild(program, change)


def _copy(node: Node, new: dict[int, Node]) -> Node:
    """``node`` over its rebuilt children (itself where none changed)."""
    changes: dict[str, Node | tuple[Node, ...]] = {}
    declared = node.field_names()
    for field in _CHILDREN:
        child = getattr(node, field, None) if field in declared else None
        if isinstance(child, Node) and new[child.id] is not child:
            changes[field] = new[child.id]
    if isinstance(node, ZipMap) and any(new[x.id] is not x for x in node.inputs):
        changes["inputs"] = tuple(new[x.id] for x in node.inputs)
    return node._copy(**changes) if changes else node


def select_all_widths(program: SOp) -> Rewritten | None:
    """``program`` with each width of a selector that picks every key rebuilt as
    ``length`` (None: none). tracr's library counts the length so, as
    ``selector_width(select(tokens, tokens, TRUE))``; ``length`` is one select-all
    head averaging the positions, which the compiler stores as one number, where a
    width is a count decoded by an MLP (tracr's reverse at 256: 722,380 parameters,
    proved in float64 only; as ``length``, the library's reverse). Not under a causal
    mask, where neither can be computed.

    >>> from rasplab import tokens, select, selector_width
    >>> found = select_all_widths(selector_width(select(tokens, tokens, "true")) - 1)
    >>> found.program.children[0].kind
    'length'
    """

    def change(node: Node, new: dict[int, Node]) -> tuple[Node, str] | None:
        if not isinstance(node, SelectorWidth) or not _selects_all(node.selector):
            return None
        length = Length()._copy(name=node.name, encoding=node.encoding)
        return length, f"{node.label}: the width of a selector that picks every key is the length"

    return rebuild(program, change)


def _selects_all(selector: Node) -> bool:
    return isinstance(selector, Select) and selector.predicate is Comparison.TRUE
