"""Total orders of the positions by form, against the table (compiler/total_orders.py)."""

from __future__ import annotations

import pytest

from rasplab import indices, select, selector_width, tokens
from rasplab.compiler.formulas import formula, variables
from rasplab.compiler.ranks import distinct_ranks, permutation_ranks
from rasplab.compiler.total_orders import REFLEXIVE, STRICT, TUPLES, by_form, by_table
from rasplab.compiler.value_sets import infer
from rasplab.lang.graph import topological_order
from rasplab.library import most_freq

small = tokens.map(lambda t: {"a": 2, "b": 0, "c": 1}[t]).named("small")  # 3 numbers


def _selectors():
    """(name, selector): lexicographic orders and look-alikes that are not orders."""
    tie = select(tokens, tokens, "==") & select(indices, indices, "<")
    deep = select(small, small, "==") & (
        select(tokens, tokens, ">") | (select(tokens, tokens, "==") & select(indices, indices, ">"))
    )
    return [
        ("sort", select(tokens, tokens, "<") | tie),
        ("reversed first", select(tokens, tokens, ">") | tie),
        (
            "counts itself",
            select(tokens, tokens, "<")
            | (select(tokens, tokens, "==") & select(indices, indices, "<=")),
        ),
        ("three levels", select(small, small, "<") | deep),
        ("no tie-break", select(tokens, tokens, "<") | select(indices, indices, "<")),
        ("weak first", select(tokens, tokens, "<=") | tie),
        ("tie on another s-op", select(small, small, "<") | tie),
        ("positions alone", select(indices, indices, "<")),
        ("equal positions", select(indices, indices, "==")),
    ]


@pytest.mark.parametrize("name, sel", _selectors(), ids=[n for n, _ in _selectors()])
def test_the_form_never_claims_what_the_table_denies(name, sel):
    f = formula(sel)
    found = variables(f)
    program = selector_width(sel)
    values = infer(program, "abc", 4)
    lists = {var: values.union(sop) for var, sop in found.items()}
    order = sorted({nid for side, nid in found if side == "q"})
    table = by_table(f, order, lists)
    form = by_form(f, lists)
    assert form in (None, table)  # where the form says it, the table agrees
    orders = {"sort", "reversed first", "counts itself", "three levels", "positions alone"}
    assert (form is not None) == (name in orders)
    assert form == {"counts itself": REFLEXIVE}.get(name, STRICT if name in orders else None)


def test_the_form_needs_values_that_less_than_orders():
    nan = tokens.map(lambda t: float("nan") if t == "a" else 1.0).named("nan")
    sel = select(nan, nan, "<") | (select(nan, nan, "==") & select(indices, indices, "<"))
    f = formula(sel)
    lists = {
        var: [float("nan"), 1.0] if sop is nan else list(range(4))
        for var, sop in variables(f).items()
    }
    assert by_form(f, lists) is None


def test_most_freqs_key_order_is_proved_past_the_table():
    # the key (minus a count, or 0) takes n + 1 values: (n + 1) * n tuples, past the table
    n = 80
    assert (n + 1) * n > TUPLES
    program = most_freq()
    values = infer(program, "abc", n)
    target = next(x for x in topological_order(program) if x.label == "target_pos")
    assert distinct_ranks(target, values) and permutation_ranks(target, values)
