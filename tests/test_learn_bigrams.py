"""The search's bigram move: a previous-token head, a pair table, a prefix mean of a pair
flag and a combining table fit with the output; on Dyck-2, from the balance check alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rasplab.learn.bigrams import bigram_move, combined_table
from rasplab.learn.data import library_examples
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program, fractions
from rasplab.learn.fit import score
from rasplab.learn.readout import to_sop
from rasplab.learn.run import _encoded
from rasplab.learn.scoring import Sample, bad_rows, nodes_of, run, take_sample
from rasplab.learn.search import (
    _fitted_move,
    _rebuild,
    _recombine,
    _resized,
    _start,
    refit_output,
)
from rasplab.learn.verify import equivalence


def _balance_program(vocab: tuple[str, ...], labels: tuple[str, ...]) -> Program:
    """Dyck-2's balance check (blind to the kind of bracket) with free parts left over:
    a cat head and its query table, a table in layer 1, a mean head and a table in layer 2."""
    rng = np.random.default_rng(0)
    n, out, shares = 16, 17, fractions(16)
    query = Mlp(
        "q", ("length", "indices"), tuple(int(x) for x in rng.integers(0, out, 17 * n)), out
    )
    opens = tuple(i for i, t in enumerate(vocab) if t in "({")
    under = tuple(i for i, f in enumerate(shares) if f < 0.5)
    share = Head("s1", (Factor("indices", "indices", "<="),), "mean", "tokens", opens)
    prev = Head("prev", (Factor("indices", "q", "=="),), "cat", "tokens")
    pair = Mlp("pair", ("tokens", "tokens"), (0,) * 16, out)
    negative = Head("s2", (Factor("indices", "indices", "<"),), "mean", "s1", under)
    spare = Head("s3", (Factor("indices", "indices", "<"),), "mean", "tokens", (1,))
    both = Mlp("both", ("s2", "s3"), (0,) * len(shares) ** 2, out)
    layers = (Layer((), (query,)), Layer((share, prev), (pair,)), Layer((negative, spare), (both,)))
    output = Mlp("output", ("s2", "s1"), (0,) * len(shares) ** 2, len(labels))
    return Program(vocab, n, layers, output, labels)


def test_bigram_move_flags_a_closer_of_the_wrong_kind_after_an_opener():
    examples = library_examples("dyck2", vocab=None, max_len=16, n=1200, seed=0)
    train = _encoded(examples, examples)
    start = refit_output(_balance_program(examples.vocab, examples.labels), train)
    state = _start(take_sample(start, train, 0), start)
    found = _fitted_move(take_sample(start, train, 0), state, start, float("inf"), bigram_move)
    assert found is not None and found.acc > state.acc + 0.05
    assert found.fitted == {found.output[0]}  # the combining table, refit with the output
    again = _recombine(take_sample(start, train, 0), found, start, float("inf"))
    assert again is None or again.acc > found.acc
    shaped = _rebuild(start, found, replace(start.output, inputs=found.output))
    program = refit_output(_resized(shaped, take_sample(start, train, 0)), train)
    assert score(program, train).token_acc > 0.95 > 0.9 > score(start, train).token_acc
    flagged = {n.name: n for n in nodes_of(program)}["s3"]
    assert isinstance(flagged, Head) and flagged.value == "pair"
    wrong = {("(", "}"), ("{", ")")}
    pairs = {(examples.vocab[c // 4], examples.vocab[c % 4]) for c in flagged.ones}
    assert pairs == wrong
    assert equivalence(program, to_sop(program), examples.inputs[:200]).equal


def test_combined_table_recovers_a_function_of_a_table_and_a_third_input():
    examples = library_examples("hist", vocab=tuple("abc"), max_len=4, n=300, seed=0)
    program = Program(examples.vocab, 4, (), Mlp("output", ("tokens",), (0,) * 3, 3), (0, 1, 2))
    data = take_sample(program, _encoded(examples, examples), 0)
    codes, conflicts = run(data, [], None, set())
    hidden = (codes["tokens"] == 2) | (codes["indices"] == 0)  # the class the table must find
    labels = np.where(hidden, (codes["length"] % 3), 0)
    data = Sample(data.tokens, data.lengths, np.where(data.mask, labels, -100), *_rest(data))
    table = Mlp("t", ("tokens", "indices"), (0,) * 12, 5)
    fitted, acc = combined_table(data, codes, bad_rows([], conflicts, len(labels)), table, "length")
    assert acc == 1.0
    assert fitted.table[0] != fitted.table[1 * 4 + 1]  # (a, 0) is in the class, (b, 1) not
    assert bigram_move(data, program, [], (codes, conflicts), ("tokens",), 0.0) is None


def _rest(data: Sample) -> tuple:
    return data.mask, data.variables, 3, data.n_real


def test_a_cell_seen_only_where_classes_agree_joins_its_nearest_clear_neighbour():
    from rasplab.learn.bigrams import _fill_unseen, _settled

    rows = np.asarray([[0, 1], [0, 0]])  # class 0: label = other input; class 1: always 0
    counts = np.zeros((4, 2, 2), dtype=np.int64)  # [cells, other input, labels]
    counts[0, 1, 1] = counts[1, 1, 0] = 3  # clear: class 0 at (0, 0), class 1 at (5, 5)
    counts[2, 0, 0] = counts[3, 0, 0] = 1  # seen only where both rows say 0
    places = np.asarray([[0, 0], [5, 5], [5, 4], [1, 0]])
    settled = _settled(counts, rows, np.asarray([0, 1, 0, 0]), places)
    assert settled.tolist() == [0, 1, 1, 0]
    full = _fill_unseen(places, np.asarray([0, 1, 1, 0]), 6, 6)
    assert full[5 * 6 + 3] == 1 and full[2 * 6 + 0] == 0 and full[0 * 6 + 5] == 0
