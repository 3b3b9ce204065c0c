"""An MLP reading many numbers: the axis search tries a bounded number of sign patterns
(fewest terms first) and stops at the compile's time limit. A random program of the fuzz
test once kept a compile at length 4 in the axis search for over 20 minutes; an MLP
reading 14 numbers has 3**14 sign patterns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rasplab.compiler.axis import MAX_SIGNS, _axes, _signs, axis_candidates
from rasplab.compiler.limits import compile_limits
from rasplab.compiler.units import Leaf, Problem, Target
from rasplab.errors import ResourceLimitError


def test_every_pattern_for_few_numbers_and_the_fewest_terms_first_for_many():
    assert _signs(3) == list(itertools.product((1.0, -1.0, 0.0), repeat=3))  # as before
    many = _signs(14)
    assert len(many) == MAX_SIGNS and len(set(many)) == MAX_SIGNS
    terms = [sum(1 for x in c if x) for c in many]
    assert terms == sorted(terms) and terms[0] == 1  # single numbers first
    singles = {tuple(1.0 if k == j else 0.0 for j in range(14)) for k in range(14)}
    assert singles <= set(many)


def _many_numbers(n_leaves: int) -> Problem:
    """A sum of ``n_leaves`` numbers, each 0 or 1, on 2**n points."""
    leaves = [Leaf.numerical(f"x{k}", [0.0, 1.0]) for k in range(n_leaves)]
    codes = np.array(list(itertools.product((0, 1), repeat=n_leaves)))
    return Problem(leaves, codes, Target.numerical("y"), codes.sum(axis=1).astype(float))


def test_the_axes_of_an_mlp_reading_14_numbers_are_bounded():
    axes = _axes(_many_numbers(14))
    assert 0 < len(axes) <= MAX_SIGNS


def test_the_axis_search_stops_at_the_time_limit():
    p = _many_numbers(14)  # its 2,187 axes take about 0.7 s on one core
    with compile_limits("many", 4, 0.02, None), pytest.raises(ResourceLimitError) as err:
        axis_candidates(p)
    assert "building the MLPs (stage 4)" in str(err.value)
