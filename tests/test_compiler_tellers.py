"""Maps that tell a count apart (compiler/tellers.py): keys agreeing on a count's digits
agree on the count, so a select that reads only the digits is seen to move one value."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rasplab.compiler import driver
from rasplab.compiler.bounds import propagate
from rasplab.compiler.bounds_space import time_budget
from rasplab.compiler.ranks import class_ranks_among
from rasplab.compiler.tellers import tellers_among
from rasplab.library import get


@pytest.fixture(scope="module")
def dyck2_in_digits():
    # causal dyck2 at 128, its wide equalities as digits: the opener's head reads the
    # depth index's two digits (and those of depth_index - 1), never the count itself
    entry = get("dyck2")
    job = driver.make_job(entry.build(), list(entry.vocab), 128, True, 0, None, 0, None, None)
    job = replace(job, all_digits=driver.DIGITS_AFTER_CHECK)
    model, _, blueprint = driver._build(job, [], {})
    return model, blueprint


def _labels(nodes, way):
    return tuple(nodes[n].label for n in way)


def test_every_minimal_set_of_digits_is_a_way(dyck2_in_digits):
    _, blueprint = dyck2_in_digits
    nodes, values, origin = blueprint.layout.nodes, blueprint.values, blueprint.origin
    within = class_ranks_among(nodes, values, origin)
    (count,) = [n for n in within if nodes[n].label == "depth_index"]
    ways = tellers_among(nodes, values, origin, frozenset(within))[count]
    labelled = {_labels(nodes, w) for w in ways}
    assert ("depth_index.high", "depth_index.low") in labelled  # what the keys read
    assert all(len(w) <= 3 for w in ways)
    assert not any(set(a) < set(b) for a in ways for b in ways)  # each minimal


def test_the_opener_that_reads_digits_is_proved_to_move_one_value(dyck2_in_digits):
    model, blueprint = dyck2_in_digits
    with time_budget(60):
        found = propagate(model, blueprint, False)
    assert found.open == () and found.margin > 0.99
