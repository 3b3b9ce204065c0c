"""Stage 7: a certificate of exactness, proved by enumeration where the domain is small.

Stage 6 checks a model on random inputs; that says "exact on the inputs drawn".
Here, when the model's domain (every input over the vocabulary of lengths
1..max_seq_len, or those matching a declared domain's pattern) holds at most
``limit`` inputs, every one of them runs through the evaluator and through the
model in float64 and in float32. All agree: the certificate says ``"proved"``,
and records the worst decoding margin (how far the nearest competing value
was, over every output position of every input). The domain is larger:
``"sampled"``, with what could not be discharged. An input disagrees:
``"failed"``.

>>> from rasplab import tokens, map
>>> from rasplab.compiler import compile_program
>>> double = map(lambda x: 2 * x, tokens)
>>> model = compile_program(double, [1, 2, 3], 4, verify=0)
>>> proof = certify(model, double)
>>> proof.status, proof.n_enumerated, proof.worst_margin > 0.5
('proved', 120, True)
>>> certify(model, double, limit=100).open
('not enumerated: 120 inputs over the limit 100',)
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import CompileError, InputError
from ..lang.graph import value_key
from ..lang.nodes import SOp
from ..model.info import Certificate
from ..model.model import CompiledModel
from .bounds import BOUNDS_SECONDS, Blueprint, certificate_by_bounds, weights_digest
from .decoding import equal_classes
from .reference import Rejection, evaluate_each
from .verify import Mismatch, Verification, causal_reference, same_values

__all__ = [
    "DEFAULT_PROVE_LIMIT",
    "Listing",
    "certify",
    "check_prove_limit",
    "domain_inputs",
    "exhaustive_check",
    "reference_outputs",
    "compare",
    "encoded",
    "decoding_margin",
    "equal_classes",
    "with_certificate",
]

DEFAULT_PROVE_LIMIT = 20_000  # inputs enumerated by default: about a second for most programs
SCAN_FACTOR = 20  # a pattern's domain: candidates scanned for each input allowed


@dataclass(frozen=True)
class Listing:
    """Every input of a model's domain, or why they were not listed."""

    rows: list[list[Any]] | None  # None: not enumerated
    size: int | None  # inputs in the domain; None when not counted
    reason: str = ""  # why not enumerated


def check_prove_limit(limit: Any) -> int:
    """``limit``, a non-negative int (0: never enumerate); CompileError otherwise."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise CompileError(
            f"prove_limit must be a non-negative int (the most inputs to enumerate; 0 never "
            f"enumerates), got {limit!r}"
        )
    return limit


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def _every_input(vocab: Sequence[Any], max_seq_len: int) -> list[list[Any]]:
    return [
        list(xs) for n in range(1, max_seq_len + 1) for xs in itertools.product(vocab, repeat=n)
    ]


def domain_inputs(model: CompiledModel, limit: int) -> Listing:
    """The inputs of ``model``'s domain when they number at most ``limit``, shortest first."""
    vocab, domain = list(model.vocab), model.info.domain
    total = sum(len(vocab) ** n for n in range(1, model.max_seq_len + 1))
    if domain.kind == "all":
        if total > limit:
            return Listing(
                None, total, f"not enumerated: {_count(total)} inputs over the limit {limit:,}"
            )
        return Listing(_every_input(vocab, model.max_seq_len), total)
    if domain.pattern is None or not all(isinstance(t, str) for t in vocab):
        return Listing(
            None,
            None,
            f"not enumerated: the declared domain ({domain.description}) has no pattern "
            "to list its inputs by",
        )
    if total > limit * SCAN_FACTOR:  # too many candidates to even filter by the pattern
        return Listing(
            None,
            None,
            f"not enumerated: up to {_count(total)} inputs (those matching the domain's "
            f"pattern) over the limit {limit:,}",
        )
    rows = [xs for xs in _every_input(vocab, model.max_seq_len) if domain.contains(xs)]
    if len(rows) > limit:
        return Listing(
            None, len(rows), f"not enumerated: {len(rows):,} inputs over the limit {limit:,}"
        )
    return Listing(rows, len(rows))


def reference_outputs(model: CompiledModel, program: SOp, rows: list[list[Any]]) -> list[Any]:
    """What the evaluator says for each row (a Rejection where it refuses), read causally for a
    causal model; for a set that holds every prefix, each prefix is evaluated once."""
    if not model.causal:
        return evaluate_each(program, rows)
    full = {_key(xs): out for xs, out in zip(rows, evaluate_each(program, rows), strict=True)}
    if not all(_key(xs[: i + 1]) in full for xs in rows for i in range(len(xs))):
        return causal_reference(program, rows)
    out: list[Any] = []
    for xs in rows:
        parts = [full[_key(xs[: i + 1])] for i in range(len(xs))]
        refused = next((p for p in parts if isinstance(p, Rejection)), None)
        out.append(Rejection(xs, refused.error) if refused else [p[-1] for p in parts])
    return out


