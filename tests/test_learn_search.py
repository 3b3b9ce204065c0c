"""The discrete search that polishes learned programs: it finds heads that read earlier
heads, never lowers training accuracy, stops at its deadline, and reads out exactly."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from rasplab.learn.data import Examples, library_examples, split
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program
from rasplab.learn.fit import score
from rasplab.learn.readout import to_sop
from rasplab.learn.run import _encoded
from rasplab.learn.search import polish, refit_output
from rasplab.learn.simplify import simplify
from rasplab.learn.verify import equivalence

TRUE = Factor("tokens", "tokens", "true")


def _task(name: str, vocab: tuple[str, ...], max_len: int, n: int = 900):
    examples = library_examples(name, vocab=vocab, max_len=max_len, n=n, seed=0)
    train, val, test = split(examples, n - 300, 150, 150, 0)
    return examples, _encoded(train, examples), _encoded(val, examples), test


def _start(examples: Examples, layers: tuple[Layer, ...], inputs: tuple[str, ...]) -> Program:
    """A program with a wrong (all first label) output table over ``inputs``."""
    output = Mlp("output", inputs, (0,), len(examples.labels))
    program = Program(examples.vocab, examples.max_len, layers, output, examples.labels)
    sizes = {name: v.size for name, v in program.variables().items()}
    cells = int(np.prod([sizes[i] for i in inputs]))
    return replace(program, output=replace(output, table=(0,) * cells))


def _double_hist_start(examples: Examples) -> Program:
    """Two counts that are wrong for double_hist: the second reads no earlier head."""
    first = Head("l1_width0", (Factor("tokens", "tokens", "!="),), "width")
    second = Head("l2_width0", (Factor("indices", "length", "<"),), "width")
    return _start(examples, (Layer((first,)), Layer((second,))), ("tokens", "indices"))


@pytest.fixture(scope="module")
def double_hist():
    examples, train, val, test = _task("double_hist", tuple("abcd"), 6)
    start = _double_hist_start(examples)
    return examples, train, val, test, start, polish(start, train, rounds=4)


def test_search_finds_the_count_of_equal_counts(double_hist):
    examples, train, val, test, start, found = double_hist
    assert score(start, train).token_acc < 0.6
    assert found.train_acc == 1.0 and score(found.program, val).token_acc == 1.0
    first, second = (layer.heads[0] for layer in found.program.layers)
    assert first.factors == (Factor("tokens", "tokens", "=="),)
    assert second.factors == (Factor("l1_width0", "l1_width0", "=="),)
    assert set(found.program.output.inputs) == {"l1_width0", "l2_width0"}


def test_search_only_ever_raises_training_accuracy(double_hist):
    *_, found = double_hist
    steps = np.diff(found.history)
    assert len(steps) == found.moves >= 1
    assert (steps > 0).all()
    assert found.train_acc >= found.start_acc


def test_polished_program_reads_out_exactly(double_hist):
    examples, train, val, test, start, found = double_hist
    check = equivalence(found.program, to_sop(found.program), test.inputs)
    assert check.equal and check.checked == len(test.inputs) and check.undefined == 0
    simple = simplify(found.program, train)
    assert equivalence(simple.program, to_sop(simple.program), test.inputs).equal


def test_search_stops_at_its_deadline():
    examples, train, val, test = _task("double_hist", tuple("abcd"), 6)
    start = _double_hist_start(examples)
    began = time.monotonic()
    found = polish(start, train, rounds=50, deadline=began)  # already passed
    assert time.monotonic() - began < 2.0
    assert found.moves == 0
    # nothing searched, but the output table is refit: never worse than the start
    assert found.train_acc >= found.start_acc
    quick = polish(start, train, rounds=50, deadline=time.monotonic() + 0.05)
    assert quick.seconds < 2.0


def test_refit_output_is_majority_and_not_worse():
    examples, train, val, test = _task("hist", tuple("abc"), 5)
    head = Head("l1_width0", (Factor("tokens", "tokens", "=="),), "width")
    start = _start(examples, (Layer((head,)),), ("l1_width0", "indices"))
    refit = refit_output(start, train)
    assert score(start, train).token_acc < 0.5
    assert score(refit, train).token_acc == 1.0


def test_search_finds_a_prefix_share_for_dyck1():
    examples, train, val, test = _task("dyck1", ("(", ")"), 8, n=1200)
    share = Head("l1_mean0", (Factor("tokens", "indices", ">"),), "mean", "length", (1,))
    later = Head("l2_mean0", (Factor("length", "length", "=="),), "mean", "tokens", (0,))
    start = _start(examples, (Layer((share,)), Layer((later,))), ("tokens", "indices"))
    found = polish(start, train, rounds=4)
    assert found.train_acc > score(start, train).token_acc + 0.1
    assert score(found.program, val).token_acc >= 0.97
    first = found.program.layers[0].heads[0]
    assert first.factors[0].key == first.factors[0].query == "indices"
    check = equivalence(found.program, to_sop(found.program), test.inputs)
    assert check.equal


def test_search_finds_the_stable_sort_tie_break():
    """From the program gradient training stops at (places after a repeated token's
    first copy select nothing), a range between two counts sorts every input."""
    examples, train, val, test = _task("sort", tuple("abcd"), 5)
    smaller = Head("l1_width0", (Factor("tokens", "tokens", "<"), TRUE), "width")
    spare = Head("l1_width1", (Factor("indices", "length", "<"), TRUE), "width")
    move = Head("l2_cat0", (Factor("l1_width0", "indices", "=="), TRUE), "cat", "tokens")
    layers = (Layer((smaller, spare)), Layer((move,)))
    start = refit_output(_start(examples, layers, ("l2_cat0", "indices")), train)
    assert 0.6 < score(start, train).token_acc < 0.95
    found = polish(start, train, rounds=2)
    assert found.train_acc == 1.0 and score(found.program, val).token_acc == 1.0
    check = equivalence(found.program, to_sop(found.program), test.inputs)
    assert check.equal and check.undefined == 0


def test_fit_with_polish_learns_double_hist_where_training_alone_does_not():
    from rasplab.learn.config import LearnConfig
    from rasplab.learn.fit import fit

    examples = library_examples("double_hist", vocab=tuple("abcd"), max_len=6, n=900, seed=0)
    train, val, _ = split(examples, 600, 150, 150, 0)
    config = LearnConfig(
        layers=2, plan=(("width",), ("width",)), mlps=0, factors=1, steps=40, restarts=1
    )
    plain = fit(examples, train, val, config.replace(polish=False), seed=0)
    polished = fit(examples, train, val, config, seed=0)
    assert plain.val.token_acc < 0.9
    assert polished.val.token_acc == 1.0
    assert polished.polished and polished.polished[0]["kept"]


def test_a_used_head_moves_to_a_free_earlier_head_so_a_later_one_can_read_it():
    """The prefix share learned in layer 2 moves to layer 1; layer 2 then finds the share
    of earlier places where that share is under 1/2 (a prefix went negative)."""
    examples, train, val, test = _task("dyck1", ("(", ")"), 8, n=1200)
    junk = Head("l1_mean0", (Factor("tokens", "tokens", ">"),), "mean", "indices", (0,))
    share = Head("l2_mean0", (Factor("indices", "indices", "<="),), "mean", "tokens", (0,))
    start = _start(examples, (Layer((junk,)), Layer((share,))), ("l2_mean0", "indices"))
    found = polish(start, train, rounds=3)
    assert found.train_acc == 1.0 and score(found.program, val).token_acc >= 0.99
    first, second = (layer.heads[0] for layer in found.program.layers)
    assert (first.factors, first.value, first.ones) == (share.factors, "tokens", (0,))
    assert second.value == "l1_mean0"
    assert equivalence(found.program, to_sop(found.program), test.inputs).equal


def test_search_finds_sort_from_a_start_that_reads_no_count():
    """A chain move sets a count and the move that reads it together; a range then
    breaks ties."""
    examples, train, val, test = _task("sort", tuple("abcd"), 5)
    wrong = Head("l1_width0", (Factor("tokens", "indices", "<="), TRUE), "width")
    spare = Head("l1_width1", (Factor("indices", "indices", "<="), TRUE), "width")
    same = (Factor("indices", "indices", "=="), Factor("tokens", "tokens", "=="))
    move = Head("l2_cat0", same, "cat", "tokens")
    layers = (Layer((wrong, spare)), Layer((move,)))
    start = refit_output(_start(examples, layers, ("l2_cat0", "indices")), train)
    assert score(start, train).token_acc < 0.6
    found = polish(start, train, rounds=4)
    assert found.train_acc == 1.0 and score(found.program, val).token_acc == 1.0


def test_search_finds_a_compaction_of_first_copies_for_most_freq():
    """From three layers of counts that read nothing useful, one compaction move sets
    a constant, a first-copy count, the counts of first copies before and up to each
    place, and the move between them: distinct tokens in order of first appearance."""
    examples, train, val, test = _task("most_freq", tuple("abcd"), 6)
    junk = [(Factor("tokens", "indices", "<"), Factor("length", "indices", "<"))] * 5
    l1 = Layer(tuple(Head(f"l1_width{i}", junk[i], "width") for i in range(2)))
    l2 = Layer(tuple(Head(f"l2_width{i}", junk[2 + i], "width") for i in range(2)))
    move = Head("l3_cat0", (Factor("indices", "indices", "=="), TRUE), "cat", "tokens")
    l3 = Layer((move, Head("l3_width0", junk[4], "width")))
    start = refit_output(_start(examples, (l1, l2, l3), ("l3_cat0", "indices")), train)
    found = polish(start, train, rounds=1, deadline=time.monotonic() + 6, sample=300)
    assert found.train_acc > score(start, train).token_acc + 0.15
    cat = found.program.layers[2].heads[0]
    assert [(f.key, f.query) for f in cat.factors] == [
        ("l2_width0", "indices"),
        ("l2_width1", "indices"),
    ]
    assert equivalence(found.program, to_sop(found.program), test.inputs).equal
