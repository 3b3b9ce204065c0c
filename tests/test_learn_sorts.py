"""The search's sort move: a key table set to a formula, one head that ranks it (RASP's
sort: the keys ahead or equal and before), a move by rank and a flag, made together; on
most_freq, from counts that read nothing useful."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from rasplab.learn.data import library_examples, split
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program
from rasplab.learn.fit import score
from rasplab.learn.readout import rasp_source, to_sop
from rasplab.learn.run import _encoded
from rasplab.learn.scoring import nodes_of, run, take_sample
from rasplab.learn.search import polish, refit_output
from rasplab.learn.simplify import simplify
from rasplab.learn.sorts import _keys, places, sort_move
from rasplab.learn.verify import equivalence

TRUE = Factor("tokens", "tokens", "true")


def _junk_most_freq(vocab: tuple[str, ...], labels: tuple[str, ...], n: int) -> Program:
    """most_freq's model (two counts, two counts, a move and a mean, a table in each
    layer), every part reading nothing useful; the output reads the move and the place."""
    junk = (Factor("tokens", "indices", "<"), Factor("length", "indices", "<"))
    tables = [Mlp(f"t{i}", ("indices", "indices"), (0,) * n * n, n + 1) for i in range(3)]
    l1 = Layer(tuple(Head(f"a{i}", junk, "width") for i in range(2)), (tables[0],))
    l2 = Layer(tuple(Head(f"b{i}", junk, "width") for i in range(2)), (tables[1],))
    move = Head("moved", (Factor("indices", "indices", "=="), TRUE), "cat", "tokens")
    flag = Head("flag", junk, "mean", "tokens", (0,))
    l3 = Layer((move, flag), (tables[2],))
    output = Mlp("output", ("moved", "indices"), (0,) * len(vocab) * n, len(labels))
    return Program(vocab, n, (l1, l2, l3), output, labels)


@pytest.fixture(scope="module")
def most_freq():
    examples = library_examples("most_freq", vocab=tuple("abcd"), max_len=6, n=900, seed=0)
    train, val, test = split(examples, 600, 150, 150, 0)
    start = _junk_most_freq(examples.vocab, examples.labels, examples.max_len)
    start = refit_output(start, _encoded(train, examples))
    return examples, _encoded(train, examples), _encoded(val, examples), test, start


def test_sort_move_finds_most_freq_from_junk(most_freq):
    examples, train, val, test, start = most_freq
    data, nodes = take_sample(start, train, 0), nodes_of(start)
    base = run(data, nodes, None, set())
    found, acc = sort_move(data, start, nodes, base, start.output.inputs, time.monotonic() + 60)
    assert score(start, train).token_acc < 0.7
    assert found is not None and acc == 1.0
    move, output = found
    assert output == ("moved", "flag")
    by_name = {node.name: node for node in move.values()}
    assert by_name["moved"].factors[0] == Factor("b0", "indices", "==")
    rank = by_name["b0"]  # one head: the keys ahead, or equal and before
    key = rank.factors[0].key
    assert rank.factors[0] == Factor(key, key, ">") and key == "t0"
    assert rank.either == ((Factor(key, key, "=="), Factor("indices", "indices", "<")),)
    assert not any(isinstance(node, Mlp) and node.name == "t1" for node in move.values())


def test_polish_with_the_sort_move_reads_out_and_simplifies(most_freq):
    examples, train, val, test, start = most_freq
    found = polish(start, train, rounds=1, sample=600)
    assert found.train_acc == 1.0 and score(found.program, val).token_acc == 1.0
    check = equivalence(found.program, to_sop(found.program), test.inputs)
    assert check.equal and check.undefined == 0
    simple = simplify(found.program, train)
    assert equivalence(simple.program, to_sop(simple.program), test.inputs).equal
    text = rasp_source(simple.program)
    # the key table is a mask, printed as a formula; the rank is one head of two clauses
    assert " * (" in text and "== 0)" in text
    assert " or (select(" in text and "indices, indices, <)" in text
    assert simple.after.heads < simple.before.heads and simple.after.layers == 3


def test_keys_are_tried_once_per_order_of_the_places(most_freq):
    examples, train, val, test, start = most_freq
    data, nodes = take_sample(start, train, 200), nodes_of(start)
    codes, _ = run(data, nodes, None, set())
    parts = [p for p in places(start, nodes, start.output.inputs) if p.key >= 0][0]
    orders = set()
    for _, _, key in _keys(data, start, nodes, codes, parts):
        _, order = np.unique(np.where(data.mask, key, -1), return_inverse=True)
        orders.add(order.tobytes())
    assert len(orders) > 10
    count = sum(1 for _ in _keys(data, start, nodes, codes, parts))
    assert count == len(orders)


def test_places_need_a_width_head_and_a_later_move(most_freq):
    examples, train, val, test, start = most_freq
    nodes = nodes_of(start)
    found = places(start, nodes, start.output.inputs)
    assert [(p.key, p.rank, p.moved, p.flag) for p in found] == [(-1, 0, 6, 7), (2, 3, 6, 7)]
    no_tables = replace(start, layers=tuple(replace(la, mlps=()) for la in start.layers))
    assert [p.key for p in places(no_tables, nodes_of(no_tables), start.output.inputs)] == [-1, -1]
    no_moves = replace(start, layers=start.layers[:2])
    assert places(no_moves, nodes_of(no_moves), start.output.inputs) == []


def test_a_mask_formula_reads_out_with_its_bracket():
    vocab, n = tuple("ab"), 3
    count = Head("c", (Factor("tokens", "tokens", "=="), TRUE), "width")
    before = Head(
        "e", (Factor("tokens", "tokens", "=="), Factor("indices", "indices", "<")), "width"
    )
    cells = tuple(a * (b == 0) for a in range(n + 1) for b in range(n + 1))
    mask = Mlp("k", ("c", "e"), cells, n + 1, formula="a * (b == 0)")
    output = Mlp("output", ("k",), tuple(range(n + 1)), n + 1)
    program = Program(vocab, n, (Layer((count, before), (mask,)),), output, tuple(range(n + 1)))
    assert "k = c * (e == 0);" in rasp_source(program)
    inputs = [list("aba"), list("bb"), list("a")]
    assert equivalence(program, to_sop(program), inputs).equal
