"""Prefix counts without a mask, over the positions' digits: dyck1 and dyck2 past 384.

Without a causal mask, dyck's ``round((i + 1) * mean(prefix, flag))`` is a
count of the flagged keys ``k <= q``, and "was the balance ever negative?" an
average read only as "above 0?". A head comparing ``k <= q`` one-hot needs a
direction per position, and its model grows with the square of the length
(dyck1: 3.55 M parameters at 512, 13.9 M at 1,024). Past
``COUNT_DIGITS_ABOVE`` values a side, both are split over two digits of each
position, one head per part (:mod:`.order_digits`), and each part's count
keeps ``B = n`` and is decoded on its own. The flag ``balance < 0`` is read off
``balance`` by steps, not by a line that would pass its float32 error on.
"""

from __future__ import annotations

import numpy as np
import pytest

from rasplab import evaluate
from rasplab.compiler import compile_program, mlp
from rasplab.compiler.order_digits import COUNT_DIGITS_ABOVE
from rasplab.compiler.units import Leaf, Target
from rasplab.library import PROGRAMS


def _compiled(name: str, n: int):
    entry = PROGRAMS[name]
    program = entry.build()
    return program, compile_program(program, list(entry.vocab), n, sample=entry.sample)


def test_dyck1_unmasked_past_the_limit_counts_over_digits_and_is_proved_in_float32():
    program, model = _compiled("dyck1", COUNT_DIGITS_ABOVE + 1)
    proof = model.info.certificate
    assert (proof.status, proof.dtype) == ("proved", "float32")
    assert model.d_model < 80  # 316 directions at 300, one per position
    assert model.n_params < 150_000  # 1,254,410 at 300, one-hot
    notes = " ".join(model.info.notes)
    assert "its orders are tested on two digits of each side" in notes
    assert "prev_negative: only read as 'any key selected?'" in notes
    rng = np.random.default_rng(7)
    rows = [list(rng.choice(list("()"), size=int(rng.integers(1, 386)))) for _ in range(20)]
    rows += [["("] * 385, [")"] + ["("] * 384, ["("] * 200 + [")"] * 185]
    got = model.run(rows, "float32")
    assert [out for out in got] == [evaluate(program, xs) for xs in rows]


def test_at_or_below_the_limit_the_prefix_stays_one_hot():
    _, model = _compiled("dyck1", 300)
    assert model.d_model > 300  # indices one-hot: no split at 300 (its parts went unproved)
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
    program, model = _compiled("split_after", COUNT_DIGITS_ABOVE + 16)
    assert (model.info.certificate.status, model.info.certificate.dtype) == ("proved", "float32")
    assert model.heads_per_layer == (2,) and model.d_model < 80  # 1 head, 526 wide at 512
    rng = np.random.default_rng(3)
    entry = PROGRAMS["split_after"]
    rows = [list(rng.choice(list(entry.vocab), size=int(rng.integers(1, 401)))) for _ in range(10)]
    assert model.run(rows, "float32") == [evaluate(program, xs) for xs in rows]
