"""What a learned program does where its training data never looked: a mean head counts
the values below the simplest threshold the data allow, and a table follows its rows."""

import itertools

import numpy as np

from rasplab.learn.data import Encoded
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program, fractions
from rasplab.learn.fit import score
from rasplab.learn.formulas import unary_formulas
from rasplab.learn.thresholds import threshold_ones
from rasplab.learn.unseen import fill_unseen

MAX_LEN = 8
SHARES = tuple(float(f) for f in fractions(MAX_LEN))
LABELS = ("P", "F")


def _accuracy(program, data):
    return score(program, data).token_acc


def _program(ones_of_share):
    """share1: the prefix share of '('; share2: the share of earlier places whose share1
    is counted; the output: 'F' where share2 is above 0."""
    up_to = (Factor("indices", "indices", "<="),)
    before = (Factor("indices", "indices", "<"),)
    share1 = Head("share1", up_to, "mean", "tokens", ones=(0,))
    share2 = Head("share2", before, "mean", "share1", ones=ones_of_share)
    out = Mlp("output", ("share2",), tuple(int(v > 0) for v in SHARES), 2)
    layers = (Layer((share1,), ()), Layer((share2,), ()))
    return Program(("(", ")"), MAX_LEN, layers, out, LABELS)


def _data(lengths, counted):
    """Every input of these lengths; its label 'F' after a place whose share is counted."""
    rows = [xs for n in lengths for xs in itertools.product("()", repeat=n)]
    tokens = np.zeros((len(rows), MAX_LEN), dtype=np.int64)
    labels = np.full((len(rows), MAX_LEN), -100, dtype=np.int64)
    for r, xs in enumerate(rows):
        tokens[r, : len(xs)] = [0 if t == "(" else 1 for t in xs]
        opens, marked = 0, False
        for i, t in enumerate(xs):
            labels[r, i] = int(marked)
            opens += t == "("
            marked = marked or counted(opens / (i + 1))
    return Encoded(tokens, np.array([len(xs) for xs in rows], dtype=np.int64), labels)


def _codes(test):
    return tuple(i for i, v in enumerate(SHARES) if test(v))


def test_a_value_the_data_never_reach_follows_the_threshold():
    below = _codes(lambda v: v < 0.5)
    gap = SHARES.index(3 / 7)  # a share below one half first seen at the seventh place
    learned = _program(tuple(c for c in below if c != gap))
    short, full = _data(range(1, 8), lambda s: s < 0.5), _data([8], lambda s: s < 0.5)
    assert _accuracy(learned, short) == 1.0 and _accuracy(learned, full) < 1.0
    fixed = threshold_ones(learned, short, _accuracy)
    share2 = fixed.layers[1].heads[0]
    assert share2.ones == below
    assert _accuracy(fixed, full) == 1.0


def test_a_set_the_data_need_is_kept():
    half = _codes(lambda v: v == 0.5)  # earlier balanced prefixes: no threshold does
    learned = _program(half)
    data = _data(range(1, 9), lambda s: s == 0.5)
    assert _accuracy(learned, data) == 1.0
    assert threshold_ones(learned, data, _accuracy) == learned


def test_a_threshold_already_simplest_is_kept():
    learned = _program(_codes(lambda v: v < 0.5))
    data = _data(range(1, 9), lambda s: s < 0.5)
    assert threshold_ones(learned, data, _accuracy) == learned


def test_table_comparisons_try_the_simplest_constants_first():
    names = [name for name, _ in unary_formulas((0.0, 0.4, 3 / 7, 0.5, 1.0))]
    less = [n for n in names if n.startswith("a < ")]
    assert less[:3] == ["a < 0.0", "a < 1.0", "a < 0.5"]


def _two_input_program(table):
    """share2 and share1 read by an output table (rows: share2)."""
    program = _program(_codes(lambda v: v < 0.5))
    out = Mlp("output", ("share2", "share1"), tuple(int(x) for x in table.flatten()), 2)
    return Program(program.vocab, MAX_LEN, program.layers, out, LABELS)


def test_unreached_entries_follow_their_row():
    from rasplab.learn.simplify import _seen

    truth = np.array([[int(a > 0)] * len(SHARES) for a in SHARES])  # 'F' where share2 > 0
    short, full = _data(range(1, 8), lambda s: s < 0.5), _data([8], lambda s: s < 0.5)
    seen = _seen(_two_input_program(truth), _two_input_program(truth).output, short)
    seen = seen.reshape(truth.shape)
    fillable = seen.sum(axis=1, keepdims=True) >= 2
    learned = np.where(~seen & fillable, 0, truth)  # 'P' where training never looked
    program = _two_input_program(learned)
    assert _accuracy(program, short) == 1.0 and _accuracy(program, full) < 1.0
    fixed = fill_unseen(program, short)
    assert _accuracy(fixed, short) == 1.0 and _accuracy(fixed, full) == 1.0
    assert (np.asarray(fixed.output.table).reshape(truth.shape)[seen] == truth[seen]).all()
