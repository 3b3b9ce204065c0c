"""A refusal for too many values names the longest max_seq_len that lists them."""

from dataclasses import replace

import pytest

from rasplab import aggregate, indices, numerical, select, selector_width, tokens, zipmap
from rasplab.compiler import compile_program
from rasplab.compiler.job import make_job
from rasplab.compiler.limits import compile_limits
from rasplab.compiler.listable import Listable, listable_hint, longest_listable
from rasplab.errors import CompileError

VOCAB = [0, 1, 2, 3]


def _weighted_mean():
    """A prefix mean of token * position: about n^3 / 6 values, listable up to 34."""
    return numerical(aggregate(select(indices, indices, "<="), tokens * indices)).named("m")


def _job(program, vocab, n):
    return make_job(program, vocab, n, False, 0, None, 0, None, None)


def test_the_length_named_compiles_and_the_next_is_refused():
    with pytest.raises(CompileError) as err:
        compile_program(_weighted_mean(), VOCAB, 128)
    text = str(err.value)
    assert "m can take too many distinct values at max_seq_len 128" in text
    assert "length: every value can be listed at max_seq_len 34 but not at 35" in text
    model = compile_program(_weighted_mean(), VOCAB, 34, verify=50)
    assert model.info.verified.exact and model.info.verified.n_inputs >= 50
    with pytest.raises(CompileError, match="too many distinct values at max_seq_len 35"):
        compile_program(_weighted_mean(), VOCAB, 35, verify=0)


def test_the_same_length_is_found_from_any_start():
    found = {longest_listable(_job(_weighted_mean(), VOCAB, n)).fits for n in (35, 36, 50, 300)}
    assert found == {34}


def test_a_program_that_never_lists_asks_for_a_smaller_vocabulary():
    pair = zipmap(lambda a, b: a * 1000 + b, tokens, tokens + 1).named("pair")
    with pytest.raises(CompileError) as err:
        compile_program(pair, list(range(700)), 4)
    assert "cannot be listed even at max_seq_len 1: use a smaller vocabulary" in str(err.value)


def test_the_search_stops_at_its_own_limit_and_says_so():
    found = longest_listable(_job(_weighted_mean(), VOCAB, 128), seconds=0.0)
    assert (found.fits, found.refused, found.complete) == (0, 128, False)
    hint = listable_hint(_job(_weighted_mean(), VOCAB, 128), seconds=0.0)
    assert "no time was left to look for a max_seq_len" in hint


@pytest.mark.parametrize(
    ("found", "words"),
    [
        (Listable(0, 64, 0.5), "was found down to 64 (the search stopped after 0.5 s)"),
        (Listable(16, 64, 0.5), "listed at max_seq_len 16 (not at 64; the search between"),
        (Listable(624, 632, 9.5), "max_seq_len 624 but not at 632, the lengths between untried:"),
    ],
)
def test_a_search_cut_short_says_how_far_it_got(found, words, monkeypatch):
    from rasplab.compiler import listable

    monkeypatch.setattr(listable, "longest_listable", lambda job, seconds: found)
    assert words in listable_hint(_job(_weighted_mean(), VOCAB, 128))


def test_the_search_stops_at_the_compiles_time_limit():
    with compile_limits("m", 128, seconds=0.0, max_bytes=None):
        found = longest_listable(_job(_weighted_mean(), VOCAB, 128), seconds=60)
    assert found.fits == 0 and not found.complete


def test_a_length_over_max_params_does_not_count():
    """A one-hot s-op of V values at one position costs at least V * V parameters
    (size.early_estimate): a count of equal tokens has n values at the last position,
    and 2,000 parameters allow 44 of them."""
    counts = selector_width(select(tokens, tokens, "=="))
    moved = aggregate(select(indices, indices, "=="), counts).named("moved")
    job = replace(_job(moved, VOCAB, 128), max_params=2_000)
    found = longest_listable(job)
    assert found.complete and (found.fits, found.refused) == (44, 45)
    every = longest_listable(replace(job, max_params=None))  # every length fits
    assert every.complete and every.fits >= 126 and every.refused == 128
