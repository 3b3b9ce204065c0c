"""Prefix counts without a mask, over the positions' digits: dyck1 and dyck2 past 256.

Without a causal mask, dyck's ``round((i + 1) * mean(prefix, flag))`` is a
count of the flagged keys ``k <= q``, and "was the balance ever negative?" an
average read only as "above 0?". A head comparing ``k <= q`` one-hot needs a
direction per position, and its model grows with the square of the length
(dyck1: 1.25 M parameters at 300, 13.9 M at 1,024). Past
``ORDER_DIGITS_ABOVE`` values a side, both are split over two digits of each
position, one head per part (:mod:`.order_digits`), and each part's count
keeps ``B = n``; one MLP adds the parts, each decoded on its own. The flag ``balance < 0`` is read off
``balance`` by steps, not by a line that would pass its float32 error on.
"""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import evaluate
from rasplab.compiler import compile_program, mlp
from rasplab.compiler.order_digits import ORDER_DIGITS_ABOVE
from rasplab.compiler.units import Leaf, Target
from rasplab.library import PROGRAMS


def _compiled(name: str, n: int):
    entry = PROGRAMS[name]
    program = entry.build()
    return program, compile_program(program, list(entry.vocab), n, sample=entry.sample)


def test_dyck1_unmasked_past_the_limit_counts_over_digits_and_is_proved_in_float32():
    n = ORDER_DIGITS_ABOVE + 1
    program, model = _compiled("dyck1", n)
    proof = model.info.certificate
    assert (proof.status, proof.dtype) == ("proved", "float32")
    assert model.d_model < 80  # 273 directions at 256, one per position
    assert model.n_params < 150_000  # 924,146 at 256, one-hot
    notes = " ".join(model.info.notes)
    assert "its orders are tested on two digits of each side" in notes
    assert "prev_negative: only read as 'any key selected?'" in notes
    rng = np.random.default_rng(7)
    rows = [list(rng.choice(list("()"), size=int(rng.integers(1, n + 1)))) for _ in range(20)]
    rows += [["("] * n, [")"] + ["("] * (n - 1), ["("] * 140 + [")"] * (n - 140)]
    got = model.run(rows, "float32")
    assert [out for out in got] == [evaluate(program, xs) for xs in rows]


def test_at_300_the_parts_are_added_by_one_separable_mlp():
    # the two parts' weights (289 and 19 values) are added by one MLP of two lines; a
    # least-squares fit of the sum missed by 1e-5, and the second part went one-hot, read
    # with the first by 594 units of steps that the bounds could not bound
    _, model = _compiled("dyck1", 300)
    assert model.info.certificate.dtype == "float32"
    assert model.n_params < 150_000  # 1,254,410 with the positions one-hot


def test_at_or_below_the_limit_the_prefix_stays_one_hot():
    _, model = _compiled("dyck1", ORDER_DIGITS_ABOVE)
    assert model.d_model > ORDER_DIGITS_ABOVE  # indices one-hot: no split
    assert model.info.certificate.dtype == "float32"


@pytest.mark.slow
def test_dyck1_unmasked_at_1024_is_proved_in_float32_in_a_small_model():
    _, model = _compiled("dyck1", 1024)
    proof = model.info.certificate
    assert (proof.status, proof.dtype) == ("proved", "float32")
    assert model.n_params < 400_000  # 13,917,170 with the positions one-hot


def _flag_problem():
    values = list(range(-64, 65))
    leaf = Leaf.numerical("balance", values)
    codes = np.arange(len(values))[:, None]
    return leaf, codes, [1.0 if v < 0 else 0.0 for v in values]


def test_a_flag_read_off_a_number_is_built_of_steps_not_a_line():
    leaf, codes, flag = _flag_problem()
    spec = mlp.synthesize([leaf], codes, Target.numerical("flag"), flag)
    assert spec.strategy == "axis"  # a line of 2 units would pass balance's error on
    one_hot = mlp.synthesize([leaf], codes, Target.categorical(("f:0", "f:1")), flag)
    assert one_hot.strategy == "axis"
    # a number that is not a flag is still a line where that is smaller
    values = list(range(-64, 65))
    line = mlp.synthesize([leaf], codes, Target.numerical("twice"), [2.0 * v for v in values])
    assert line.strategy == "linear"


def test_an_any_of_earlier_positions_is_answered_over_digits():
    # split_after's "any earlier separator?" averages a flag over indices < indices
    n = ORDER_DIGITS_ABOVE + 16
    program, model = _compiled("split_after", n)
    assert (model.info.certificate.status, model.info.certificate.dtype) == ("proved", "float32")
    assert model.heads_per_layer == (2,) and model.d_model < 80  # 1 head, 526 wide at 512
    rng = np.random.default_rng(3)
    entry = PROGRAMS["split_after"]
    rows = [
        list(rng.choice(list(entry.vocab), size=int(rng.integers(1, n + 1)))) for _ in range(10)
    ]
    assert model.run(rows, "float32") == [evaluate(program, xs) for xs in rows]


def test_a_sum_of_two_decoded_counts_is_separable_where_least_squares_misses():
    # two counts' weights B / (B + c) at B = 300: the parts read off the axes add up
    # exactly, where one least-squares fit over all 308 columns missed by 1e-5
    n = 300
    first, second = range(289), range(19)
    a = Leaf.numerical("first", [n / (n + c) for c in first])
    b = Leaf.numerical("second", [n / (n + c) for c in second])
    codes = np.array([(i, j) for i in first for j in second if i + j <= n])
    out = [float(i + j) for i, j in codes]
    spec = mlp.synthesize([a, b], codes, Target.numerical("sum", 1 / 64), out)
    assert spec is not None and spec.strategy == "separable"
    assert len(spec.units) < 160  # two lines within the slack, not one unit per value
