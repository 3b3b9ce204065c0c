"""tracr's own evaluator, recorded, against ``rasplab.compat.tracr``: equal values of equal types.

``fixtures/tracr/outputs.json`` holds what tracr's ``rasp.evaluate`` gave on
random inputs for the programs in ``fixtures/tracr/tracr_style_programs.py``
(tracr's library and the cases of tracr's ``rasp_test.py``, rewritten in
tracr's style). Every value carries a type tag, so ``1``, ``1.0`` and
``True`` stay apart. Inputs tracr rejected are counted apart: there rasplab
must raise a ``RaspError``, and that is never counted as agreement.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import rasplab
from rasplab.compat import tracr as rasp
from rasplab.errors import RaspError

FIXTURES = Path(__file__).parent / "fixtures" / "tracr"


def _load_programs() -> Any:
    spec = importlib.util.spec_from_file_location(
        "tracr_style_programs", FIXTURES / "tracr_style_programs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROGRAMS = {name: program for name, program, _ in _load_programs().all_programs(rasp)}
RECORDED = json.loads((FIXTURES / "outputs.json").read_text())["programs"]


def tag(value: Any) -> list[Any]:
    """A value as ``[type, value]``, recursively, as the recording wrote it."""
    for kind in (bool, int, float, str):  # bool before int: True is an int too
        if type(value) is kind:
            return [kind.__name__, value]
    if value is None:
        return ["none", None]
    if isinstance(value, tuple | list):
        return [type(value).__name__, [tag(v) for v in value]]
    return ["unrecorded type " + type(value).__name__, repr(value)]


def untag(tagged: list[Any]) -> Any:
    kind, value = tagged
    if kind == "list":
        return [untag(v) for v in value]
    if kind == "tuple":
        return tuple(untag(v) for v in value)
    return value


def compare(evaluate: Any, name: str) -> Counter[str]:
    """Outcomes per case: equal, rejected by both, or how they differ."""
    outcomes: Counter[str] = Counter()
    for case in RECORDED[name]["cases"]:
        xs = untag(case["input"])
        try:
            got = tag(evaluate(PROGRAMS[name], xs))
        except RaspError:
            outcomes["both reject" if case["error"] else "rasplab rejects"] += 1
            continue
        if case["error"]:
            outcomes["tracr rejects, rasplab gives a value"] += 1
        else:
            outcomes["equal" if got == case["output"] else "different"] += 1
    return outcomes


def test_every_program_was_recorded_and_compares_inputs():
    assert set(RECORDED) == set(PROGRAMS)
    assert all(len(r["cases"]) >= 5 for r in RECORDED.values())


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_compat_evaluate_gives_tracrs_values_and_types(name):
    outcomes = compare(rasp.evaluate, name)
    assert set(outcomes) <= {"equal", "both reject"}, outcomes
    assert outcomes["equal"] + outcomes["both reject"] == len(RECORDED[name]["cases"])


def test_calling_a_node_is_rasp_evaluate():
    for name in ("detect_pattern_ab", "attn_agg_categorical_bools", "op_ror_value"):
        assert compare(lambda p, xs: p(xs), name) == compare(rasp.evaluate, name)


def test_totals_count_inputs_compared_and_rejections_apart():
    totals: Counter[str] = Counter()
    for name in RECORDED:
        totals += compare(rasp.evaluate, name)
    assert totals["equal"] >= 2500 and totals["both reject"] >= 100
    assert set(totals) == {"equal", "both reject"}


# rasplab's batched evaluator follows rasplab's contract; where tracr's evaluator differs
# on these inputs, it is one of these programs (see rasplab.compat.tracr.evaluator).
ENGINE_DIFFERS = {
    "attn_agg_categorical_bools": "several selected bools: tracr averages them (1.0)",
    "attn_agg_categorical_strings": "several equal strings: tracr refuses them",
    "sort_unique_letters": "equal keys select several equal strings: tracr refuses them",
    "attn_select_none_key_eq": "Comparison on None: tracr refuses it",
    "attn_constant_sop_unchecked": "unchecked constant: tracr returns it at its own length",
}


@pytest.mark.parametrize("name", sorted(set(RECORDED) - set(ENGINE_DIFFERS)))
def test_rasplab_evaluator_agrees_with_tracr_on_compat_programs(name):
    outcomes = compare(rasplab.evaluate, name)
    assert outcomes["equal"] > 0 or outcomes["both reject"] > 0
    assert set(outcomes) <= {"equal", "both reject"}, outcomes


@pytest.mark.parametrize("name", sorted(ENGINE_DIFFERS))
def test_rasplab_evaluator_differs_only_where_documented(name):
    outcomes = compare(rasplab.evaluate, name)
    assert outcomes["different"] + outcomes["tracr rejects, rasplab gives a value"] > 0
