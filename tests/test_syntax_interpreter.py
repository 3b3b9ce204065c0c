"""The interpreter: IR it builds, scopes, token types, the namespace API, and every error path."""

from __future__ import annotations

import pytest

from rasplab import analyse, evaluate, evaluate_batch, indices, length, tokens
from rasplab.errors import (
    AggregateError,
    EvaluationError,
    InputError,
    RaspError,
    RaspTypeError,
)
from rasplab.lang.nodes import Aggregate, Comparison, Length, Map, Select, SelectorWidth, ZipMap
from rasplab.syntax import (
    Limits,
    LookupFailedError,
    LoopLimitError,
    RaspFunction,
    RaspLoadError,
    RecursionLimitError,
    ReservedNameError,
    UndefinedNameError,
    load,
    parse,
)

# ------------------------------------------------------------------ the IR


def test_programs_build_the_same_ir_nodes_as_the_python_dsl():
    prog = parse("flip = select(indices, length - indices - 1, ==); rev = aggregate(flip, tokens);")
    rev = prog["rev"]
    assert isinstance(rev, Aggregate) and isinstance(rev.selector, Select)
    assert rev.sop is tokens  # the shared input node
    assert rev.selector.keys is indices
    assert rev.label == "rev" and rev.selector.label == "flip"
    assert analyse(rev).heads_per_layer == (1, 1)


def test_length_and_selector_width_are_primitives():
    prog = parse("n = length; w = selector_width(select(tokens, tokens, ==));")
    assert prog["n"] is length and isinstance(prog["n"], Length)
    assert isinstance(prog["w"], SelectorWidth)
    full = prog["full_s"]
    assert isinstance(full, Select) and full.predicate is Comparison.TRUE


def test_operators_build_maps_over_one_sop_and_zipmaps_over_several():
    prog = parse("a = tokens + 1; b = tokens + indices; c = tokens if indices > 0 else 1;")
    assert isinstance(prog["a"], Map)
    assert isinstance(prog["b"], ZipMap)
    assert isinstance(prog["c"], ZipMap) and len(prog["c"].inputs) == 2


def test_names_become_labels_and_stay_unique():
    prog = parse("x = tokens + 1; x = x * 2; y = x;")
    assert prog["y"].label == "x_2"  # y is another name for the same node
    assert prog["x"] is prog["y"]
    assert prog["x"].inner.label == "x"


def test_python_dsl_and_parsed_programs_mix():
    prog = parse("hist = selector_width(select(tokens, tokens, ==));")
    mixed = prog.hist + indices
    assert evaluate(mixed, "aab") == [2, 3, 3]


def test_no_stale_results_between_int_and_float_inputs():
    prog = parse("tokens = tokens_asis; m = aggregate(select(indices, indices, ==), tokens);")
    assert evaluate_batch(prog.m, [[1, 0], [1.0, 0.0]]) == [[1, 0], [1.0, 0.0]]
    first, second = evaluate_batch(prog.m, [[1, 0], [1.0, 0.0]])
    assert [type(v) for v in first] == [int, int]
    assert [type(v) for v in second] == [float, float]


# ------------------------------------------------------------------ fidelity


def test_mean_of_several_equal_ints_is_a_float_and_one_value_keeps_its_type():
    prog = parse("tokens = tokens_int; m = aggregate(select(indices, indices, <=), tokens);")
    assert prog.evaluate([2, 2, 2]) == [2, 2.0, 2.0]
    assert [type(v) for v in prog.evaluate([2, 2])] == [int, float]


def test_default_zero_and_booleans_stay_booleans():
    prog = parse('p = aggregate(select(indices, indices - 1, ==), tokens == "a");')
    assert prog.evaluate("aa") == [0, True]


def test_round_is_half_to_even():
    prog = parse("tokens = tokens_float; r = round(tokens);")
    assert prog.evaluate([0.5, 1.5, 2.5, -0.5, -1.5]) == [0, 2, 2, 0, -2]


def test_averaging_strings_is_an_error_naming_the_aggregate():
    prog = parse("bad = aggregate(select(indices, indices, <=), tokens);")
    with pytest.raises(AggregateError, match="bad"):
        prog.evaluate("ab")


# ------------------------------------------------------------------ scopes


def test_function_locals_do_not_leak_but_loop_names_do():
    prog = parse("def f(a) { b = a; return b; } x = f(1); for i in [1, 2] { j = i; }")
    assert "b" not in prog and "a" not in prog
    assert prog["i"] == 2 and prog["j"] == 2


