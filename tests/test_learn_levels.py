"""The search's level move: depths from prefix shares, the parity of a set of tokens at
or above each place's level, and the marks so far, made together; on Dyck-2, from a
balance check with junk parts beside it."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest

from rasplab.learn.data import library_examples, split
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program, fractions
from rasplab.learn.fit import score
from rasplab.learn.levels import depth_table, level_move, parity_table, slots
from rasplab.learn.readout import to_sop
from rasplab.learn.run import _encoded
from rasplab.learn.scoring import nodes_of, run, take_sample
from rasplab.learn.search import polish, refit_output
from rasplab.learn.verify import equivalence

UP_TO = Factor("indices", "indices", "<=")


def _junk_dyck(vocab: tuple[str, ...], labels: tuple[str, ...], n: int) -> Program:
    """Dyck's balance check (the share of closers so far, and whether it was ever over
    1/2) with junk parts in the model the move needs: 2 mean heads and 2 tables in
    layer 1, 2 mean heads, a width head and 2 tables in layer 2, a mean head and 2
    tables in layer 3."""
    rng = np.random.default_rng(0)
    junk = (Factor("tokens", "length", "<"),)

    def table(name: str) -> Mlp:
        return Mlp(
            name, ("indices", "indices"), tuple(int(x) for x in rng.integers(0, 17, n * n)), 17
        )

    closers = tuple(i for i, t in enumerate(vocab) if t in ")}")
    share = Head("s1", (UP_TO,), "mean", "tokens", closers)
    over = tuple(i for i, f in enumerate(fractions(n)) if f > Fraction(1, 2))
    negative = Head("s2", (UP_TO,), "mean", "s1", over)
    l1 = Layer((share, Head("j1", junk, "mean", "tokens", (0,))), (table("t1"), table("t2")))
    l2_heads = (negative, Head("j2", junk, "mean", "tokens", (0,)), Head("w", junk, "width"))
    l2 = Layer(l2_heads, (table("t3"), table("t4")))
    l3 = Layer((Head("j3", junk, "mean", "tokens", (0,)),), (table("t5"), table("t6")))
    output = Mlp("output", ("s2", "s1"), (0,) * len(fractions(n)) ** 2, len(labels))
    return Program(vocab, n, (l1, l2, l3), output, labels)


@pytest.fixture(scope="module")
def dyck2():
    examples = library_examples("dyck2", vocab=None, max_len=12, n=1500, seed=0)
    train, val, test = split(examples, 1000, 250, 250, 0)
    start = _junk_dyck(examples.vocab, examples.labels, examples.max_len)
    return examples, _encoded(train, examples), _encoded(val, examples), test, start


def test_the_level_move_checks_the_kind_of_every_closer(dyck2):
    examples, train, val, test, start = dyck2
    start = refit_output(start, train)
    data, nodes = take_sample(start, train, 0), nodes_of(start)
    found = level_move(
        data,
        start,
        nodes,
        run(data, nodes, None, set()),
        start.output.inputs,
        time.monotonic() + 60,
    )
    assert found is not None
    move, output = found
    assert output == ("t5", "s1")  # the combining table, and the share of up-steps
    levels = [n for n in move.values() if isinstance(n, Head) and len(n.factors) == 3]
    assert sorted(n.kind for n in levels) == ["mean", "width"]  # the share of k and the count
    assert levels[0].factors == levels[1].factors
    marks = {n.name: n for n in move.values()}["j3"]
    assert isinstance(marks, Head) and marks.value == "t3" and marks.ones == (1,)


def test_polish_with_the_level_move_learns_dyck2(dyck2):
    examples, train, val, test, start = dyck2
    start = refit_output(start, train)
    assert score(start, train).token_acc < 0.92
    found = polish(start, train, rounds=1)
    assert found.train_acc == 1.0 and score(found.program, val).token_acc >= 0.995
    check = equivalence(found.program, to_sop(found.program), test.inputs)
    assert check.equal and check.undefined == 0


def test_slots_need_three_layers_with_the_parts(dyck2):
    examples, train, val, test, start = dyck2
    nodes = nodes_of(start)
    found = slots(start, nodes, start.output.inputs)
    names = [nodes[i].name for i in vars(found[0]).values()]
    assert names == ["s1", "j1", "t1", "t2", "s2", "j2", "w", "t3", "j3", "t5"]
    two = Program(start.vocab, start.max_len, start.layers[:2], start.output, start.labels)
    assert slots(two, nodes_of(two), start.output.inputs) == []


def test_depth_and_parity_tables():
    shares, n = fractions(4), 4
    after = depth_table("d", ("s", "indices"), n, 6, 1, 1)  # (indices + 1) * (2 s - 1), + 1
    at = {(float(f), p): after.table[i * n + p] for i, f in enumerate(shares) for p in range(n)}
    assert at[(1.0, 3)] == 5 and at[(0.5, 3)] == 1 and at[(0.0, 0)] == 0  # 4, 0, below zero
    down = depth_table("d", ("s", "indices"), n, 6, -1, 1)  # the share counts down-steps
    assert down.table[0 * n + 1] == 3  # no down-steps in 2 places: depth 2
    odd = parity_table("p", ("k", "c"), n, 2, (1, 0))  # an odd share of an even count
    cell = {
        (float(f), c): odd.table[i * (n + 1) + c]
        for i, f in enumerate(shares)
        for c in range(n + 1)
    }
    assert cell[(0.25, 4)] == 1 and cell[(0.5, 4)] == 0 and cell[(0.5, 2)] == 1
    assert cell[(1.0, 3)] == 0 and cell[(0.0, 0)] == 0
