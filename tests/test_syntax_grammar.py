"""The surface grammar: precedence, layout, and syntax errors with line, column and caret."""

from __future__ import annotations

import pytest

from rasplab.errors import RaspError, RaspSyntaxError
from rasplab.syntax import parse
from rasplab.syntax.parser import grammar_text, is_complete, parse_tree


def value(expr: str):
    return parse(f"v = {expr};")["v"]


def sop(expr: str, raw="abc"):
    return parse(f"v = {expr};").evaluate(raw, "v")


# ------------------------------------------------------------------ precedence

# The values were also checked against the original interpreter (2 ^ 3 ^ 2 is 64
# there too, "1 if True else 2 if False else 3" is 3, and so on).
PRECEDENCE = [
    # (RASP expression, the same with explicit brackets, value)
    ("-2 ^ 2", "(-2) ^ 2", 4),
    ("-3 ^ 3", "(-3) ^ 3", -27),
    ("2 ^ 3 ^ 2", "(2 ^ 3) ^ 2", 64),
    ("not 1 == 0", "(not 1) == 0", True),
    ("not 0 == 0", "(not 0) == 0", False),
    ("True or False and False", "(True or False) and False", False),
    ("False and True or True", "(False and True) or True", True),
    ("2 * 3 ^ 2", "2 * (3 ^ 2)", 18),
    ("7 % 4 * 2", "7 % (4 * 2)", 7),
    ("2 * 7 % 4", "(2 * 7) % 4", 2),
    ("1 + 7 % 4", "1 + (7 % 4)", 4),
    ("10 - 3 - 2", "(10 - 3) - 2", 5),
    ("12 / 2 / 3", "(12 / 2) / 3", 2.0),
    ("1 + 2 == 3", "(1 + 2) == 3", True),
    ("1 < 2 == True", "(1 < 2) == True", True),
    ("3 > 2 > 1", "(3 > 2) > 1", False),
    ("1 == 1 and 2 == 2", "(1 == 1) and (2 == 2)", True),
    ("1 if True else 2 if False else 3", "(1 if True else 2) if False else 3", 3),
    ("1 or 0 if False else 5", "(1 or 0) if False else 5", 5),
    ("1 + 2 in [3]", "(1 + 2) in [3]", True),
    ("1 in [1] if False else [2]", "1 in ([1] if False else [2])", False),
    ("- - 3", "-(-3)", 3),
    ("not not 0", "not (not 0)", False),
    ("-[4, 5][1]", "-([4, 5][1])", -5),
    ("round(2.5) + round(3.5)", "(round(2.5)) + (round(3.5))", 6),
    ("+3 - -2", "(+3) - (-2)", 5),
]


@pytest.mark.parametrize(("expr", "bracketed", "expected"), PRECEDENCE)
def test_precedence_on_atoms(expr, bracketed, expected):
    got, want = value(expr), value(bracketed)
    assert got == want == expected
    assert type(got) is type(expected)


def test_unary_minus_binds_tighter_than_power_on_sops():
    assert sop("-indices ^ 2") == [0, 1, 4]
    assert sop("-(indices ^ 2)") == [0, -1, -4]


def test_not_binds_tighter_than_comparison_on_sops():
    # (not tokens) == "a" is never true for letters; not (tokens == "a") is.
    assert sop('not tokens == "a"', "ab") == [False, False]
    assert sop('not (tokens == "a")', "ab") == [False, True]


def test_and_or_share_one_level_on_sops():
    expr = 'tokens == "a" or tokens == "b" and indices == 0'
    assert sop(expr, "aba") == [True, False, False]


def test_in_is_loosest_on_sops():
    assert sop('tokens + "x" in ["ax", "cx"]', "abc") == [True, False, True]


def test_conditional_is_looser_than_or_on_sops():
    expr = '"yes" if tokens == "a" or tokens == "b" else "no"'
    assert sop(expr, "abc") == ["yes", "yes", "no"]


# ------------------------------------------------------------------ layout


def test_statements_span_lines_and_comments_go_anywhere():
    prog = parse(
        """
        x =        # comment
          indices  # another
          + 1;     # after
        def f(a) { # here
            # a whole line
            return a;   # there
        }  # and here
        """
    )
    assert prog.evaluate("ab", "x") == [1, 2]


