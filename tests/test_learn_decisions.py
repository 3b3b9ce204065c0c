"""Tables over numbers printed as a few comparisons (rasplab.learn.decisions): the chain
found, the printed Python and .rasp equal to the discrete model on every input up to a
length, and tables no short chain expresses left as tables."""

from __future__ import annotations

import itertools

from rasplab import parse
from rasplab.learn import Factor, Head, Layer, Mlp, Program, rasp_source, to_sop
from rasplab.learn.decisions import decision_list, ones_test
from rasplab.learn.simplify import size
from rasplab.learn.verify import equivalence
from rasplab.library import dyck1

DYCK1 = '"F" if a > 0 else ("F" if b < 1/2 else ("P" if b > 1/2 else "T"))'


def _rule(went_below: float, share: float) -> str:
    if went_below > 0:
        return "F"
    return "F" if share < 0.5 else ("P" if share > 0.5 else "T")


def _dyck1(max_len: int, decided: bool) -> Program:
    """dyck1 as rasplab learn reads it out: the share of openers so far, the share of
    earlier places below one half, and an output table over the two."""
    share1 = Head("share1", (Factor("indices", "indices", "<="),), "mean", "tokens", (0,))
    held = Program(("(", ")"), max_len, (Layer((share1,), ()),), Mlp("output", (), (), 1), ("F",))
    values = held.variables()["share1"].values
    below = tuple(i for i, v in enumerate(values) if v < 0.5)
    share2 = Head("share2", (Factor("indices", "indices", "<"),), "mean", "share1", below)
    layers = (Layer((share1,), ()), Layer((share2,), ()))
    shares = Program(("(", ")"), max_len, layers, Mlp("output", (), (), 1), ("F",)).variables()
    grid = list(itertools.product(shares["share2"].values, shares["share1"].values))
    labels = ("F", "P", "T")
    table = tuple(labels.index(_rule(a, b)) for a, b in grid)
    formula = decision_list(grid, [labels[c] for c in table], [True] * len(grid))
    assert formula is not None
    out = Mlp("output", ("share2", "share1"), table, 3, formula[0] if decided else None)
    return Program(("(", ")"), max_len, layers, out, labels)


def _every_input(max_len: int) -> list[list[str]]:
    return [list(x) for n in range(1, max_len + 1) for x in itertools.product("()", repeat=n)]


def test_dyck1s_output_table_is_three_comparisons():
    program = _dyck1(8, decided=True)
    assert program.output.formula == DYCK1
    inputs = _every_input(8)  # 510 inputs
    assert equivalence(program, to_sop(program), inputs).equal
    source = rasp_source(program)
    assert 'output = "F" if share2 > 0 else ("F" if share1 < 1/2' in source
    name = next(x for x in source.splitlines() if x.startswith("# output:")).split(": ")[1]
    assert equivalence(program, parse(source)[name], inputs).equal
    reference = dyck1()
    assert all(to_sop(program)(x) == reference(x) for x in inputs)


def test_the_chain_prints_no_table_entries():
    table, chain = size(_dyck1(8, decided=False)), size(_dyck1(8, decided=True))
    assert table.table_entries == 529 + 2 and chain.table_entries == 2  # 23 x 23 shares at 8
    assert chain.lines < table.lines


def test_entries_the_data_never_reach_take_the_chains_value():
    grid = [(a,) for a in range(6)]
    old = ["lo", "lo", "lo", "x", "hi", "hi"]  # entry 3 unseen: its old value is arbitrary
    seen = [True, True, True, False, True, True]
    text, fn = decision_list(grid, old, seen)
    assert text == '"lo" if a < 3 else "hi"'
    assert [fn(*g) for g in grid] == ["lo", "lo", "lo", "hi", "hi", "hi"]


def test_a_table_no_short_chain_expresses_stays_a_table():
    grid = list(itertools.product(range(4), range(4)))
    parity = [(a + b) % 2 for a, b in grid]  # a checkerboard needs more than three tests
    assert decision_list(grid, parity, [True] * len(grid)) is None
    assert decision_list([("a",), ("b",)], [0, 1], [True, True]) is None  # not numbers


def test_a_counted_set_is_a_comparison_only_where_it_is_exactly_one():
    shares = (0.0, 0.25, 0.5, 0.75)
    assert ones_test(shares, (0, 1)) == "x < 1/2"
    assert ones_test(shares, (2, 3)) == "x > 1/3"  # the simplest boundary above 1/4
    assert ones_test(shares, (0, 2)) is None
    assert ones_test(("a", "b", "c"), (0,)) is None


def test_a_chain_with_fewer_values_re_indexes_the_tables_reading_it():
    from rasplab.learn.data import Examples, encode
    from rasplab.learn.formulas import find_formulas
    from rasplab.learn.verify import run_discrete

    # `big` (a count's 9 codes, 0 .. 8) is 2 or 5: a chain with two values, read by the
    # output beside the count, whose 9 x 9 table must be re-laid over 2 x 9
    count = Head("count", (Factor("tokens", "tokens", "=="),), "width")
    big = Mlp("big", ("count",), tuple(2 if c < 4 else 5 for c in range(9)), 9)
    table = tuple(int(b == 5) + 2 * (c % 2) for b in range(9) for c in range(9))
    out = Mlp("output", ("big", "count"), table, 4)
    program = Program(("a", "b"), 8, (Layer((count,), (big,)),), out, ("w", "x", "y", "z"))
    inputs = [list(x) for n in range(1, 9) for x in itertools.product("ab", repeat=n)]
    outputs = run_discrete(program, inputs)
    data = encode(Examples(inputs, outputs, ("a", "b"), program.labels, 8))
    found = find_formulas(program, data)
    (chain,) = [m for layer in found.layers for m in layer.mlps]
    assert chain.formula == "2 if a < 4 else 5"
    assert run_discrete(found, inputs) == outputs
