"""Stage 6: check a compiled model against the evaluator on random inputs.

Numbers compare equal within 1e-9 (relative); everything else with ``==``.
Inputs the program itself rejects (the evaluator raises a RaspError) are not
compared: they are counted apart (``n_rejected``, with the first one's
reason), and a check that compared no input is never ``exact``. A causal
model is also checked against the *causal* reference: position ``i`` of the
program run on the prefix ``xs[: i + 1]``.

>>> from rasplab import tokens, map
>>> from rasplab.compiler import compile_program
>>> double = map(lambda x: 2 * x, tokens)
>>> model = compile_program(double, [1, 2, 3], 4)
>>> print(verify(model, double, inputs=[[1, 2], [3]]))
2/2 inputs exact (float32)
>>> print(verify(model, double, exhaustive=True))
120/120 inputs exact (float32), every input of the domain, worst margin 1
>>> strict = map(lambda x: 1 / (x - 1), tokens)
>>> result = verify(model, strict, inputs=[[1], [1, 2]])
>>> result.exact, result.n_inputs, result.n_rejected
(False, 0, 2)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..lang.nodes import SOp
from ..model.model import CompiledModel
from .encodings import sample_inputs
from .reference import Rejection, evaluate_each

__all__ = ["Verification", "Mismatch", "verify", "answers", "causal_reference", "same_values"]


@dataclass(frozen=True)
class Mismatch:
    input: list[Any]
    expected: list[Any]
    got: list[Any]


@dataclass(frozen=True)
class Verification:
    n_inputs: int  # inputs compared (the evaluator ran the program on them)
    n_exact: int  # of those, inputs where the model agrees
    dtype: str
    mismatches: tuple[Mismatch, ...]  # the first few
    n_rejected: int = 0  # inputs the evaluator rejected: not compared
    first_rejection: str | None = None  # "<input>: <error>" for the first of them
    worst_margin: float | None = None  # the smallest decoding margin seen (exhaustive checks)
    exhaustive: bool = False  # every input of the model's domain was compared

    @property
    def fraction(self) -> float:
        """The share of compared inputs that agree; 0.0 when none was compared."""
        return self.n_exact / self.n_inputs if self.n_inputs else 0.0

    @property
    def exact(self) -> bool:
        """True only when some input was compared and every compared input agrees."""
        return self.n_inputs > 0 and self.n_exact == self.n_inputs

    def __str__(self) -> str:
        text = f"{self.n_exact}/{self.n_inputs} inputs exact ({self.dtype})"
        if self.exhaustive:
            text += ", every input of the domain"
            if self.worst_margin is not None:
                text += f", worst margin {self.worst_margin:.3g}"
        if self.n_rejected:
            text += (
                f"; {self.n_rejected} rejected by the evaluator, the first: {self.first_rejection}"
            )
        for m in self.mismatches[:3]:
            text += f"\n  input {m.input!r}: expected {m.expected!r}, got {m.got!r}"
        return text


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, numbers) and isinstance(b, numbers):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        return same_values(a, b)
    return bool(a == b)


def same_values(want: Sequence[Any], got: Sequence[Any]) -> bool:
    return len(want) == len(got) and all(_same(w, g) for w, g in zip(want, got, strict=True))


def causal_reference(program: SOp, inputs: list[list[Any]]) -> list[Any]:
    """Position ``i`` of ``program`` run on ``xs[: i + 1]``, for every input.

    An input is rejected (a :class:`~rasplab.compiler.reference.Rejection` of the
    whole input, with the first rejected prefix's error) when any prefix is.
    """
    prefixes = [xs[: i + 1] for xs in inputs for i in range(len(xs))]
    flat = evaluate_each(program, prefixes)
    out: list[Any] = []
    k = 0
    for xs in inputs:
        part = flat[k : k + len(xs)]
        k += len(xs)
        refused = next((p for p in part if isinstance(p, Rejection)), None)
        out.append(Rejection(xs, refused.error) if refused else [p[-1] for p in part])
    return out


def answers(program: SOp, rows: list[list[Any]], causal: bool, looks_back: bool) -> list[Any]:
    """The evaluator's answers on ``rows`` (a :class:`Rejection` where it refuses one): for
    a causal model, position ``i`` of each on its prefix ``xs[: i + 1]``; where every
    selector of the program looks back only (``looks_back``: the compiler checked it),
    each prefix's answer is the whole input's, so one evaluation per input gives them all.
    """
    reference = causal_reference if causal and not looks_back else evaluate_each
    return reference(program, rows)


def verify(
    model: CompiledModel,
    program: SOp,
    n_samples: int = 200,
    *,
    seed: int = 0,
    sample: Callable[[random.Random, int], list[Any]] | None = None,
    dtype: Any = np.float32,
    inputs: Sequence[Sequence[Any]] | None = None,
    check_domain: bool = True,
    exhaustive: bool = False,
    limit: int = 1_000_000,
    looks_back: bool = False,
    expected: Sequence[Any] | None = None,
) -> Verification:
    """Run ``model`` and the evaluator on the same random inputs (or ``inputs``) and compare.

    A model with a declared input domain refuses inputs outside it (InputError), as
    :meth:`~rasplab.model.model.CompiledModel.run` does; ``check_domain=False``
    compares them anyway. ``exhaustive=True`` compares every input of the model's
    domain instead (:func:`~rasplab.compiler.certify.exhaustive_check`; InputError when
    there are more than ``limit``), and records the worst decoding margin. A causal
    model is compared with the program run on every prefix, or, with ``looks_back``
    (every selector picks only keys at or before the query, as a causal compile
    checks), on the whole input once: the two agree then. ``expected``: the evaluator's
    answers on ``inputs`` (:func:`answers`), where already known.
    """
    if exhaustive:
        if inputs is not None:
            raise InputError("verify: give inputs= or exhaustive=True, not both")
        from .certify import exhaustive_check  # certify builds on this module

        return exhaustive_check(model, program, dtype, limit)
    if inputs is None:
        inputs = sample_inputs(model.vocab, model.max_seq_len, n_samples, seed, sample)
    rows = [list(xs) for xs in inputs]
    if expected is None:
        expected = answers(program, rows, model.causal, looks_back)
    want = list(expected)
    rejected = [w for w in want if isinstance(w, Rejection)]
    kept = [i for i, w in enumerate(want) if not isinstance(w, Rejection)]
    got = model.run([rows[i] for i in kept], dtype, check_domain=check_domain) if kept else []
    bad = [
        Mismatch(rows[i], want[i], g)
        for i, g in zip(kept, got, strict=True)
        if not same_values(want[i], g)
    ]
    return Verification(
        n_inputs=len(kept),
        n_exact=len(kept) - len(bad),
        dtype=np.dtype(dtype).name,
        mismatches=tuple(bad[:5]),
        n_rejected=len(rejected),
        first_rejection=str(rejected[0]) if rejected else None,
    )
