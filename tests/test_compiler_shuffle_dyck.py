"""tracr's shuffle-Dyck-2 (lib.make_shuffle_dyck, written here in rasplab.compat.tracr):
balances are averages over prefixes, so mean x width and a one-hot count keep it small."""

from __future__ import annotations

from rasplab.compat import tracr as rasp
from rasplab.compiler import compile_program


def frac_prevs(bools):
    prevs = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LEQ)
    return rasp.numerical(rasp.Aggregate(prevs, rasp.numerical(bools), default=0))


def balance(open_token: str, close_token: str):
    opens = frac_prevs(rasp.numerical(rasp.tokens == open_token))
    closes = frac_prevs(rasp.numerical(rasp.tokens == close_token))
    return rasp.numerical(rasp.LinearSequenceMap(opens, closes, 1, -1))


def shuffle_dyck(pairs: list[str]):
    balances = [balance(p[0], p[1]).named(f"balance_{p}") for p in pairs]
    negative = balances[0] < 0
    for b in balances[1:]:
        negative = negative | (b < 0)
    negative = rasp.numerical(rasp.Map(lambda x: x, negative)).named("any_negative")
    everything = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.TRUE)
    has_neg = rasp.numerical(rasp.Aggregate(everything, negative, default=0)).named("has_neg")
    zero = balances[0] == 0
    for b in balances[1:]:
        zero = zero & (b == 0)
    last = rasp.Select(rasp.indices, rasp.length - 1, rasp.Comparison.EQ)
    last_zero = rasp.Aggregate(last, zero).named("last_zero")
    return (last_zero & ~has_neg).named("shuffle_dyck")


def test_shuffle_dyck2_at_10_is_exact_and_small():
    """It took 22 M parameters (refused) when both attention outputs were one-hot first."""
    model = compile_program(shuffle_dyck(["()", "[]"]), "()[]", 10)
    assert model.info.verified.exact
    assert model.n_params < 200_000
    assert model("([)]") == [1, 1, 1, 1]
    assert model("(][)") == [0, 0, 0, 0]
