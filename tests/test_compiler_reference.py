"""The compiler asks the evaluator through one helper, which treats only RaspError as a
rejected input: any other exception is a bug and must not pass as "input rejected"."""

from __future__ import annotations

import pathlib

import pytest

from rasplab import aggregate, indices, map, select, selector_width, tokens
from rasplab.compiler import compile_program, reference, verify
from rasplab.compiler.reference import Rejection, evaluate_all, evaluate_each
from rasplab.errors import EvaluationError

COMPILER = pathlib.Path(reference.__file__).parent


def test_rejected_inputs_stand_alone_and_the_rest_run():
    inverse = map(lambda x: 1 / x, tokens)
    inputs = [[1, 2], [0], [2, 4], [4, 0, 1], [1]]
    results = evaluate_each(inverse, inputs)
    assert [isinstance(r, Rejection) for r in results] == [False, True, False, True, False]
    assert results[0] == [1.0, 0.5] and results[4] == [1.0]
    assert isinstance(results[3].error, EvaluationError)
    assert str(results[1]).startswith("[0]: EvaluationError:")
    assert evaluate_each(inverse, []) == []
    assert isinstance(evaluate_all(inverse, inputs), Rejection)
    assert evaluate_all(inverse, [[1], [2]]) == [[1.0], [0.5]]


def _broken_evaluator(*args, **kwargs):
    raise KeyError("an evaluator bug")


def test_an_evaluator_bug_is_not_taken_for_a_rejected_input(monkeypatch):
    model = compile_program(tokens, "ab", 4)
    monkeypatch.setattr(reference, "evaluate_batch", _broken_evaluator)
    with pytest.raises(KeyError):
        verify(model, tokens, inputs=[["a"]])
    counts = selector_width(select(tokens, tokens, "=="))
    moved = aggregate(select(indices, counts, "=="), tokens.map(lambda t: t == "a"))
    with pytest.raises(KeyError):  # the aggregate policy, stage 1 and stage 6 all ask
        compile_program(moved, "ab", 4)


def test_a_memory_limit_in_the_evaluator_is_not_a_rejected_input(monkeypatch):
    from rasplab.errors import ResourceLimitError

    def limited(*args, **kwargs):
        raise ResourceLimitError("the evaluator's memory limit (max_bytes=, --max-memory)")

    model = compile_program(tokens, "ab", 4)
    monkeypatch.setattr(reference, "evaluate_batch", limited)
    with pytest.raises(ResourceLimitError):
        verify(model, tokens, inputs=[["a"], ["b"]])
    with pytest.raises(ResourceLimitError):
        evaluate_all(tokens, [["a"]])


@pytest.mark.parametrize("name", ["verify.py", "encodings.py", "positional.py", "causal.py"])
def test_evaluator_calls_catch_no_broad_exception(name):
    source = (COMPILER / name).read_text()
    assert "except Exception" not in source
    assert "evaluate_batch" not in source  # every call goes through the reference helper
