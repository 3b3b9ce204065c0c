"""The puzzle set and its checker: reference solutions pass, each kind of mistake is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rasplab.puzzles.search as search
from rasplab import aggregate, indices, length, select, selector_width, tokens, zipmap
from rasplab.puzzles import PUZZLES, check, get, load_file
from rasplab.puzzles.progress import check_dir, check_file

REFERENCE = Path(__file__).parent / "puzzle_solutions"
REQUIRED = [
    "index", "shift", "length", "reverse", "histogram", "minimum", "first", "ralign", "split",
    "slide", "sort", "double_histogram", "most_frequent", "dyck1", "dyck2", "add",
]  # fmt: skip


def flip():
    return aggregate(select(indices, length - indices - 1, "=="), tokens)


def assert_clean(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text


# ---------------------------------------------------------------- the catalogue


def test_catalogue_has_every_required_puzzle_in_order():
    assert set(REQUIRED) <= set(PUZZLES)
    numbers = [p.number for p in PUZZLES.values()]
    assert numbers == list(range(1, len(PUZZLES) + 1))


@pytest.mark.parametrize("name", list(PUZZLES))
def test_puzzle_is_complete(name):
    p = get(name)
    assert p.statement.strip() and p.hints and p.examples and p.layers >= 1 and p.heads >= 1
    text = p.describe()
    assert p.budget in text and "Allowed:" in text and "Examples:" in text
    for xs in p.examples:
        for params in p.params:
            assert len(p.expected(list(xs), params)) == len(xs)


# ---------------------------------------------------------------- reference solutions


@pytest.mark.parametrize("name", list(PUZZLES))
def test_reference_solution_passes_its_checker_within_a_tight_budget(name):
    [result] = check_dir(REFERENCE, [name])
    assert result.solved, result.report()
    p = result.puzzle
    assert (result.usage.layers, result.usage.heads) == (p.layers, p.heads)  # achieved exactly
    assert result.checked >= 300


# ---------------------------------------------------------------- wrong answers


def test_wrong_solution_shows_smallest_counterexample_and_execution_view():
    result = check("reverse", tokens)
    assert result.status == "wrong" and not result.solved
    example = result.counterexample
    assert example.input == ["a", "b"]
    assert (example.expected, example.actual) == (["b", "a"], ["a", "b"])
    text = result.report()
    assert "smallest counterexample" in text and "expected: ['b', 'a']" in text
    assert "actual:   ['a', 'b']" in text and "execution view:" in text
    assert "wrong at positions 0, 1" in text
    assert_clean(text)


def test_seeded_search_without_hypothesis_also_shrinks(monkeypatch):
    monkeypatch.setattr(search, "has_hypothesis", lambda: False)
    no_tie_break = selector_width(select(tokens, tokens, "<"))
    naive = aggregate(select(no_tie_break, indices, "=="), tokens)
    result = check("sort", naive)
    assert result.status == "wrong"
    assert result.counterexample.input == ["a", "a"]  # a repeated token, as small as it gets


def test_hypothesis_finds_what_the_fixed_inputs_miss():
    pytest.importorskip("hypothesis")
    # Wrong only on inputs longer than any the batch has (the batch is capped for this test).
    tricky = zipmap(
        lambda h, n: h if n < 6 else 0, selector_width(select(tokens, tokens, "==")), length
    )
    puzzle = get("histogram")
    probe = search.Probe(puzzle, tricky, {})
    found = search.search(probe, [list("abc")], puzzle.domain, use_hypothesis=True)
    assert found is not None and len(found) == 6


def test_error_inside_the_program_is_reported_cleanly():
    broken = tokens.map(lambda t: {"a": 1}[t])  # KeyError on anything but 'a'
    result = check("histogram", broken)
    assert result.status == "wrong"
    assert result.counterexample.input == ["b"]
    assert "KeyError" in result.counterexample.error
    assert_clean(result.report())


# ---------------------------------------------------------------- budgets


def test_over_budget_solution_fails_with_the_layers_it_needs():
    twice = aggregate(select(indices, indices, "=="), flip())
    result = check("reverse", twice)
    assert result.status == "over budget"
    text = result.report()
    assert "needs 3 layers, heads per layer [1, 1, 1]" in text
    assert "the budget is 2 layers, 1 head per layer" in text
    assert "where the layers and heads go" in text and "layer 3:" in text


# ---------------------------------------------------------------- forbidden operations


def test_forbidden_aggregation_mode():
    result = check("minimum", aggregate(select(tokens, tokens, "true"), tokens, mode="min"))
    assert result.status == "forbidden"
    assert "uses mode='min'; this puzzle allows mean aggregation only" in result.report()


def test_forbidden_primitive():
    result = check("length", length + 0)
    assert result.status == "forbidden"
    assert "uses `length`, which this puzzle forbids" in result.report()


def test_packing_the_input_into_one_number_is_forbidden():
    code = tokens.map(lambda t: "abcd".index(t) + 1)
    packed = aggregate(
        select(tokens, tokens, "true"), zipmap(lambda c, i: c * 10.0 ** (-i), code, indices)
    )
    whole = zipmap(lambda m, n: (round(m * n * 10**n), n), packed, length)

    def decode(e, i):
        digits = sorted(int(d) for d in str(e[0]).zfill(e[1])[: e[1]])
        return "abcd"[digits[i] - 1]

    result = check("sort", zipmap(decode, whole, indices))
    assert result.status == "forbidden"
    assert "finite lookup table" in result.report()


# ---------------------------------------------------------------- solutions of every shape


def test_solution_shapes(tmp_path):
    assert check("reverse", flip).solved  # a function
    assert (
        check("shift", lambda i, default: select(indices, indices, "==").value(tokens)).status
        == "wrong"
    )
    only_first = check("index", aggregate(select(indices, 0, "=="), tokens, "_"))
    assert only_first.solved and "checked as index(i=0) only" in only_first.report()
    stub = check("sort", lambda: (_ for _ in ()).throw(NotImplementedError))
    assert stub.status == "todo"
    selector = check("sort", lambda: select(tokens, tokens, "=="))
    assert selector.status == "error" and "must return an s-op" in selector.report()


def test_errors_in_a_solution_file_name_the_file_and_line(tmp_path):
    path = tmp_path / "05_histogram.py"
    path.write_text("from rasplab import tokens\n\n\ndef histogram():\n    return 1 / 0\n")
    result = check_file(path, "histogram")
    assert result.status == "error"
    assert "ZeroDivisionError: division by zero (05_histogram.py, line 5)" in result.report()
    path.write_text("def histogram(:\n")
    assert "SyntaxError" in check_file(path, "histogram").report()
    path.write_text("x = 1\n")
    assert "defines no `histogram`" in check_file(path, "histogram").report()


def _surface_language() -> bool:
    try:
        from rasplab import syntax
    except ImportError:
        return False
    return callable(getattr(syntax, "load", None))


def test_rasp_files_are_checked_the_same_way(tmp_path):
    if not _surface_language():
        path = tmp_path / "05_histogram.rasp"
        path.write_text("hist = selector_width(select(tokens, tokens, ==));\n")
        result = check_file(path, "histogram")
        assert result.status == "error" and "cannot read .rasp files" in result.report()
        return
    (tmp_path / "05_histogram.rasp").write_text(
        "hist = selector_width(select(tokens, tokens, ==));\n"
    )
    (tmp_path / "02_shift.rasp").write_text(
        "def solution(i, d) {\n  return aggregate(select(indices, indices - i, ==), tokens, d);\n}\n"
    )
    (tmp_path / "03_length.rasp").write_text("solution = selector_width(full_s);\n")
    (tmp_path / "04_reverse.rasp").write_text("out2 = tokens;\n")
    (tmp_path / "06_minimum.rasp").write_text("x = 1 +;\n")
    results = {
        r.puzzle.name: r
        for r in check_dir(tmp_path, ["histogram", "shift", "length", "reverse", "minimum"])
    }
    assert results["histogram"].solved and results["shift"].solved and results["length"].solved
    assert results["reverse"].status == "wrong" and results["reverse"].counterexample.input == [
        "a",
        "b",
    ]
    broken = results["minimum"]
    assert broken.status == "error" and "06_minimum.rasp" in broken.report()
    assert_clean(broken.report())


def test_result_as_json_and_html():
    result = check("reverse", tokens, use_hypothesis=False)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "wrong" and data["counterexample"]["input"] == ["a", "b"]
    assert data["budget"] == {"layers": 2, "heads": 1} and data["layers"] == 0
    assert result._repr_html_().startswith("<pre>")


def test_load_file_reads_module_attribute():
    solution = load_file(REFERENCE / "04_reverse.py", get("reverse"))
    assert solution.fixed and solution.build({})("abc") == ["c", "b", "a"]
