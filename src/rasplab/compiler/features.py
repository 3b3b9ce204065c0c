"""Residual-stream features: an s-op stored one-hot or as one scalar (see :mod:`.storage`).

A categorical feature owns one direction per value, named ``label:value``
(``tokens:a``, ``sort:2``); a numerical one owns the direction ``label``.
A count head's raw output (``label.attn``) is a numerical feature too: its
scalar is ``B / (B + width)``, which an MLP decodes. Constants own no
direction: they are read from ``one`` (1 at every position) and ``bos``
(1 at the BOS position only), so they vanish at BOS like everything else.

>>> f = Feature.categorical((0, View.ONE_HOT), "tokens", ["a", "b"], "embed")
>>> f.directions, f.readouts[1]
(('tokens:a', 'tokens:b'), {'tokens:b': 1.0})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from ..lang.graph import value_key
from .storage import Storage, View
from .units import BOS, ONE, Leaf

__all__ = ["Feature", "value_labels", "coordinate", "number_groups"]


def number_groups(values: Sequence[Any]) -> list[list[Any]]:
    """Values grouped by numeric value (``1``, ``1.0``, ``True`` together), ints first.

    >>> number_groups([1.0, 0.5, 1, True])
    [[0.5], [1, True, 1.0]]
    """
    groups: dict[float, list[Any]] = {}
    for v in values:
        groups.setdefault(float(v), []).append(v)
    rank = lambda v: 0 if type(v) is int else (1 if isinstance(v, bool) else 2)  # noqa: E731
    return [g if len(g) == 1 else sorted(g, key=rank) for g in (groups[c] for c in sorted(groups))]


def value_labels(values: Sequence[Any]) -> list[str]:
    """Direction suffixes: ``str(v)``, or ``repr(v)`` where two values would print alike.

    >>> value_labels(["a", 1, "1", True])
    ['a', '1', "'1'", 'True']
    """
    plain = [str(v) for v in values]
    seen: set[str] = set()
    clash: set[str] = set()  # printed more than once
    for p in plain:
        if p in seen:
            clash.add(p)
        seen.add(p)
    return [repr(v) if p in clash else p for v, p in zip(values, plain, strict=True)]


def coordinate(value: Any) -> float:
    """The scalar a numerical feature stores for ``value`` (bools as 0/1)."""
    return float(value)


@dataclass(frozen=True)
class Feature:
    key: tuple[int, View]  # (node id, which view of the node)
    name: str
    kind: Storage
    values: tuple  # node values, ordered; index = value index
    coords: tuple[float, ...]  # scalar: the number per value index
    directions: tuple[str, ...]  # residual directions owned
    writes: tuple[Mapping[str, float], ...]  # per value index: residual content
    readouts: tuple[Mapping[str, float], ...]  # one-hot: indicator per value; scalar: (scalar,)
    producer: str  # "embed" | "head" | "mlp" | "const"
    exact: bool = True  # scalar: stored without rounding error (0/1 flags, embedded numbers)
    aliases: Mapping[tuple, int] | None = None  # value key -> index, where values merge

    @staticmethod
    def categorical(key: tuple, name: str, values: Sequence[Any], producer: str) -> Feature:
        dirs = tuple(f"{name}:{s}" for s in value_labels(values))
        onehots = tuple({d: 1.0} for d in dirs)
        return Feature(
            key, name, Storage.ONE_HOT, tuple(values), (), dirs, onehots, onehots, producer
        )

    @staticmethod
    def numerical(
        key: tuple,
        name: str,
        values: Sequence[Any],
        producer: str,
        coords: Sequence[float] | None = None,
        exact: bool = True,
    ) -> Feature:
        coords = tuple(coordinate(v) for v in values) if coords is None else tuple(coords)
        writes = tuple({name: c} for c in coords)
        return Feature(
            key,
            name,
            Storage.SCALAR,
            tuple(values),
            coords,
            (name,),
            writes,
            ({name: 1.0},),
            producer,
            exact,
        )

    @staticmethod
    def constant(key: tuple, name: str, value: Any, storage: Storage) -> Feature:
        """A constant s-op: reads ``one - bos`` (zero at BOS), owns no direction."""
        if storage is Storage.ONE_HOT:
            read = {ONE: 1.0, BOS: -1.0}
            return Feature(key, name, Storage.ONE_HOT, (value,), (), (), ({},), (read,), "const")
        c = coordinate(value)
        read = {ONE: c, BOS: -c}  # the scalar c at every position, 0 at BOS
        return Feature(key, name, Storage.SCALAR, (value,), (c,), (), ({},), (read,), "const")

    @cached_property  # built once: the planner and the weights look values up often
    def index(self) -> Mapping[tuple, int]:
        """value key -> value index (``1`` and ``1.0`` share one where they are merged)."""
        if self.aliases is not None:
            return self.aliases
        return {value_key(v): i for i, v in enumerate(self.values)}

    def merged(self, groups: Sequence[Sequence[Any]]) -> Feature:
        """This feature with each group of values (equal numbers) stored as its first member."""
        aliases = {value_key(v): i for i, g in enumerate(groups) for v in g}
        values = tuple(g[0] for g in groups)
        coords = tuple(coordinate(v) for v in values) if self.kind is Storage.SCALAR else ()
        if self.kind is Storage.SCALAR:
            rebuilt = Feature.numerical(
                self.key, self.name, values, self.producer, coords, self.exact
            )
        else:
            rebuilt = Feature.categorical(self.key, self.name, values, self.producer)
        return replace(rebuilt, aliases=aliases)

    @property
    def binary(self) -> bool:
        """A numerical 0/1 flag stored exactly: usable as a categorical leaf."""
        return self.kind is Storage.SCALAR and self.exact and set(self.coords) <= {0.0, 1.0}

    def value_readout(self, weights: Sequence[float]) -> dict[str, float]:
        """Read ``sum_v weights[v] * [value = v]``.

        A numerical feature reads its scalar, scaled and shifted (through ``one``)
        onto ``weights``, which must then be affine in its coordinates.
        """
        if self.kind is Storage.SCALAR:
            return _affine_readout(self.readouts[0], self.coords, weights)
        out: dict[str, float] = {}
        for w, r in zip(weights, self.readouts, strict=True):
            for d, c in r.items():
                out[d] = out.get(d, 0.0) + w * c
        return {d: c for d, c in out.items() if c}

    def leaf(self) -> Leaf:
        """This feature as an MLP input."""
        if self.binary and len(set(self.coords)) == 2:
            (d,) = self.directions or (None,)
            one_read = {d: 1.0} if d else dict(self.readouts[0])
            zero_read = {ONE: 1.0, BOS: -1.0, **{k: -v for k, v in one_read.items()}}
            reads = tuple(one_read if c else zero_read for c in self.coords)
            return Leaf(self.name, Storage.ONE_HOT, self.writes, reads)
        if self.kind is Storage.ONE_HOT:
            numeric = all(isinstance(v, int | float) for v in self.values)
            coords = tuple(float(v) for v in self.values) if numeric else ()
            return Leaf(self.name, Storage.ONE_HOT, self.writes, self.readouts, coords)
        return Leaf(self.name, Storage.SCALAR, self.writes, self.readouts, self.coords)


def _affine_readout(
    scalar: Mapping[str, float], coords: Sequence[float], weights: Sequence[float]
) -> dict[str, float]:
    """``a * scalar + b * one`` with ``a * coords[v] + b == weights[v]`` for every value."""
    c, w = np.asarray(coords, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    a = float((w[-1] - w[0]) / (c[-1] - c[0])) if len(c) > 1 and c[-1] != c[0] else 1.0
    b = float(w[0] - a * c[0]) if len(c) else 0.0
    tol = 1e-9 * max(1.0, float(np.abs(w).max(initial=0.0)))
    if not np.allclose(a * c + b, w, rtol=0.0, atol=tol):
        raise ValueError("a numerical value read by a head must be affine in its coordinates")
    out = {d: a * x for d, x in scalar.items()}
    if b:
        out[ONE] = out.get(ONE, 0.0) + b
    return out
