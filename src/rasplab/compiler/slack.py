"""Which numbers an MLP may write a little off: those that only MLPs of steps read.

A number an MLP writes exactly, one unit per bend of the line through its
points, can cost one unit per value: a count of up to 1,024 keys decoded from
its weight ``B / (B + w)`` takes 1,025 units. Where every MLP that reads the
number writes a one-hot (its values told apart by thresholds midway between
neighbours, :mod:`.axis`), a few hundredths of a gap off changes nothing,
and a line through fewer of its points (:func:`.mlp._knots`) serves.

``tolerant_outputs`` finds such numbers among a planning round's MLP outputs.
A number a head reads (a score, a value an aggregate moves) stays exact: a
quadratic score multiplies the error by the key. A number read by another
number passes its error on, so it is tolerant only where that number is, at
most ``TOLERANT_DEPTH`` numbers deep, and each may add its own slack, so a
number ``d`` numbers deep takes ``COUNT_SLACK / 2^d``: causal Dyck's ``level``
adds two decoded counts and a token and is cut into digits (all of it), while
unmasked Dyck-1's counts are each a sum of two heads' counts, and ``balance``
subtracts one from the other (a quarter for each head's count). The certificate bounds
the result either way (:mod:`.bounds_mlps` compares each MLP with the exact
value at every point), so a slack that cost a proof would show there.

>>> from rasplab.compiler.features import Feature
>>> from rasplab.compiler.storage import View
>>> count = Feature.numerical((1, View.SCALAR), "count", [0, 1, 2], "mlp")
>>> level = Feature.numerical((2, View.SCALAR), "level", [0, 1, 2], "mlp")
>>> flag = Feature.categorical((3, View.ONE_HOT), "flag", [False, True], "mlp")
>>> jobs = ((count, ()), (level, (count,)), (flag, (level,)))
>>> sorted((key[0], share) for key, share in tolerant_outputs(jobs, (), program=3).items())
[(1, 0.03125), (2, 0.0625)]
>>> tolerant_outputs(jobs, (), program=2)  # level is the output: exact, and so is count
{}
"""

from __future__ import annotations

from collections.abc import Iterable

from .features import Feature
from .plans import HeadPlan, MlpJob
from .storage import Storage

__all__ = ["tolerant_outputs", "COUNT_SLACK", "TOLERANT_DEPTH"]

COUNT_SLACK = 1 / 16  # of the smallest gap: how far a tolerant number's MLP may miss
TOLERANT_DEPTH = 3  # numbers read by numbers, at most this deep, before a step reads them


def tolerant_outputs(
    jobs: Iterable[MlpJob], heads: Iterable[HeadPlan], program: int
) -> dict[tuple, float]:
    """The numbers among ``jobs``' outputs that may miss, by key, with the share of
    ``COUNT_SLACK`` (of a gap) each may: all of it where a step reads the number, half
    where another number reads it, a quarter two numbers deep (their errors add on
    the way, two at a time where counts are summed). ``program``: the output's node
    id, which the unembedding reads (it has a slack of its own)."""
    jobs = tuple(jobs)
    read_by_heads = {program} | {n for h in heads for n in _head_reads(h)}
    readers: dict[tuple, list[Feature]] = {}
    for out, reads in jobs:
        for f in reads:
            readers.setdefault(f.key, []).append(out)
    found: dict[tuple, int | None] = {}

    def depth(f: Feature, seen: int) -> int | None:
        """The most numbers between ``f`` and a step that reads it (None: a head, the
        output or nothing reads it, or the chain is too deep)."""
        if f.kind is not Storage.SCALAR or f.key[0] in read_by_heads or seen > TOLERANT_DEPTH:
            return None
        if f.key not in found:
            below: list[int | None] = [
                0 if r.kind is Storage.ONE_HOT else _deeper(depth(r, seen + 1))
                for r in readers.get(f.key, [])
            ]
            known = [d for d in below if d is not None]
            found[f.key] = max(known) if known and len(known) == len(below) else None
        return found[f.key]

    depths = {out.key: depth(out, 0) for out, _ in jobs}
    return {key: COUNT_SLACK / 2**d for key, d in depths.items() if d is not None}


def _deeper(d: int | None) -> int | None:
    return None if d is None else d + 1


def _head_reads(head: HeadPlan) -> set[int]:
    """The node ids a head reads, in its score or as the values it moves."""
    found = {node_id for _, node_id in head.inputs}
    found |= {f.key[0] for f in head.inputs.values()}
    if head.value is not None:
        found.add(head.value.key[0])
    for term in head.quadratic.terms if head.quadratic is not None else ():
        found |= {term.keys.id, term.queries.id}
    return found