def test_closures_see_later_assignments():
    prog = parse("k = 1; def f() { return k; } k = 2; v = f();")
    assert prog["v"] == 2


def test_nested_functions_and_several_return_values():
    prog = parse(
        "def outer(a) { def inner(b) { return a + b; } return inner(1), inner(2); }"
        "x, y = outer(10); both = outer(0);"
    )
    assert (prog["x"], prog["y"], prog["both"]) == (11, 12, [1, 2])


def test_functions_may_shadow_library_names_locally():
    prog = parse("def f() { max = 3; return max; } v = f();")
    assert prog["v"] == 3
    assert isinstance(prog["max"], RaspFunction)


def test_functions_are_callable_from_python():
    prog = parse("def twice(x) { return 2 * x; }")
    assert prog.functions["twice"](21) == 42
    assert evaluate(prog.twice(indices), "abc") == [0, 2, 4]
    assert evaluate(prog["count"](tokens, "a"), "aba") == [2, 2, 2]


def test_out_holds_the_last_result():
    prog = parse("1 + 1; x = out * 10;")
    assert prog["x"] == 20


# ------------------------------------------------------------------ token types


@pytest.mark.parametrize(
    ("source", "token_type", "raw", "expected"),
    [
        ("y = tokens;", "str", [1, 2], ["1", "2"]),
        ("tokens = tokens_int; y = tokens;", "int", "12", [1, 2]),
        ("y = tokens_float + 0;", "float", [1, 2], [1.0, 2.0]),
        ("y = tokens_bool;", "bool", [0, 1], [False, True]),
        ("y = tokens_asis;", "asis", [1, 2], [1, 2]),
        ("a = tokens_str; y = tokens_int + 1;", "asis", [1, 2], [2, 3]),
        ("y = indices;", "str", "ab", [0, 1]),
    ],
)
def test_token_types(source, token_type, raw, expected):
    prog = parse(source)
    assert prog.token_type == token_type
    assert prog.evaluate(raw, "y") == expected


def test_token_type_is_fixed_once_the_program_has_run():
    prog = parse("x = tokens; def f() { return tokens_int; }")
    with pytest.raises(RaspTypeError, match="reads its tokens as str"):
        prog.f()
    with pytest.raises(RaspTypeError):
        prog["tokens_int"]  # noqa: B018
    assert parse("def f() { return tokens_int; }").f() is tokens


def test_read_input_names_the_bad_token():
    prog = parse("tokens = tokens_int; y = tokens;")
    assert prog.read_input("12") == [1, 2]
    with pytest.raises(InputError, match="token 'x' at position 1 cannot be read as int"):
        prog.read_input("1x")
    with pytest.raises(InputError):
        prog.read_input(5)


# ------------------------------------------------------------------ the namespace


def test_namespace_api():
    prog = parse(
        "# output: b\na = tokens; b = indices; s = select(a, a, ==); def f(x) { return x; } n = 3;"
    )
    assert list(prog) == ["a", "b", "s", "f", "n"] and len(prog) == 5
    assert set(prog.sops) == {"a", "b"} and set(prog.selectors) == {"s"}
    assert set(prog.functions) == {"f"}
    assert prog.output_name == "b" and prog.output is prog["b"]
    assert "sort" in prog and "nothing" not in prog
    assert prog.b is prog["b"]
    with pytest.raises(AttributeError):
        prog.nothing  # noqa: B018
    with pytest.raises(KeyError):
        prog["nothing"]
    assert "a, b, s" in repr(prog)


def test_output_errors():
    with pytest.raises(RaspError, match="assigns no s-op"):
        parse("x = 1;").output  # noqa: B018
    with pytest.raises(RaspError, match="defines no 'zz'"):
        parse("x = tokens;").evaluate("a", "zz")
    with pytest.raises(RaspTypeError, match="not an s-op"):
        parse("x = 1; y = tokens;").evaluate("a", "x")


def test_load_reads_a_file_and_finds_loads_beside_it(tmp_path):
    (tmp_path / "lib.rasp").write_text('shared = tokens + "!"; _hidden = 1;')
    (tmp_path / "main.rasp").write_text('load "lib";\nout2 = shared;')
    prog = load(tmp_path / "main.rasp")
    assert prog.evaluate("a") == ["a!"]
    assert "_hidden" not in prog


