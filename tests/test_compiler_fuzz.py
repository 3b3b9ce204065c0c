"""Random programs: every one either compiles to an exact model or is refused with blockers.

Each seed builds a small program from tokens (the numbers 0-2, or the letters
a-c), indices and length with random maps, zipmaps, selects (combined with
``&``, ``|``, ``~``), aggregates (mean, max, min) and selector widths. Compiling it must give a model the evaluator
agrees with on random inputs, in float32 and float64, or a CompileError
listing blockers; never a model that disagrees (``compile_program``'s own
verification reports that as a compiler bug). A program the evaluator rejects
on every sampled input is *vacuous*: nothing was compared, so it is counted
apart and never as a pass.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from rasplab import aggregate, indices, length, numerical, select, selector_width, tokens, zipmap
from rasplab.compiler import compile_program, verify
from rasplab.errors import CompileError

VOCAB = (0, 1, 2)
MAPS = (
    lambda x: x + 1,
    lambda x: 2 * x,
    lambda x: x % 3,
    lambda x: min(x, 2),
    lambda x: x > 1,
    lambda x: x == 0,
)
ZIPS = (
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: max(a, b),
    lambda a, b: a == b,
)
PREDICATES = ("==", "<", "<=", ">", "!=", "TRUE")


def _selector(rng: random.Random, pool: list):
    sel = select(rng.choice(pool), rng.choice(pool), rng.choice(PREDICATES))
    roll = rng.random()
    if roll < 0.2:
        sel = sel & select(rng.choice(pool), rng.choice(pool), rng.choice(PREDICATES))
    elif roll < 0.3:
        sel = sel | select(rng.choice(pool), rng.choice(pool), rng.choice(PREDICATES))
    elif roll < 0.35:
        sel = ~sel
    return sel


def _step(rng: random.Random, pool: list):
    kind = rng.choice(("map", "map", "zip", "agg", "mean", "width"))
    if kind == "map":
        return rng.choice(pool).map(rng.choice(MAPS))
    if kind == "zip":
        return zipmap(rng.choice(ZIPS), rng.choice(pool), rng.choice(pool))
    if kind == "agg":  # moves a value (or averages, if the policy finds it must)
        return aggregate(_selector(rng, pool), rng.choice(pool), default=0)
    if kind == "mean":
        flag = numerical(rng.choice(pool).map(lambda x: 1 if x == 1 else 0))
        return numerical(aggregate(_selector(rng, pool), flag, default=0))
    return selector_width(_selector(rng, pool))


LETTERS = ("a", "b", "c")
LETTER_MAPS = (
    lambda x: x == "a",
    lambda x: {"a": 0, "b": 1, "c": 2}.get(x, 3) if isinstance(x, str) else x,
    lambda x: x if isinstance(x, str) else str(x)[:1],
    lambda x: x > 1,
    lambda x: x == 0,
)


def _letter_step(rng: random.Random, pool: list):
    """Steps over letters too: string maps, tuple zipmaps, max/min, defaults that are not 0."""
    kind = rng.choice(("map", "zip", "agg", "mean", "width", "extreme"))
    if kind == "map":
        return rng.choice(pool).map(rng.choice(LETTER_MAPS))
    if kind == "zip":
        pair = rng.choice((lambda a, b: a == b, lambda a, b: (a, b) if a != b else a))
        return zipmap(pair, rng.choice(pool), rng.choice(pool))
    if kind == "agg":
        return aggregate(_selector(rng, pool), rng.choice(pool), default=rng.choice((0, "a", None)))
    if kind == "extreme":
        values = rng.choice(pool[:1] + pool[3:])
        mode = rng.choice(("max", "min"))
        return aggregate(_selector(rng, pool), values, default=0, mode=mode)
    if kind == "mean":
        flag = numerical(rng.choice(pool).map(lambda x: 1 if x in ("a", 1) else 0))
        return numerical(aggregate(_selector(rng, pool), flag, default=0))
    return selector_width(_selector(rng, pool))


def random_program(seed: int, step=None):
    """One to four random steps over tokens, indices, length and the steps before."""
    rng = random.Random(seed)
    pool = [tokens, indices, length]
    for _ in range(rng.randint(1, 4)):
        pool.append((step or _step)(rng, pool))
    return pool[-1]


def random_letter_program(seed: int):
    return random_program(seed, _letter_step)


OUTCOMES = ("exact", "blocked", "vacuous")


def check_seed(seed: int, max_seq_len: int | None = None, letters: bool = False) -> str:
    """'exact' (compiled, and agrees on inputs that were compared), 'blocked' (refused
    with blockers) or 'vacuous' (the evaluator rejects every sampled input, so nothing
    could be compared); raises on a model that disagrees with the evaluator.

    Letter programs use lengths 3-6 and compile every fifth one as a decoder.
    """
    program = random_letter_program(seed) if letters else random_program(seed)
    n = max_seq_len or (3 + seed % 4 if letters else 4 + seed % 4)
    vocab, causal = (LETTERS, seed % 5 == 0) if letters else (VOCAB, False)
    try:
        # small domains are enumerated (a disagreement raises); bounds are tested elsewhere
        model = compile_program(
            program, vocab, n, causal=causal, verify=100, seed=seed, bounds_seconds=0
        )
    except CompileError as err:
        if err.blockers:
            return "blocked"
        assert "the evaluator rejected all" in str(err), f"seed {seed}: {err}"
        return "vacuous"
    result = verify(model, program, 100, dtype=np.float64, seed=seed + 1)
    if result.n_inputs == 0:
        return "vacuous"
    assert result.exact, f"seed {seed}, float64: {result}"
    return "exact"


@pytest.mark.parametrize("block", range(8))
def test_random_programs_compile_exactly_or_are_refused(block):
    outcomes = [check_seed(seed) for seed in range(block * 25, (block + 1) * 25)]
    assert outcomes.count("exact") >= 15  # the generator makes mostly compilable programs
    assert outcomes.count("vacuous") <= 2  # number maps rarely reject every input


# Seeds (at max_seq_len 5) that once failed, and why:
# 202: the aggregate policy removed an s-op from a list, and list.remove compares with ==,
#      which on s-ops builds a zipmap (a RaspTypeError instead of a model);
# 1138, 1720, 2626: an MLP reads a mean stored with 0 and 0.0 merged, computes 2 where the
#      value set holds 2.0 (a KeyError);
# 4345: the same inside a tuple of query s-ops, (2, 0) against (2, 0.0);
# 4814: an aggregate assumed to move one value averaged on a verification input; the
#      compiler now plans again with that input as evidence.
@pytest.mark.parametrize("seed", [202, 1138, 1720, 2626, 4345, 4814])
def test_programs_that_once_failed(seed):
    assert check_seed(seed, max_seq_len=5) == "exact"


@pytest.mark.parametrize("block", range(4))
def test_random_letter_programs_compile_exactly_or_are_refused(block):
    outcomes = [check_seed(seed, letters=True) for seed in range(block * 25, (block + 1) * 25)]
    # about a third of letter programs apply a number map to a letter at every input
    # (the evaluator rejects them all): vacuous, counted apart, never a pass
    assert outcomes.count("exact") >= 10
    assert outcomes.count("vacuous") <= 12


# Letter seeds that crash the compiler without their guard: 17 and 107, an averaging
# aggregate whose default is None or "a" (a blocker that says to give it a numerical
# default where some query selects nothing; compiled where none does, as BOS never wins);
# 872, a head that reads a number with an empty value set.
@pytest.mark.parametrize("seed", [17, 107, 872])
def test_letter_programs_that_once_crashed(seed):
    assert check_seed(seed, letters=True) in ("exact", "blocked")


# 1584, 5583: an aggregate over keys that all hold one number n moves it, and the evaluator
# gives n.0 (a mean of equal numbers); the head wrote nothing for n, as n.0 is another key.
@pytest.mark.parametrize("seed", [1584, 5583])
def test_letter_programs_that_once_disagreed(seed):
    assert check_seed(seed, letters=True) == "exact"


def test_torch_module_matches_numpy_on_random_programs():
    """The PyTorch module's logits equal the numpy forward pass's on random programs."""
    torch = pytest.importorskip("torch")
    from rasplab.compiler.encodings import sample_inputs
    from rasplab.model.torch import from_compiled

    compared = 0
    for seed in range(60):
        letters = seed % 2 == 1
        program = random_letter_program(seed) if letters else random_program(seed)
        vocab, n = (LETTERS, 3 + seed % 4) if letters else (VOCAB, 4 + seed % 4)
        try:
            model = compile_program(program, vocab, n, verify=0, seed=seed)
        except CompileError:
            continue
        ids = np.stack(
            [model.encode(xs) for xs in sample_inputs(vocab, n, 8, seed) if len(xs) == n]
        )
        want = model.forward(ids, np.float64)  # [batch, pos, d_out]
        got = from_compiled(model)(torch.tensor(ids)).double().numpy()
        assert np.abs(got - want).max() <= 1e-5 * max(1.0, np.abs(want).max()), seed
        compared += 1
    assert compared >= 40
