"""Read-out of discrete programs: the evaluator, the printed Python and the printed
.rasp all compute what the discrete model computes, checked input by input."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rasplab import parse
from rasplab.learn import Factor, Head, Layer, Mlp, Program, python_source, rasp_source, to_sop
from rasplab.learn.verify import equivalence, random_program, run_discrete


def _inputs(rng: random.Random, vocab, max_len: int, n: int = 40):
    return [[rng.choice(vocab) for _ in range(rng.randint(1, max_len))] for _ in range(n)]


def _rasp_output(source: str):
    name = next(line for line in source.splitlines() if line.startswith("# output:"))
    return parse(source)[name.split(": ")[1]]


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_read_out_exactly(seed):
    rng = random.Random(seed)
    vocab = ("a", "b", "c", "d") if seed % 2 else (0, 1, 2)
    program = random_program(rng, vocab, 5, 1 + seed % 3)
    inputs = _inputs(rng, vocab, 5)
    found = equivalence(program, to_sop(program), inputs)
    assert found.equal, found.example
    assert found.checked == len(inputs)
    from_rasp = equivalence(program, _rasp_output(rasp_source(program)), inputs)
    assert from_rasp.equal, from_rasp.example


def test_printed_python_runs_on_its_own():
    program = random_program(random.Random(3), ("a", "b"), 4, 2)
    namespace: dict = {}
    exec(python_source(program), namespace)
    inputs = _inputs(random.Random(0), ("a", "b"), 4)
    assert equivalence(program, namespace["program"], inputs).equal


def _hist_program() -> Program:
    head = Head("count", (Factor("tokens", "tokens", "=="),), "width")
    out = Mlp("output", ("count",), tuple(range(5)), 5)
    return Program(("a", "b", "c"), 4, (Layer((head,), ()),), out, (0, 1, 2, 3, 4))


def test_a_hand_made_program_is_hist():
    program = _hist_program()
    assert run_discrete(program, [list("abca")]) == [[2, 1, 1, 2]]
    source = rasp_source(program)
    assert "selector_width(select(tokens, tokens, ==))" in source
    assert _rasp_output(source)(list("abca")) == [2, 1, 1, 2]


def test_a_head_of_two_clauses_is_rasp_sort():
    ahead = (Factor("tokens", "tokens", "<"),)
    ties = (Factor("tokens", "tokens", "=="), Factor("indices", "indices", "<"))
    rank = Head("rank", ahead, "width", either=(ties,))
    moved = Head("moved", (Factor("rank", "indices", "=="),), "cat", "tokens")
    out = Mlp("output", ("moved",), (0, 1, 2), 3)
    layers = (Layer((rank,), ()), Layer((moved,), ()))
    program = Program(("a", "b", "c"), 5, layers, out, ("a", "b", "c"))
    assert run_discrete(program, [list("cabca")]) == [list("aabcc")]
    source = rasp_source(program)
    want = (
        "select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <))"
    )
    assert want in source
    assert _rasp_output(source)(list("cabca")) == list("aabcc")
    assert " | (select(" in python_source(program)
    inputs = _inputs(random.Random(0), ("a", "b", "c"), 5)
    assert equivalence(program, to_sop(program), inputs).equal


def test_a_conflicting_categorical_head_is_undefined_in_both():
    head = Head("moved", (Factor("tokens", "tokens", "true"),), "cat", "tokens")
    out = Mlp("output", ("moved",), (0, 1), 2)
    program = Program(("a", "b"), 3, (Layer((head,), ()),), out, ("a", "b"))
    found = equivalence(program, to_sop(program), [list("ab"), list("aa")])
    assert (found.mismatches, found.undefined) == (0, 1)
    assert run_discrete(program, [list("aa")]) == [["a", "a"]]


def test_an_unused_head_does_not_make_a_row_undefined():
    bad = Head("moved", (Factor("tokens", "tokens", "true"),), "cat", "tokens")
    program = _hist_program()
    layer = Layer(program.layers[0].heads + (bad,), ())
    program = Program(program.vocab, 4, (layer,), program.output, program.labels)
    assert run_discrete(program, [list("ab")]) == [[1, 1]]
    assert np.array_equal(to_sop(program)(list("ab")), [1, 1])
