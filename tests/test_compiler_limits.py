"""Programs the compiler had never seen: sums, minima, tracr SequenceMaps, size limits."""

from __future__ import annotations

import random
import time

import pytest

from rasplab import aggregate, indices, select, selector_width, tokens, zipmap
from rasplab import map as map_
from rasplab.compat import tracr as rasp
from rasplab.compiler import compile_program
from rasplab.errors import CompileError, ResourceLimitError


def where(cond, x, y):
    """raspy's ``where``: ``x`` where ``cond`` holds, else ``y``."""
    return zipmap(lambda c, a, b: a if c else b, cond, x, y)


def cumsum(seq):
    return aggregate(select(indices, indices, "<="), seq, mode="sum").named("cumsum")


def minimum(seq):
    """raspy's minimum: the key no other key beats (earlier keys win ties)."""
    before = select(indices, indices, "<")
    beaten = (before & select(seq, seq, "==")) | select(seq, seq, "<")
    less = aggregate(beaten, 1, mode="sum")
    return aggregate(select(less, 0, "=="), seq, mode="sum").named("min")


def test_sequence_map_over_rewritten_maps_compiles():
    total = aggregate(select(indices, indices, "<="), tokens, mode="sum")
    program = rasp.SequenceMap(
        lambda a, b: a + b, rasp.Map(lambda x: x + 1, total), rasp.Map(lambda x: x * 2, tokens)
    )
    model = compile_program(program, [1, 2, 3], 5)
    assert model([1, 2, 3]) == [4, 8, 13]


@pytest.mark.parametrize(
    ("build", "vocab", "n", "most"),
    [
        (lambda: cumsum(tokens), [0, 1, 2, 3], 16, 20_000),
        (lambda: cumsum(tokens == "a"), ["a", "b"], 16, 20_000),
        (lambda: cumsum(tokens - 1), [0, 1, 2], 8, 20_000),
    ],
    ids=["cumsum", "prefix-count", "negative"],
)
def test_sums_of_few_integers_are_counts(build, vocab, n, most):
    model = compile_program(build(), vocab, n)
    assert model.info.verified.exact
    assert model.n_params < most
    assert any("count head" in note or "counting" in note for note in model.info.notes)


def test_minimum_at_32_is_refused_before_any_plan_with_the_sop_named(monkeypatch):
    """Refused from the value sets: no layout is planned, at 32 or at the shorter lengths
    the refusal tries (it names the longest whose values list, found from value sets)."""
    from rasplab.compiler import driver

    def no_plan(*args, **kwargs):
        raise AssertionError("planned a layout for a program refused for its values")

    monkeypatch.setattr(driver, "plan_layout", no_plan)
    with pytest.raises(CompileError) as err:
        compile_program(minimum(where(tokens == "a", indices, 99)), ["a", "b"], 32)
    assert "min can take too many distinct values" in str(err.value)
    assert "length: every value can be listed at max_seq_len 23 but not at 24" in str(err.value)


def test_a_balloon_is_refused_before_weights_with_one_message():
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError) as err:
        compile_program(cumsum(tokens), list(range(10)), 16, max_params=5_000)
    seconds = time.perf_counter() - start
    text = str(err.value)
    assert seconds < 2.0
    assert "max_params=5,000" in text and "--max-params" in text
    assert "cumsum" in text and "smaller max_seq_len" in text


def test_a_sum_of_ten_digits_at_32_is_small_and_quick():
    """mean x width: the count one-hot and the mean one number, so one MLP steps along the
    mean with thresholds that move with the count (the mean one-hot took 65 M parameters)."""
    start = time.perf_counter()
    model = compile_program(cumsum(tokens), list(range(10)), 32)
    assert time.perf_counter() - start < 10.0
    assert model.info.verified.exact and model.n_params < 200_000
    assert model([9] * 32)[-1] == 288


def test_max_params_none_and_bad_values():
    assert compile_program(cumsum(tokens), [0, 1], 4, max_params=None).info.verified.exact
    with pytest.raises(CompileError, match="max_params must be"):
        compile_program(cumsum(tokens), [0, 1], 4, max_params=0)


def test_cli_max_params_flag(capsys):
    from rasplab.cli.main import main

    code = main(["compile", "sort", "--max-len", "8", "--max-params", "100"])
    assert code != 0
    assert "max_params=100" in capsys.readouterr().err


# ---------------------------------------------------------------- random programs


def _random_sop(rng: random.Random, depth: int):
    """Programs over 0-2: sums, max/min, where-zipmaps, maps of maps, SequenceMaps."""
    if depth == 0:
        return rng.choice([tokens, indices, tokens, tokens + 1])
    a = _random_sop(rng, depth - 1)
    kind = rng.choice(["map", "where", "seqmap", "agg", "agg", "width"])
    if kind == "map":
        return map_(rng.choice([lambda x: x % 3, lambda x: min(x, 2), lambda x: x * 2 - 1]), a)
    if kind == "where":
        return where(a > 0, a, _random_sop(rng, depth - 1))
    if kind == "seqmap":
        b = rasp.Map(lambda x: x % 2, _random_sop(rng, depth - 1))
        return rasp.SequenceMap(lambda x, y: x + y, rasp.Map(lambda x: x + 1, a), b)
    sel = _random_selector(rng, a)
    if kind == "width":
        return selector_width(sel)
    mode = rng.choice(["sum", "sum", "max", "min", "mean", "words"])
    if mode == "words":  # raspy's .value() of letters: moves one value, or is an error
        letters = map_(lambda x: "abc"[x % 3], a)
        return aggregate(sel, letters, default=rng.choice([0, "-"]), mode="sum")
    return aggregate(sel, map_(lambda x: x % 3, a) if mode == "mean" else a, mode=mode)


def _random_selector(rng: random.Random, sop):
    preds = ["==", "<", "<=", ">", "!="]
    sel = select(rng.choice([sop, indices, tokens]), rng.choice([sop, indices]), rng.choice(preds))
    for _ in range(rng.randint(0, 2)):
        other = select(
            rng.choice([tokens, indices]), rng.choice([tokens, indices]), rng.choice(preds)
        )
        sel = rng.choice([sel & other, sel | other, ~sel])
    return sel


def _outcome(seed: int) -> str:
    rng = random.Random(seed)
    program = _random_sop(rng, rng.randint(1, 3))
    try:
        model = compile_program(program, [0, 1, 2], rng.randint(3, 6), verify=40, seed=seed)
    except ResourceLimitError:
        return "too large"
    except CompileError:
        return "blocked"
    assert model.info.verified.exact, f"seed {seed}"
    return "exact"


def _outcomes(seeds) -> dict[str, int]:
    counts: dict[str, int] = {}
    for seed in seeds:
        kind = _outcome(seed)  # any other exception fails the test, with its seed
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_random_programs_compile_or_are_refused():
    counts = _outcomes(range(30))
    assert counts.get("exact", 0) >= 15


@pytest.mark.slow
def test_many_random_programs_compile_or_are_refused():
    counts = _outcomes(range(40, 400))
    assert counts.get("exact", 0) >= 180