def test_load_errors(tmp_path):
    with pytest.raises(RaspLoadError, match="cannot read"):
        load(tmp_path / "missing.rasp")
    with pytest.raises(RaspLoadError, match="cannot find 'nope.rasp'"):
        parse('load "nope";')
    (tmp_path / "a.rasp").write_text('load "a";')
    with pytest.raises(RaspLoadError, match="load cycle: a.rasp -> a.rasp"):
        load(tmp_path / "a.rasp")
    (tmp_path / "broken.rasp").write_text("x = 1")
    with pytest.raises(RaspError, match="broken.rasp: line 1, column 6: missing ';'"):
        parse('load "broken";', base_dir=tmp_path)


def test_search_path(tmp_path):
    (tmp_path / "helper.rasp").write_text("h = 5;")
    assert parse('load "helper";', search_path=[tmp_path])["h"] == 5


# ------------------------------------------------------------------ error paths


ERRORS = [
    ("x = y + 1;", UndefinedNameError, "line 1, column 5: unknown name 'y'"),
    ("count_a = 1; x = count_b;", UndefinedNameError, "did you mean count_a"),
    (
        "x = aggregate(tokens, tokens);",
        RaspTypeError,
        "aggregate: the first argument must be a selector",
    ),
    ("x = aggregate(select(1, 1, ==), [1]);", RaspTypeError, "aggregate: the values must be"),
    (
        "x = aggregate(select(1, 1, ==), 1, tokens);",
        RaspTypeError,
        "aggregate: the default must be an atom",
    ),
    ("x = select([1], tokens, ==);", RaspTypeError, "select: the keys must be an s-op or an atom"),
    ("x = select(indices, indices, ==) + 1;", RaspTypeError, "cannot apply '+' to the selector"),
    ("x = select(indices, indices, ==) and tokens;", RaspTypeError, "cannot combine a selector"),
    ("x = -select(indices, indices, ==);", RaspTypeError, "cannot apply unary '-'"),
    ("x = tokens + [1];", RaspTypeError, "cannot apply '+' to an s-op and the list [1]"),
    ('x = "a" - 1;', RaspTypeError, "cannot apply '-' to the atom 'a' and the atom 1"),
    ("x = 1 / 0;", EvaluationError, "division by zero in 1 / 0"),
    ("x = [1, 2][5];", LookupFailedError, "index 5 is out of range for a list of length 2"),
    ('x = {"a": 1}["b"];', LookupFailedError, "key 'b' is not in the dict"),
    ('x = "abc"[1.5];', RaspTypeError, "string index must be an int, got 1.5"),
    ("x = tokens[tokens];", RaspTypeError, "an s-op's index must be an int"),
    ("x = 3(4);", RaspTypeError, "the atom 3 cannot be called"),
    ("x = tokens(1, 2);", RaspTypeError, "needs one input, got 2 arguments"),
    ("def f(a) { return a; } x = f(1, 2);", RaspTypeError, "f(a) takes 1 argument, got 2"),
    ("def f(a, a) { return a; }", RaspTypeError, "repeats a parameter name"),
    ('x = round("a");', RaspTypeError, "round needs an s-op or a number"),
    ("x = indicator([1]);", RaspTypeError, "indicator needs an s-op or an atom"),
    ("x = tokens if select(1, 1, ==) else 1;", RaspTypeError, "condition of 'x if c else y'"),
    ("x = indices if indices > 0 else [1];", RaspTypeError, "needs s-op or atom branches"),
    ("x = tokens in 3;", RaspTypeError, "'[s-op] in X' needs X to be a list of atoms"),
    ("x = 1 in 3;", RaspTypeError, "'[atom] in X' needs X to be a list or an s-op"),
    ("x = select(1, 1, ==) in [1];", RaspTypeError, "'A in X' needs A to be an s-op or an atom"),
    ("a, b = 1;", RaspTypeError, "expected 2 values for a, b, got one value"),
    ("a, b = [1, 2, 3];", RaspTypeError, "got 3 values"),
    ("for a, b in [1] { x = a; }", RaspTypeError, "cannot unpack the atom 1 into 2 names"),
    ("for a in 3 { x = a; }", RaspTypeError, "can only loop over a list, dict or string"),
    ("x = len(3);", RaspTypeError, "len needs a list"),
    ("x = zip([1], [1, 2]);", RaspTypeError, "zip needs lists of one length"),
    ("x = range(1.5);", RaspTypeError, "range needs ints"),
    ("x = range(1, 2, 0);", RaspTypeError, "range step must not be zero"),
    ("x = range(1, 2, 3, 4);", RaspTypeError, "range takes 1 to 3 arguments, got 4"),
    ("x = selector_width(tokens);", RaspTypeError, "selector_width needs a selector"),
    ("x = {[1]: 2};", RaspTypeError, "a dict key must be an atom"),
    ("indices = 1;", ReservedNameError, "cannot assign to 'indices'"),
    ("tokens_int = 1;", ReservedNameError, "cannot assign to 'tokens_int'"),
    ("True = 1;", ReservedNameError, "cannot assign to 'True'"),
    ("out = 1;", ReservedNameError, "cannot assign to 'out'"),
    ("range = 1;", ReservedNameError, "cannot assign to 'range'"),
    ("sort = 1;", ReservedNameError, "reserved (the standard library's)"),
    ("def length() { return 1; }", ReservedNameError, "cannot assign to 'length'"),
    ("def f(True) { return 1; } x = f(1);", ReservedNameError, "cannot assign to 'True'"),
]