def test_hash_inside_a_string_is_not_a_comment():
    assert value('"a # b"') == "a # b"


def test_literals():
    assert value("12") == 12
    assert value("1.25") == 1.25
    assert value('"hi"') == "hi"
    assert value("True") is True
    assert value("[]") == []
    assert value("{}") == {}
    assert value('{"a": [1, 2], 3: "b"}') == {"a": [1, 2], 3: "b"}


def test_select_accepts_every_predicate():
    for op, want in [("==", 1), ("!=", 2), ("<", 1), ("<=", 2), (">", 1), (">=", 2)]:
        widths = parse(f"w = selector_width(select(indices, 1, {op}));").evaluate("abc", "w")
        assert widths == [want] * 3


def test_shell_commands_parse_in_files_and_are_ignored():
    prog = parse('set example "abc"\nshow example\nexamples off\nfull seq display on\nx = 1;')
    assert prog["x"] == 1
    assert prog.example == "abc"


def test_exit_stops_a_file():
    prog = parse("x = 1;\nexit\ny = 2;")
    assert "x" in prog and "y" not in prog


def test_keyword_like_names_are_still_names():
    prog = parse("select = 1; aggregate = 2; full = 3; settle = 4; exiting = 5; rounds = 6;")
    assert [prog[n] for n in ("select", "aggregate", "full", "settle", "exiting", "rounds")] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]


def test_grammar_ships_with_the_package():
    assert "start:" in grammar_text()


# ------------------------------------------------------------------ syntax errors


def syntax_error(source: str) -> RaspSyntaxError:
    with pytest.raises(RaspSyntaxError) as info:
        parse(source, filename="prog.rasp")
    return info.value


def test_missing_final_semicolon_is_an_error_with_caret():
    err = syntax_error("x = tokens + 1")
    assert (err.line, err.column) == (1, 15)
    assert "missing ';'" in err.message
    assert err.source_line == "x = tokens + 1"
    assert err.caret == " " * 14 + "^"
    assert str(err).splitlines() == [
        "prog.rasp: line 1, column 15: missing ';' at the end of this statement",
        "    x = tokens + 1",
        "                  ^",
    ]


def test_missing_semicolon_before_the_next_line_points_at_the_end_of_the_statement():
    err = syntax_error("a = 1;\nx = tokens + 1   # trailing comment\ny = 2;")
    assert (err.line, err.column) == (2, 15)
    assert "missing ';'" in str(err)


def test_unexpected_token():
    err = syntax_error("x = (1 + ;")
    assert (err.line, err.column) == (1, 10)
    assert "unexpected ';'" in err.message and "expected an expression" in err.message


def test_unterminated_string():
    err = syntax_error('x = "abc;\ny = 1;')
    assert (err.line, err.column) == (1, 5)
    assert "unterminated string" in err.message


def test_bad_character():
    err = syntax_error("x = 1 @ 2;")
    assert (err.line, err.column) == (1, 7)
    assert "'@'" in err.message


def test_unclosed_function_body():
    err = syntax_error("def f(x) {\n  return x;\n")
    assert err.line == 2
    assert "unexpected the end of the input" in err.message or "expected" in err.message


def test_return_must_end_a_function():
    err = syntax_error("def f(x) { y = 1; }")
    assert err.line == 1 and "unexpected '}'" in err.message


def test_empty_statement_and_stray_operators():
    for source in [";", "x = ;", "x == 1 = 2;", "for in;", "x = 1.;", "x = .5;"]:
        with pytest.raises(RaspSyntaxError):
            parse(source)


def test_syntax_error_is_a_rasp_error():
    assert issubclass(RaspSyntaxError, RaspError)


def test_source_must_be_text():
    with pytest.raises(RaspSyntaxError):
        parse_tree(b"x = 1;")  # type: ignore[arg-type]


def test_is_complete_tells_the_repl_to_wait():
    assert not is_complete("x = 1")
    assert not is_complete("def f(x) {")
    assert not is_complete("y = [1,")
    assert is_complete("x = 1;")
    assert is_complete("set example [1, 2]")
    with pytest.raises(RaspSyntaxError):
        is_complete("x = ) ;")
