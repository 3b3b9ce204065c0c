"""The REPL, driven by feeding it lines."""

from __future__ import annotations

import io

from rasplab.syntax.repl import Repl, run_repl


def session(*lines: str, example="hello") -> tuple[Repl, str]:
    out = io.StringIO()
    repl = Repl(out, example=example)
    repl.run(lines)
    return repl, out.getvalue()


def test_new_sops_are_shown_on_the_example():
    _, text = session('x = tokens == "l";', "y = indices + 1;")
    assert text.splitlines() == [
        "s-op: x",
        '    Example: x("hello") = [F, F, T, T, F] (bools)',
        "s-op: y",
        '    Example: y("hello") = [1, 2, 3, 4, 5] (ints)',
    ]


def test_expression_statements_are_called_out():
    _, text = session("indices * 2;", "1 + 1;")
    assert 's-op: out\n    Example: out("hello") = [0, 2, 4, 6, 8] (ints)' in text
    assert "value: out = 2" in text


def test_values_of_every_kind():
    _, text = session("a = 3;", 'b = [1, "x"];', 'd = {"k": 1};', "def f(p, q) { return p; }")
    assert "value: a = 3" in text
    assert 'list: b = [1, "x"]' in text
    assert 'dict: d = {"k": 1}' in text
    assert "function: f(p, q)" in text


def test_identical_values_are_shortened_and_floats_rounded():
    _, text = session("set example [1, 2]", "m = aggregate(full_s, tokens_int);", "n = length;")
    assert "    Example: m([1, 2]) = [1.5]*2 (floats)" in text
    assert "    Example: n([1, 2]) = [2]*2 (ints)" in text


def test_selectors_are_drawn_as_grids():
    _, text = session('set example "ab"', "s = select(indices, indices, <=);")
    assert text.splitlines() == [
        "selector: s",
        "    Example:",
        "             a b",
        "         a | 1",
        "         b | 1 1",
    ]


def test_multi_line_statements_wait_for_their_end():
    repl, text = session("def f(x) {", "  y = x + 1;")
    assert text == "" and repl.prompt == ".. "
    repl.feed("  return y;")
    repl.feed("}")
    assert repl.prompt == ">> "
    repl.feed("z = f(indices);")
    assert 'Example: z("hello") = [1, 2, 3, 4, 5]' in repl.out.getvalue()


def test_set_and_show_example():
    _, text = session("set example [3, 1, 2]", "show example", "s = sort(tokens_int, tokens_int);")
    assert "\ts-op example: [3, 1, 2]" in text and "\tselector example: [3, 1, 2]" in text
    assert "Example: s([3, 1, 2]) = [1, 2, 3] (ints)" in text


def test_set_example_for_one_kind_only():
    repl, _ = session('set selector example "ab"')
    assert repl.examples == {"s-op": "hello", "selector": "ab"}


def test_bad_example_is_refused():
    repl, text = session("set example []", "set example 3")
    assert repl.examples["s-op"] == "hello"
    assert text.count("an example is a non-empty string or list") == 2


def test_examples_off_and_on():
    _, text = session("examples off", "x = indices;", "examples on", "y = indices;")
    assert "Example: x(" not in text and 'Example: y("hello")' in text
    _, text = session("selector examples off", "s = select(1, 1, ==);", "x = indices;")
    assert "selector: s\ns-op: x" in text


def test_full_seq_display():
    _, text = session("full seq display on", "x = indices;", "y = length;")
    assert "input:  h e l l o   (strings)" in text
    assert "output: 0 1 2 3 4   (ints)" in text
    assert 'Example: y("hello") = [5]*5 (ints)' in text  # identical values stay short


def test_failing_statement_on_the_example_is_reported_not_dropped():
    repl, text = session("z = tokens_int + 1;", "w = z * 2;")
    assert 'Example: z("hello") fails: EvaluationError:' in text
    assert "invalid literal for int()" in text
    assert "z" in repl.scope.vars and "w" in repl.scope.vars  # the definitions stand
    _, text = session("set example [1, 2]", "z = tokens_int + 1;")
    assert "= [2, 3] (ints)" in text


def test_errors_are_reported_and_the_session_goes_on():
    repl, text = session("x = nope + 1;", "x = 1 +;", "y = 2;")
    assert "!! UndefinedNameError: line 1, column 5: unknown name 'nope'" in text
    assert "!! syntax error: line 1, column 8: unexpected ';'" in text
    assert "value: y = 2" in text


def test_several_statements_on_one_line():
    _, text = session("a = 1; b = a + 1; c = nope; d = 4;")
    assert "value: a = 1" in text and "value: b = 2" in text
    assert "unknown name 'nope'" in text and "value: d = 4" in text


def test_analyse_command():
    _, text = session(
        "flip = select(indices, length - indices - 1, ==);",
        "rev = aggregate(flip, tokens);",
        "analyse rev",
        "analyse nothing",
        "n = 3;",
        "analyze n",
    )
    assert "rev: 2 layers, heads per layer [1, 1]" in text
    assert "!! unknown name 'nothing'" in text
    assert "!! n is not an s-op or a selector" in text


def test_load_lists_what_it_brought(tmp_path, monkeypatch):
    (tmp_path / "lib.rasp").write_text("shared = indices; _private = 1; def g(x) { return x; }")
    monkeypatch.chdir(tmp_path)
    repl, text = session('load "lib";', "y = shared + 1;")
    assert "s-op: shared" in text and "function: g(x)" in text and "_private" not in text
    assert 'Example: y("hello") = [1, 2, 3, 4, 5]' in text


def test_draw_shows_values():
    _, text = session("draw(indices);")
    assert "draw is not available" in text and "[0, 1, 2, 3, 4]" in text


def test_exit_ends_the_session():
    repl, text = session("exit", "x = 1;")
    assert repl.done and "x" not in repl.scope.vars
    repl, _ = session("quit()")
    assert repl.done


def test_comments_blank_lines_and_help():
    _, text = session("", "# just a comment", "help")
    assert "set example" in text and "analyse NAME" in text


def test_reset_drops_a_half_statement():
    repl, _ = session("x = (1 +")
    repl.reset()
    repl.feed("y = 2;")
    assert repl.scope.vars["y"] == 2


def test_run_repl_reads_standard_input(monkeypatch, tmp_path):
    lines = iter(['x = tokens + "!";', "exit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    out = io.StringIO()
    assert run_repl(out=out, history=tmp_path / "history") == 0
    assert 'Example: x("hello") = [h!, e!, l!, l!, o!] (strings)' in out.getvalue()


def test_run_repl_stops_at_end_of_input_and_survives_ctrl_c(monkeypatch, tmp_path):
    events = iter([KeyboardInterrupt(), "y = 1;"])

    def fake_input(prompt=""):
        try:
            event = next(events)
        except StopIteration:
            raise EOFError from None
        if isinstance(event, BaseException):
            raise event
        return event

    monkeypatch.setattr("builtins.input", fake_input)
    out = io.StringIO()
    assert run_repl(out=out, history=tmp_path / "history") == 0
    assert "value: y = 1" in out.getvalue()


def test_tokens_can_be_rebound():
    _, text = session("set example [1, 2]", "tokens = tokens_int;", "t = tokens + 1;")
    assert "Example: t([1, 2]) = [2, 3] (ints)" in text
