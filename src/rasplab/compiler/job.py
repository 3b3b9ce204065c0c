"""What one compile was asked for: its arguments checked, and the input domain it covers.

>>> from rasplab.library import get
>>> job = make_job(get("reverse").build(), "abc", 8, False, 64, None, 0, None, None)
>>> job.vocab, job.max_seq_len
(('a', 'b', 'c'), 8)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CompileError
from ..lang.graph import value_key
from ..lang.nodes import SOp, is_atom
from ..model.info import InputDomain
from .budget import check_limit
from .encodings import AggregatePolicy
from .size import DEFAULT_MAX_PARAMS

__all__ = [
    "Job",
    "Sampler",
    "make_job",
    "covered_domain",
    "library_domain",
    "DIGITS_FROM",
    "DIGITS_AT_LENGTH",
]

Sampler = Callable[[random.Random, int], list[Any]]


@dataclass(frozen=True)
class Job:
    """What one compile was asked for (checked)."""

    program: SOp
    vocab: tuple[Any, ...]
    max_seq_len: int
    causal: bool
    verify: int
    sample: Sampler | None
    seed: int
    domain: InputDomain | None
    max_bytes: int | None
    max_params: int | None = DEFAULT_MAX_PARAMS
    one_hot: str | None = None  # every select of positions one-hot, for this reason
    decode_counts: str | None = None  # counts decoded before MLPs combine them, for this
    input_errors: Mapping[str, tuple[float, float]] | None = None  # float32 errors to allow
    all_digits: str | None = None  # every wide equality tested as digits, for this reason
    far_counts: str | None = None  # every count keeps B = n, read on its own, for this
    copies: str | None = None  # what a count compares read through an exact copy, for this
    tight_counts: str | None = None  # counts' B as small as their decoding allows, for this
    # the evaluator's answers on the check's inputs, shared by this job's rebuilds (a
    # replaced job holds the same dict): the program and the inputs are theirs too
    answers: dict[tuple, list[Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def digits(self) -> str | None:
        """Why every wide equality of computed numbers is tested as digits, where it is:
        asked (``all_digits``), or from ``DIGITS_FROM`` positions on."""
        if self.all_digits is not None:
            return self.all_digits
        return DIGITS_AT_LENGTH if self.max_seq_len >= DIGITS_FROM else None


# From this max_seq_len on, a wide equality of computed numbers (a side holding more than
# digits.DIGITS_ABOVE values) is tested as digits in the first build. At 96, 128, 256 and
# 512, every library program whose first build compared such numbers as numbers either
# ended in digits (float32 did not prove the first build, or the check saw it drift, and
# the rebuild in digits was kept) or was not proved in float32 at all (sort_unique at 96,
# which digits prove; ralign, split and add, proved neither way). Built in digits at once,
# the same models come out, and no first build is thrown away.
DIGITS_FROM = 96
DIGITS_AT_LENGTH = (
    f"chosen for max_seq_len {DIGITS_FROM} and up, where a computed number compared as a "
    "number drifts in float32 further than its comparison allows"
)


def make_job(program, vocab, max_seq_len, causal, verify, sample, seed, domain, max_bytes) -> Job:
    """The arguments, checked; CompileError naming the first bad one."""
    tokens = _check(program, vocab, max_seq_len)
    if not isinstance(verify, int) or isinstance(verify, bool) or verify < 0:
        raise CompileError(
            f"verify must be a non-negative int (how many random inputs to check; 0 skips "
            f"the check), got {verify!r}"
        )
    if domain is not None:
        if not isinstance(domain, InputDomain) or domain.kind != "declared":
            raise CompileError(f"domain must be an InputDomain of kind 'declared', got {domain!r}")
        if sample is None:
            raise CompileError(
                f"domain={domain.description!r} needs sample=: a sampler that draws inputs "
                "inside it (the assumptions are checked on its inputs)"
            )
    elif sample is not None:  # a library program's own sampler brings its domain
        domain = library_domain(getattr(sample, "__self__", None))
    limit = check_limit(max_bytes)
    return Job(program, tokens, max_seq_len, causal, verify, sample, seed, domain, limit)


def _check(program: Any, vocab: Sequence[Any], max_seq_len: int) -> tuple[Any, ...]:
    if not isinstance(program, SOp):
        raise CompileError(f"compile_program needs an s-op, got {program!r}")
    if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
        raise CompileError(f"max_seq_len must be a positive int, got {max_seq_len!r}")
    tokens = tuple(vocab)
    if not tokens:
        raise CompileError("the vocabulary is empty")
    bad = [t for t in tokens if not is_atom(t)]
    if bad:
        raise CompileError(f"vocabulary tokens must be int, float, str or bool, got {bad[:3]!r}")
    unique: dict[tuple, Any] = {}
    for t in tokens:
        unique.setdefault(value_key(t), t)  # 1, 1.0 and True stay three tokens
    return tuple(unique.values())


def covered_domain(job: Job, policy: AggregatePolicy) -> InputDomain:
    """Where the model is exact: every input, unless it rests on assumptions that were
    checked only on a sampler's inputs, or not checked at all."""
    if not policy.assumptions:
        return InputDomain()  # every decision holds on every input
    if job.sample is not None:
        if job.domain is not None:
            return job.domain
        name = getattr(job.sample, "__qualname__", None) or repr(job.sample)
        return InputDomain("declared", f"inputs drawn by the sampler {name}")
    if job.verify:
        return InputDomain()  # the assumptions are checked on uniform inputs (stage 6)
    return InputDomain("declared", "inputs on which the assumptions hold (not checked: verify=0)")


def library_domain(entry: Any) -> InputDomain | None:
    """The declared domain of a library program's sampler (None if it has none), for
    ``compile_program(..., sample=entry.sample, domain=library_domain(entry))``.

    >>> from rasplab.library import get
    >>> library_domain(get("add")).contains("12+34+56")
    False
    >>> library_domain(get("reverse")) is None
    True
    """
    if getattr(entry, "sampler", None) is None or getattr(entry, "domain", None) is None:
        return None
    return InputDomain(
        "declared",
        f"inputs drawn by lib:{entry.name}'s sampler: {entry.domain}",
        entry.domain_pattern,
    )
