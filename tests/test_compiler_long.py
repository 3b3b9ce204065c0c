"""Library programs at long lengths: small, and exact in float32 where they compile."""

from __future__ import annotations

import random

import pytest

from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS


def _skewed_inputs(vocab: list, n: int, count: int, seed: int = 0) -> list[list]:
    """Inputs of lengths near 1 and near ``n``, some nearly one token: the extreme counts."""
    rng = random.Random(seed)
    rows = [[vocab[0]] * n, [vocab[0]] * (n - 1) + [vocab[-1]], [vocab[0]]]
    while len(rows) < count:
        length = rng.choice([1, 2, n - 1, n, rng.randint(1, n)])
        skew = rng.random()
        rows.append([vocab[0] if rng.random() < skew else rng.choice(vocab) for _ in range(length)])
    return rows


@pytest.mark.slow
def test_hist_at_1024_is_one_number_and_exact_in_float32() -> None:
    entry = PROGRAMS["hist"]
    vocab = list(entry.vocab)
    model = compile_program(entry.build(), vocab, 1024, verify=0, prove_limit=0)
    assert model.d_model < 16 and model.n_params < 60_000  # one-hot counts took 6,375,689
    rows = _skewed_inputs(vocab, 1024, 60)
    program = entry.build()
    wrong = [xs for xs in rows if model(xs) != program(xs)]
    assert not wrong, (
        f"{len(wrong)} of {len(rows)} inputs differ; the first has length {len(wrong[0])}"
    )
