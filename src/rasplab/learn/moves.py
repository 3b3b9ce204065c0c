"""Candidate moves of the discrete search (:mod:`rasplab.learn.search`): every other
choice a head could make, each a new :class:`~rasplab.learn.discrete.Head`."""

from __future__ import annotations

import itertools
from dataclasses import replace

from .discrete import PREDICATES, Factor, Head, Program, Variable

__all__ = [
    *("TRUE", "SIDES", "available", "comparisons", "factor_moves", "put"),
    *("ones_options", "value_moves", "bracket"),
]

TRUE = Factor("tokens", "tokens", "true")
SIDES = ("<", "<=", ">", ">=")  # the comparisons that bound a range from one side


def available(program: Program) -> dict[str, list[str]]:
    """Per head, the variables it may read: the inputs and those of earlier layers."""
    made, found = ["tokens", "indices", "length"], {}
    for layer in program.layers:
        found.update({head.name: list(made) for head in layer.heads})
        made += [head.name for head in layer.heads] + [mlp.name for mlp in layer.mlps]
    return found


def comparisons(names: list[str], variables: dict[str, Variable]) -> list[Factor]:
    """Every comparison of two variables that selects compare (no ``frac``), and ``true``."""
    chosen = [n for n in names if variables[n].kind != "frac"]
    found = [Factor("tokens", "tokens", "true")]
    for key, query in itertools.product(chosen, chosen):
        found += [Factor(key, query, p) for p in PREDICATES if p != "true"]
    return found


def factor_moves(head: Head, options: list[Factor]) -> list[Head]:
    """The head with one of its factors replaced by another comparison."""
    found = []
    for index, old in enumerate(head.factors):
        for factor in options:
            if factor != old:
                found.append(replace(head, factors=put(head.factors, index, factor)))
    return found


def ones_options(size: int) -> list[tuple[int, ...]]:
    """Sets of codes that count as 1: every proper subset of a few codes, else single
    codes and the codes below or above a cut."""
    codes = range(size)
    if size <= 4:
        subsets = (c for k in range(1, size) for c in itertools.combinations(codes, k))
        return list(subsets)
    found: list[tuple[int, ...]] = [(c,) for c in codes]
    found += [tuple(range(c + 1)) for c in range(1, size - 1)]
    return found + [tuple(range(c, size)) for c in range(1, size - 1)]


def value_moves(head: Head, names: list[str], variables: dict[str, Variable]) -> list[Head]:
    """A cat head moving another token variable; a mean head averaging another indicator."""
    if head.kind == "cat":
        tokens = [n for n in names if variables[n].kind == "token" and n != head.value]
        return [replace(head, value=name) for name in tokens]
    if head.kind != "mean":
        return []
    found = []
    for name in names:
        for ones in ones_options(variables[name].size):
            if (name, ones) != (head.value, head.ones):
                found.append(replace(head, value=name, ones=ones))
    return found


def bracket(head: Head, bound: str) -> list[Head]:
    """``head`` with one factor ``(K, Q, p)`` made ``(K, Q, p1) and (bound, Q, p2)``."""
    found = []
    for factor in head.factors:
        if factor.predicate == "true":
            continue
        for low, high in itertools.product(SIDES, SIDES):
            pair = (replace(factor, predicate=low), Factor(bound, factor.query, high))
            found.append(replace(head, factors=pair))
    return found


def put(factors: tuple[Factor, ...], slot: int, factor: Factor) -> tuple[Factor, ...]:
    return factors[:slot] + (factor,) + factors[slot + 1 :]
