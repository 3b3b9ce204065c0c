"""After the certificate: a model the bounds leave unproved even in float64, built with digits.

A select that compares a computed number with a quadratic score (``2 k q -
k^2`` picks ``k == q``) needs the number's error far below ``1 / (4 n)``:
most_freq's target position at 1,024 sums four counts, whose errors reach
``5e-4``, and its last head's gap falls below zero in the bounds even in
float64. Tested as two digits, one-hot tests of about ``sqrt(n)`` values each,
the comparison needs the error only below half a unit (:mod:`.digits`).

Where the bounds keep no output margin in float64 (and nothing else stays
open: no refusal, no time out), and the model compares numbers, the program
is built again with every wide equality of computed integers tested as
digits. The rebuild is kept if it passes the random check and the bounds
prove it, in either float type; its own float32 rebuilds follow
(:mod:`.float32_rebuilds`). Otherwise the first model stands.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ..errors import CompileError, ResourceLimitError
from ..model.model import CompiledModel
from .bounds import Blueprint
from .certify import with_certificate
from .float32_rebuilds import Stages, within_growth
from .front import Fronts
from .job import Job
from .limits import seconds_left

__all__ = ["Kept", "margin_rebuilt", "digit_tests", "DIGITS_AFTER_CERTIFICATE"]

DIGITS_AFTER_CERTIFICATE = (
    "chosen after the certificate: as first built, the bounds kept no output margin even "
    "in float64 (a computed number compared as a number, too closely for its error)"
)
NO_MARGIN = "the bounds do not keep the output's decoding"
NOT_LISTED = "not enumerated"  # a domain too large to list, which is why bounds ran


class Kept(NamedTuple):
    """The job a model was built for, the model, its policy and blueprint, and the bounds'
    seconds left after its certificate."""

    job: Job
    model: CompiledModel
    policy: Any
    blueprint: Blueprint
    seconds: float


def margin_rebuilt(
    stages: Stages, kept: Kept, fronts: Fronts, limit: int, compares_numbers: bool
) -> Kept:
    """``kept``, or the program rebuilt with digits where that is proved (module docstring)."""
    job, model = kept.job, kept.model
    proof = model.info.certificate
    if proof is None or proof.dtype is not None or job.digits is not None:
        return kept
    items = [o for o in proof.open if not o.startswith(NOT_LISTED)]
    margins_only = bool(items) and all(o.startswith(NO_MARGIN) for o in items)
    if not compares_numbers or not margins_only:
        return kept
    left = seconds_left(kept.seconds - (proof.seconds or 0.0))
    if left < 1.0:
        return kept
    retry = replace(within_growth(job, model.n_params), all_digits=DIGITS_AFTER_CERTIFICATE)
    try:
        other, policy, found = stages.build(retry, [], fronts)
        if digit_tests(other) <= digit_tests(model):  # digits change nothing here
            return kept
        other, policy, found = stages.verified(retry, other, policy, found, fronts)
        other = with_certificate(other, job.program, limit, found, left)
    except (CompileError, ResourceLimitError, MemoryError):
        return kept  # not built, or not exact, so: the first model stands
    again = other.info.certificate
    if again is None or again.dtype is None:
        return kept
    return Kept(retry, other, policy, found, left)


def digit_tests(model: CompiledModel) -> int:
    """How many equalities of computed integers the model tests as digits."""
    return sum("tested as two digits" in note for note in model.info.notes)
