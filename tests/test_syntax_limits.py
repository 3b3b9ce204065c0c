"""The surface language's limits are cheap to hit and say how to raise them; Ctrl-C in the REPL."""

from __future__ import annotations

import io
import time

import pytest

from rasplab.errors import RaspError
from rasplab.syntax import Limits, LoopLimitError, RecursionLimitError, parse
from rasplab.syntax.repl import Repl


def _timed_refusal(source: str, error: type, **options) -> tuple[str, float]:
    start = time.perf_counter()
    with pytest.raises(error) as info:
        parse(source, **options)
    return str(info.value), time.perf_counter() - start


def test_a_huge_sum_is_refused_before_parsing() -> None:
    message, seconds = _timed_refusal(
        "x = " + " + ".join(["1"] * 200_000) + ";", RecursionLimitError
    )
    assert seconds < 1.0, f"{seconds:.2f} s to refuse"
    assert "nests too deeply" in message and "Limits(max_nesting=" in message
    assert parse("x = " + " + ".join(["1"] * 2000) + ";")["x"] == 2000


def test_the_nesting_limit_can_be_lowered_and_names_the_place() -> None:
    source = "a = 1;\ny = [" + "-" * 30 + "1];"
    message, _ = _timed_refusal(source, RecursionLimitError, limits=Limits(max_nesting=10))
    assert message.startswith("line 2, column") and "max_nesting=10" in message
    assert parse(source)["y"] == [1]


def test_a_comprehension_over_a_million_items_is_refused_at_once() -> None:
    message, seconds = _timed_refusal("y = [i for i in range(1000000)];", LoopLimitError)
    assert seconds < 2.0, f"{seconds:.2f} s to refuse"
    assert "over 1000000 items" in message and "Limits(max_steps=" in message
    loop = "t = 0; for i in range(5000) { t = t + 1; }"
    _timed_refusal(loop, LoopLimitError, limits=Limits(max_steps=1000))
    assert parse(loop, limits=Limits(max_steps=10_000))["t"] == 5000


def test_an_overlong_source_is_refused_with_its_limit() -> None:
    message, _ = _timed_refusal("x = 1;" * 100, LoopLimitError, limits=Limits(max_source_chars=50))
    assert "600 characters" in message and "Limits(max_source_chars=" in message


def test_every_limit_message_says_how_to_raise_it() -> None:
    cases = [
        ("def f(x) { return f(x); } y = f(1);", Limits()),
        ("x = range(10);", Limits(max_collection=5)),
        ('x = "ab" * 10;', Limits(max_collection=5)),
        ("x = 2 ^ 5000;", Limits(max_int_bits=100)),
        ('x = tokens("abcdef");', Limits(max_input_length=3)),
    ]
    for source, limits in cases:
        with pytest.raises(RaspError, match=r"(?i)raise (it|the limit) with Limits\("):
            parse(source, limits=limits)


# ---------------------------------------------------------------- the REPL and Ctrl-C


def test_ctrl_c_during_an_evaluation_keeps_the_session(monkeypatch) -> None:
    out = io.StringIO()
    repl = Repl(out, example="abc")
    repl.feed("hist = selector_width(select(tokens, tokens, ==));")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rasplab.syntax.repl.evaluate", interrupted)
    assert repl.feed("slow = hist + 1;") is True  # the session goes on
    assert "interrupted" in out.getvalue()
    monkeypatch.undo()
    assert repl.scope.defines("hist")
    repl.feed("again = hist * 2;")
    assert 'again("abc") = [2]*3' in out.getvalue()


def test_ctrl_c_in_a_long_loop_keeps_earlier_definitions(monkeypatch) -> None:
    out = io.StringIO()
    repl = Repl(out, example="ab")
    repl.feed("double = tokens + tokens;")
    calls = []

    def tick_then_interrupt():
        calls.append(1)
        if len(calls) > 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(repl.interp, "tick", tick_then_interrupt)
    repl.feed("t = 0;")
    repl.feed("for i in range(100) {")
    assert repl.feed("t = t + 1; }") is True
    monkeypatch.undo()
    assert "interrupted" in out.getvalue()
    assert repl.scope.defines("double") and repl.interp.depth == 0
    repl.feed("x = double;")
    assert out.getvalue().endswith('x("ab") = [aa, bb] (strings)\n'), out.getvalue()