@pytest.mark.parametrize(("source", "error", "text"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_error_paths(source, error, text):
    with pytest.raises(error) as info:
        parse(source)
    assert text in str(info.value)


def test_errors_inside_functions_name_the_call_site():
    with pytest.raises(RaspTypeError) as info:
        parse("def f(x) {\n  return x + [1];\n}\ny = f(tokens);")
    message = str(info.value)
    assert message.startswith("line 2, column 10: cannot apply '+'")
    assert "in f(), called at line 4, column 5" in message


def test_errors_in_the_standard_library_name_it():
    with pytest.raises(RaspTypeError) as info:
        parse("x = count(select(1, 1, ==), 1);")
    assert "stdlib.rasp: line" in str(info.value) and "called at line 1, column 5" in str(
        info.value
    )


def test_out_of_range_lookup_at_evaluation_names_the_value():
    prog = parse("table = [10, 20]; y = table[indices];")
    with pytest.raises(EvaluationError, match="index 2 is out of range for a list of length 2"):
        prog.evaluate("abc")
    prog = parse('d = {"a": 1}; y = d[tokens];')
    with pytest.raises(EvaluationError, match="key 'b' is not in the dict") as info:
        prog.evaluate("ab")
    assert "position 1 of input ['a', 'b']" in str(info.value)


def test_unbounded_recursion_stops_clearly():
    with pytest.raises(RecursionLimitError, match="nest more than 100 deep"):
        parse("def f(n) { return f(n + 1); } x = f(0);")
    limits = Limits(max_call_depth=5)
    with pytest.raises(RecursionLimitError, match="more than 5 deep"):
        parse("def f(n) { return 0 if n == 0 else f(n - 1); } x = f(10);", limits=limits)
    assert parse("def f(n) { return 0 if n == 0 else f(n - 1); } x = f(90);")["x"] == 0


def test_runaway_loops_stop_clearly():
    limits = Limits(max_steps=1000)
    source = "t = 0; for i in range(100) { for j in range(100) { t = t + 1; } }"
    with pytest.raises(LoopLimitError, match="more than 1000 loop steps"):
        parse(source, limits=limits)
    assert parse(source)["t"] == 10_000


def test_size_limits():
    with pytest.raises(RaspTypeError, match=r"range\(1000000000\) has more than 1000000"):
        parse("x = range(10 ^ 9);")
    with pytest.raises(RaspTypeError, match="has more than"):
        parse("x = range(10 ^ 30);")
    with pytest.raises(LoopLimitError, match="too large"):
        parse("x = 2 ^ 1000000;")
    with pytest.raises(LoopLimitError, match="more than"):
        parse('x = "ab" * 1000000;')
    with pytest.raises(LoopLimitError, match="integer over"):
        parse("x = 2 ^ 900; y = x * x;", limits=Limits(max_int_bits=1000))


def test_deep_nesting_is_a_clean_error():
    with pytest.raises(RecursionLimitError, match="nests too deeply"):
        parse("x = " + "[" * 20000 + "1" + "]" * 20000 + ";")
    assert parse("x = " + "(" * 5000 + "1" + ")" * 5000 + ";")["x"] == 1