def _key(xs: Sequence[Any]) -> tuple:
    return tuple(value_key(t) for t in xs)


def decoding_margin(
    model: CompiledModel, logits: np.ndarray, classes: list[list[int]] | None = None
) -> float | None:
    """The smallest gap, over every position but BOS, between the decoded value and the
    nearest value that would decode differently: in logits (categorical), or the distance
    to the nearest boundary between two values' coordinates (numerical). Values that
    compare equal (``classes``: :func:`equal_classes` of the output values) do not
    compete. None when nothing competes."""
    body = np.asarray(logits[:, 1:, :], dtype=np.float64)
    classes = equal_classes(model.output.values) if classes is None else classes
    if body.size == 0 or len(classes) < 2:
        return None
    if model.output.kind == "categorical":
        if any(len(c) > 1 for c in classes):  # the best logit of each class of equal values
            body = np.stack([body[..., c].max(axis=-1) for c in classes], axis=-1)
        top = np.partition(body, -2, axis=-1)
        return float((top[..., -1] - top[..., -2]).min())
    coords = np.asarray(model.output.coords, dtype=np.float64)
    # the decoded value changes between classes (sorted coordinates: classes are runs)
    boundaries = np.array(
        [(coords[a[-1]] + coords[b[0]]) / 2 for a, b in itertools.pairwise(classes)]
    )
    x = body[..., 0].ravel()
    right = np.searchsorted(boundaries, x).clip(0, len(boundaries) - 1)
    left = (right - 1).clip(0)
    gaps = np.minimum(np.abs(x - boundaries[right]), np.abs(x - boundaries[left]))
    return float(gaps.min())


Groups = list[tuple[list[int], np.ndarray]]  # row indices of one length, their token ids


def encoded(model: CompiledModel, rows: list[list[Any]], expected: list[Any]) -> Groups:
    """The rows the evaluator accepted, grouped by length, as token ids (BOS first)."""
    token_ids = {value_key(t): i + 1 for i, t in enumerate(model.vocab)}  # id 0 is BOS
    groups: dict[int, list[int]] = {}
    for i, want in enumerate(expected):
        if not isinstance(want, Rejection):
            groups.setdefault(len(rows[i]), []).append(i)
    return [
        (members, np.array([[0, *(token_ids[value_key(t)] for t in rows[i])] for i in members]))
        for members in groups.values()
    ]


def compare(
    model: CompiledModel,
    rows: list[list[Any]],
    expected: list[Any],
    dtype: Any,
    groups: Groups | None = None,
) -> Verification:
    """The model in ``dtype`` against ``expected`` on ``rows`` (rejected rows skipped),
    with the worst decoding margin over the rows compared."""
    groups = encoded(model, rows, expected) if groups is None else groups
    bad: list[Mismatch] = []
    margins: list[float] = []
    classes = equal_classes(model.output.values)
    for members, ids in groups:
        logits = model.forward(ids, dtype)
        for i, got in zip(members, model.decode(logits), strict=True):
            # plain equality first: it implies same_values, and is much faster
            if not (expected[i] == got or same_values(expected[i], got)):
                bad.append(Mismatch(rows[i], expected[i], got))
        margin = decoding_margin(model, logits, classes)
        margins += [] if margin is None else [margin]
    rejected = [w for w in expected if isinstance(w, Rejection)]
    n_inputs = len(rows) - len(rejected)
    return Verification(
        n_inputs=n_inputs,
        n_exact=n_inputs - len(bad),
        dtype=np.dtype(dtype).name,
        mismatches=tuple(bad[:5]),
        n_rejected=len(rejected),
        first_rejection=str(rejected[0]) if rejected else None,
        worst_margin=min(margins, default=None),
    )


def exhaustive_check(
    model: CompiledModel, program: SOp, dtype: Any = np.float32, limit: int = 1_000_000
) -> Verification:
    """Every input of ``model``'s domain through the model (in ``dtype``) and the evaluator;
    InputError when the domain cannot be listed within ``limit`` inputs."""
    listing = domain_inputs(model, limit)
    if listing.rows is None:
        raise InputError(f"cannot check {program.label} on every input: {listing.reason}")
    result = compare(model, listing.rows, reference_outputs(model, program, listing.rows), dtype)
    return replace(result, exhaustive=True)


