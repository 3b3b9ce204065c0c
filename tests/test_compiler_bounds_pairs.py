"""A head's (query, key) pairs past the fixed limit are scored when the bounds' time
budget allows them, and refused at once, naming the flag, when it cannot; the keys'
agreements are found once per head, whatever the blocks of queries."""

from __future__ import annotations

import pytest

import rasplab.compiler.bounds_heads as heads
import rasplab.compiler.bounds_space as space
from rasplab.compiler.bounds import propagate
from rasplab.compiler.bounds_space import time_budget
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import dyck2


@pytest.fixture(scope="module")
def built():
    # causal dyck2 at 8: matched_opener has 162 query by 648 key combinations, and
    # selects one key only by the ranks within a class (the agreements)
    return compile_with_blueprint(dyck2(), list("()[]"), 8, causal=True)


def _pass(built, limit: int, seconds: float = 60.0):
    model, blueprint = built
    with time_budget(seconds):
        return propagate(model, blueprint, False, limit)


def test_a_budget_that_cannot_hold_the_pairs_refuses_at_once(built, monkeypatch):
    monkeypatch.setattr(space, "PAIRS_PER_SECOND", 1)  # as if each pair took a second
    found = _pass(built, limit=1000)
    assert found.margin != found.margin  # NaN: nothing kept
    (item,) = [o for o in found.open if o.startswith("head matched_opener")]
    assert "162 query by 648 key combinations, more than 16,000 pairs" in item
    assert "--bounds-seconds" in item


def test_pairs_past_the_limit_are_scored_within_the_budget(built):
    everything = _pass(built, limit=2_000_000)
    assert not everything.open and everything.margin > 0.99
    past = _pass(built, limit=1000)  # 104,976 pairs, over 16 * 1,000
    assert not past.open
    assert past.margin == everything.margin


def test_blocks_of_few_queries_prove_the_same(built, monkeypatch):
    whole = _pass(built, limit=2_000_000)
    monkeypatch.setattr(heads, "PAIRS", 700)  # one or two queries a block
    blocks = _pass(built, limit=2_000_000)
    assert blocks.open == whole.open == ()
    assert blocks.margin == whole.margin


def test_parts_past_the_time_budget_are_one_open_item(built):
    from rasplab.compiler.bounds import certificate_by_bounds

    model, blueprint = built
    proof = certificate_by_bounds(model, blueprint, None, 0, seconds=0.0)
    late = [o for o in proof.open if "time budget" in o]
    assert len(late) == 1  # the first part, and how many follow it
    assert " parts after it: not bounded within the bounds' time budget of 0 s" in late[0]
    assert proof.status == "sampled"
