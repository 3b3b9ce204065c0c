"""The width of a selector that picks every key is the length (compiler/widths.py):
tracr's own way of counting it compiles like ``length``, proved at long lengths,
and a causal compile still refuses it."""

from __future__ import annotations

import pytest

from rasplab import indices, select, selector_width, tokens
from rasplab.compat import tracr as rasp
from rasplab.compiler import compile_program
from rasplab.compiler.verify import verify
from rasplab.errors import CompileError
from rasplab.library import PROGRAMS

NOTE = "the width of a selector that picks every key is the length"


def tracr_reverse():
    """tracr's ``make_reverse`` over its ``make_length``, in tracr's API."""
    everything = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.TRUE)
    length = rasp.SelectorWidth(everything).named("length")
    last = rasp.Map(lambda x: x - 1, length).named("last")
    mirror = rasp.SequenceMap(lambda x, y: x - y, last, rasp.indices).named("mirror")
    flip = rasp.Select(rasp.indices, mirror, rasp.Comparison.EQ).named("flip")
    return rasp.Aggregate(flip, rasp.tokens).named("reverse")


def test_tracrs_reverse_is_as_small_as_the_librarys_and_exact_on_every_input() -> None:
    program = tracr_reverse()
    model = compile_program(program, list("abc"), 5)
    ours = compile_program(PROGRAMS["reverse"].build(), list("abc"), 5)
    assert any(NOTE in note for note in model.info.notes)
    assert model.n_params <= 2 * ours.n_params  # 88,533 at 64 as a width (1,753 ours)
    result = verify(model, program, exhaustive=True)
    assert result.exhaustive and result.exact and result.n_inputs == 363


@pytest.mark.slow
def test_tracrs_reverse_at_256_is_proved_in_float32() -> None:
    """As a count decoded by an MLP it was 722,380 parameters, float64 only, 36 s."""
    model = compile_program(tracr_reverse(), list("abc"), 256)
    proof = model.info.certificate
    assert proof is not None and (proof.status, proof.dtype) == ("proved", "float32")
    assert model.n_params < 10_000


def test_only_a_select_all_width_is_the_length() -> None:
    almost = selector_width(select(tokens, tokens, "==")).named("same")
    every = selector_width(select(indices, tokens, "true")).named("n")
    model = compile_program((almost + every).named("sum"), list("ab"), 6)
    notes = [note for note in model.info.notes if NOTE in note]
    assert notes == [f"n: {NOTE}"]
    assert verify(model, (almost + every).named("sum"), exhaustive=True).exact


def test_a_causal_compile_still_refuses_it_by_the_users_name() -> None:
    width = selector_width(select(tokens, tokens, "true")).named("n")
    with pytest.raises(CompileError, match="n: its selector .* may pick keys after the query"):
        compile_program(width, list("ab"), 8, causal=True)