def certify(
    model: CompiledModel,
    program: SOp,
    limit: int = DEFAULT_PROVE_LIMIT,
    blueprint: Blueprint | None = None,
    method: str = "auto",
    bounds_seconds: float = BOUNDS_SECONDS,
) -> Certificate:
    """Prove ``model`` exact on its whole domain, or say why it is not proved.

    ``method="auto"`` enumerates a domain of at most ``limit`` inputs and, for a larger
    one, propagates bounds (:mod:`.bounds`) when given the ``blueprint`` the model was
    assembled from; ``"bounds"`` always propagates bounds (it needs the blueprint).
    The bounds stop after ``bounds_seconds``; what they had not bounded stays open.
    """
    start = time.perf_counter()
    limit = check_prove_limit(limit)
    if method not in ("auto", "bounds"):
        raise CompileError(f"certify: method must be 'auto' or 'bounds', got {method!r}")
    if method == "bounds":
        if blueprint is None:
            raise CompileError("certify: proving by bounds needs the model's blueprint")
        return certificate_by_bounds(model, blueprint, _domain_size(model), limit, bounds_seconds)
    listing = domain_inputs(model, limit)
    if listing.rows is None and blueprint is not None:
        proof = certificate_by_bounds(model, blueprint, listing.size, limit, bounds_seconds)
        return proof if proof.proved else replace(proof, open=(listing.reason, *proof.open))
    unit = "logit" if model.output.kind == "categorical" else "coordinate"
    if listing.rows is None:
        unproved = (*(f"assumption: {a}" for a in model.info.assumptions), listing.reason)
        return Certificate("sampled", listing.size, limit=limit, margin_unit=unit, open=unproved)
    return _enumerated(model, program, listing, limit, start)


def _domain_size(model: CompiledModel) -> int | None:
    if model.info.domain.kind != "all":
        return None
    return sum(len(model.vocab) ** n for n in range(1, model.max_seq_len + 1))


def _enumerated(
    model: CompiledModel, program: SOp, listing: Listing, limit: int, start: float
) -> Certificate:
    """The certificate of a domain whose every input ``listing`` holds."""
    rows = listing.rows or []
    unit = "logit" if model.output.kind == "categorical" else "coordinate"
    expected = reference_outputs(model, program, rows)
    groups = encoded(model, rows, expected)
    wide, narrow = (compare(model, rows, expected, t, groups) for t in (np.float64, np.float32))
    seconds = round(time.perf_counter() - start, 4)
    failures = [_failure(r) for r in (wide, narrow) if not r.exact]
    digest = weights_digest(model)
    if failures:
        return Certificate(
            "failed",
            listing.size,
            wide.n_inputs,
            wide.n_rejected,
            limit,
            margin_unit=unit,
            open=tuple(failures),
            seconds=seconds,
            weights_sha256=digest,
        )
    return Certificate(
        "proved",
        listing.size,
        wide.n_inputs,
        wide.n_rejected,
        limit,
        wide.worst_margin,
        narrow.worst_margin,
        unit,
        (),
        seconds,
        weights_sha256=digest,
        dtype="float32",
    )


def _failure(result: Verification) -> str:
    if result.n_inputs == 0:
        return (
            f"the evaluator rejected every input of the domain; the first: {result.first_rejection}"
        )
    m = result.mismatches[0]
    wrong = result.n_inputs - result.n_exact
    return (
        f"{wrong:,} of {result.n_inputs:,} inputs disagree in {result.dtype}; the first: "
        f"input {m.input!r}: expected {m.expected!r}, got {m.got!r}"
    )


def with_certificate(
    model: CompiledModel,
    program: SOp,
    limit: int,
    blueprint: Blueprint | None = None,
    bounds_seconds: float = BOUNDS_SECONDS,
) -> CompiledModel:
    """``model`` with its certificate in ``info`` (by bounds for a domain over ``limit``
    inputs, given the ``blueprint``, within ``bounds_seconds``; 0 skips them);
    CompileError if enumeration finds a disagreement (the random check missed it)."""
    if bounds_seconds <= 0:
        blueprint = None  # no bounds: a large domain rests on the random check
    proof = certify(model, program, limit, blueprint, bounds_seconds=bounds_seconds)
    if proof.status == "failed":
        found = "\n".join(f"  {line}" for line in proof.open)
        raise CompileError(
            f"the compiled model of {program.label} disagrees with the evaluator on inputs the "
            f"random check did not draw (found by enumerating all {proof.n_domain:,}):\n{found}"
        )
    return replace(model, info=replace(model.info, certificate=proof))
