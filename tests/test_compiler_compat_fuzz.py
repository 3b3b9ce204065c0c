"""Random programs from each compatibility layer's own random-program test, compiled.

Each layer's differential test draws programs from that layer's API (raspy's,
tracr's, RASP-L's). Here the same strategies feed the compiler: every program
must compile to a verified model or be refused with a ``CompileError`` (or a
``ResourceLimitError`` for size), never crash. A run in which nothing compiled
would check nothing, so each layer must compile most of its programs.

With 300 programs per layer (the slow run): tracr 295 compiled and 5 refused;
raspy, RASP-L causal and RASP-L bidirectional 300 compiled each; no crash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import test_compat_raspl as raspl_test
import test_compat_raspy as raspy_test
import test_compat_tracr_fuzz as tracr_test
from hypothesis import HealthCheck, given, settings

from rasplab.compiler import compile_program
from rasplab.errors import CompileError, ResourceLimitError
from rasplab.lang.nodes import SOp

VOCAB = [0, 1, 2, 3]

# layer -> (strategy, the s-op a drawn example builds, compile causally)
LAYERS: dict[str, tuple[Any, Callable[[Any], Any], bool]] = {
    "tracr": (tracr_test.PROGRAMS, tracr_test.build, False),
    "raspy": (raspy_test.sops(), lambda drawn: drawn[0], False),
    "raspl-causal": (raspl_test.programs_and_inputs(eager=False), lambda d: d[0][0].sop, True),
    "raspl": (raspl_test.programs_and_inputs(eager=False), lambda d: d[0][0].sop, False),
}


# a blocker in the program itself, which no compiler lifts (an averaging head writes one
# number): counted apart, as hypothesis draws such programs in runs of near-copies
OWN_DEFAULT = "averages numbers, but where nothing is selected it is"


def _compile(program: Any, causal: bool) -> str:
    if not isinstance(program, SOp):  # a constant the layer folded: nothing to compile
        return "not an s-op"
    try:
        model = compile_program(  # compiled or refused: no certificate is asked for here
            program,
            VOCAB,
            4,
            causal,
            verify=16,
            max_params=2_000_000,
            prove_limit=0,
            bounds_seconds=0,
            max_seconds=60,  # a pathological draw is refused, not run for half an hour
        )
    except (CompileError, ResourceLimitError) as err:
        blockers = err.blockers if isinstance(err, CompileError) else ()
        if blockers and all(OWN_DEFAULT in b for b in blockers):
            return "refused: a mean of numbers defaults to a word"
        return "refused"
    assert model.info.verified is not None and model.info.verified.exact
    return "compiled"


def _run(layer: str, n_programs: int, derandomize: bool = False) -> Counter[str]:
    strategy, program_of, causal = LAYERS[layer]
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=n_programs,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
        derandomize=derandomize,
    )
    @given(strategy)
    def run(drawn: Any) -> None:
        outcomes[_compile(program_of(drawn), causal)] += 1

    run()
    return outcomes


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_random_programs_compile_or_are_refused(layer: str) -> None:
    outcomes = _run(layer, 40, derandomize=True)  # the same draws every run; the slow run's vary
    assert outcomes["compiled"] >= 20, dict(outcomes)  # compiling nothing checks nothing


@pytest.mark.slow
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_many_random_programs_compile_or_are_refused(layer: str) -> None:
    outcomes = _run(layer, 150)
    own = outcomes["refused: a mean of numbers defaults to a word"]
    assert outcomes["compiled"] >= 0.8 * (150 - own), dict(outcomes)
    assert outcomes["compiled"] >= 75, dict(outcomes)  # most of them, whatever was drawn
