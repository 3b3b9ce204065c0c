"""Check a compiled model against the evaluator on random inputs.

Numbers compare equal within 1e-9 (relative); everything else with ``==``.
Inputs the program itself rejects (the evaluator raises) are skipped. A
causal model is also checked against the *causal* reference: position ``i``
of the program run on the prefix ``xs[: i + 1]``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluate import evaluate_batch
from ..lang.nodes import SOp
from ..model.model import CompiledModel
from .encodings import sample_inputs

__all__ = ["Verification", "Mismatch", "verify", "causal_reference", "same_values"]


@dataclass(frozen=True)
class Mismatch:
    input: list[Any]
    expected: list[Any]
    got: list[Any]


@dataclass(frozen=True)
class Verification:
    n_inputs: int
    n_exact: int
    dtype: str
    mismatches: tuple[Mismatch, ...]  # the first few

    @property
    def fraction(self) -> float:
        return self.n_exact / self.n_inputs if self.n_inputs else 1.0

    @property
    def exact(self) -> bool:
        return self.n_exact == self.n_inputs

    def __str__(self) -> str:
        text = f"{self.n_exact}/{self.n_inputs} inputs exact ({self.dtype})"
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


def _expected(program: SOp, inputs: list[list[Any]]) -> list[Any]:
    """The evaluator's outputs; None for inputs it rejects."""
    try:
        return evaluate_batch(program, inputs)
    except Exception:
        out = []
        for xs in inputs:
            try:
                out.extend(evaluate_batch(program, [xs]))
            except Exception:
                out.append(None)
        return out


def causal_reference(program: SOp, inputs: list[list[Any]]) -> list[Any]:
    """Position ``i`` of ``program`` run on ``xs[: i + 1]``, for every input."""
    prefixes = [xs[: i + 1] for xs in inputs for i in range(len(xs))]
    flat = _expected(program, prefixes)
    out, k = [], 0
    for xs in inputs:
        part = flat[k : k + len(xs)]
        k += len(xs)
        out.append(None if any(p is None for p in part) else [p[-1] for p in part])
    return out


def verify(
    model: CompiledModel,
    program: SOp,
    n_samples: int = 200,
    *,
    seed: int = 0,
    sample: Callable[[random.Random, int], list[Any]] | None = None,
    dtype: Any = np.float32,
    inputs: Sequence[Sequence[Any]] | None = None,
) -> Verification:
    """Run ``model`` and the evaluator on the same random inputs and compare."""
    if inputs is None:
        inputs = sample_inputs(model.vocab, model.max_seq_len, n_samples, seed, sample)
    inputs = [list(xs) for xs in inputs]
    reference = causal_reference if model.causal else _expected
    want = reference(program, inputs)
    kept = [i for i, w in enumerate(want) if w is not None]
    got = model.run([inputs[i] for i in kept], dtype) if kept else []
    bad = [
        Mismatch(inputs[i], want[i], g)
        for i, g in zip(kept, got, strict=True)
        if not same_values(want[i], g)
    ]
    return Verification(len(kept), len(kept) - len(bad), np.dtype(dtype).name, tuple(bad[:5]))
