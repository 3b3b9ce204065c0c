"""Wildcard keys: one head for ``phi | mask(key)``.

A selector ``phi | mask`` where ``mask`` tests only the key cannot be one
exact score when ``phi`` and ``mask`` read different s-ops. Keys that the
mask picks get the value :data:`WILD` instead, which every test of ``phi``
accepts; then ``phi`` alone, over the rewritten keys, selects exactly the
same keys. Part of the rewrites in :mod:`rasplab.compiler.lower`.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..lang.nodes import Constant, Map, Node, Select, Selector, SelectorAnd, SOp, ZipMap
from .selectors import All, AnyOf, Literal, LiteralTest, Score

__all__ = ["WILD", "wildcard_selector"]


class _Wild:
    """The value of a key that every test accepts."""

    _instance = None

    def __new__(cls) -> _Wild:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "*"

    def __reduce__(self) -> str:
        return "WILD"


WILD = _Wild()


class Rewriting(Protocol):
    """What a wildcard selector needs of the rewriting pass (:mod:`rasplab.compiler.lower`)."""

    notes: list[str]  # what each rewrite did, for the report

    def kid(self, node: SOp) -> SOp:
        """The rebuilt ``node``."""
        ...

    def score(self, f: Any, exact: bool) -> Score | None:
        """One head's score for formula ``f``, or None."""
        ...


def wildcard_selector(lowering: Rewriting, node: Node, f: Any, exact: bool) -> Selector | None:
    """``phi | mask(key)``: keys the mask picks get a value every test accepts.

    ``lowering`` is the rewriting pass (:class:`rasplab.compiler.lower._Lowering`): its
    ``kid`` (the rebuilt child), ``score`` and ``notes``.
    """
    if not isinstance(f, AnyOf):
        return None
    masks: list[Literal] = [
        c for c in f.children if isinstance(c, Literal) and c.query is None and c.key is not None
    ]
    rest = [c for c in f.children if c not in masks]
    if not masks or len({_key(m).id for m in masks}) != 1 or len(rest) != 1:
        return None
    phi = rest[0]
    parts = list(phi.children) if isinstance(phi, All) else [phi]
    if not all(isinstance(p, Literal) and p.key is not None for p in parts):
        return None
    if lowering.score(phi, exact) is None:
        return None
    source = _key(masks[0])

    def picked(s: Any, masks=tuple(masks)) -> bool:
        return any(m.holds(s, None) for m in masks)

    flag = Map(picked, lowering.kid(source)).named(f"{masks[0].label}?")  # a leaf of few values
    keys = _wild_keys(lowering, parts, flag)
    sels = [
        Select(
            keys[_key(lit).id],
            lowering.kid(lit.query) if lit.query is not None else Constant(0),
            LiteralTest(lit, wildcard=WILD),
        ).named(lit.label)
        for lit in parts
    ]
    lowering.notes.append(
        f"{node.label}: keys picked by {masks[0].label} get a wildcard value that every "
        "other test accepts, so one head computes the 'or'"
    )
    out: Selector = sels[0]
    for sel in sels[1:]:
        out = SelectorAnd(out, sel)
    return out


def _wild_keys(lowering: Rewriting, parts: list[Literal], flag: SOp) -> dict[int, SOp]:
    """Per key s-op of the literals: the s-op with :data:`WILD` where ``flag`` holds."""
    keys: dict[int, SOp] = {}
    for lit in parts:
        key = _key(lit)
        if key.id not in keys:
            keys[key.id] = ZipMap(lambda k, p: WILD if p else k, lowering.kid(key), flag).named(
                f"{key.label}'"
            )
    return keys


def _key(lit: Literal) -> SOp:
    """The key s-op of a literal that tests one (the callers pick only such literals)."""
    if lit.key is None:
        raise ValueError(f"the literal {lit.label} tests no key")
    return lit.key
