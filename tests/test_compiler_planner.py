"""Stage 4, the planner, as plain data and functions; view and storage tags as enums."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import io
import tokenize
from pathlib import Path

import pytest

from rasplab import aggregate, indices, length, select, selector_width, tokens, zipmap
from rasplab.compiler import fusion, layout, outputs, plans, value_maps, value_sets, views
from rasplab.compiler.fusion import fix
from rasplab.compiler.layout import (
    build_mlps,
    build_round,
    initial_needs,
    plan,
    planning_context,
)
from rasplab.compiler.storage import Storage, View
from rasplab.compiler.value_sets import infer
from rasplab.errors import CompileError

COMPILER = Path(layout.__file__).parent


def _frozen(record) -> bool:
    return dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen


def _reverse():
    return aggregate(select(indices, length - indices - 1, "=="), tokens)


def _product_of_counts():
    """Two counts multiplied: no one-layer MLP computes it from the heads' raw weights."""
    same = selector_width(select(tokens, tokens, "=="))
    earlier = selector_width(select(indices, indices, "<"))
    return zipmap(lambda a, b: a * b, same, earlier)


def test_the_plan_and_every_record_on_the_way_are_frozen():
    program = _reverse()
    vs = infer(program, "ab", 5)
    context = planning_context(program, vs, 5.0, {}, None)
    needs, output = initial_needs(context, None)
    built = build_round(context, needs)
    specs, failures = build_mlps(context, built.mlps, built.heads)
    result = plan(program, vs, 5.0)
    records = [context, needs, output, built, result, *result.heads, *result.mlps, *failures]
    assert all(_frozen(r) for r in records)
    assert not failures and set(specs) == {out.key for out, _ in built.mlps}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n_blocks = 0


def test_fixing_returns_new_needs_and_leaves_the_old_ones_alone():
    program = _product_of_counts()
    vs = infer(program, "ab", 6)
    context = planning_context(program, vs, 6.0, {}, None)
    needs, _ = initial_needs(context, None)
    built = build_round(context, needs)
    _, failures = build_mlps(context, built.mlps, built.heads)
    assert failures
    views_before, notes_before = dict(needs.views), needs.notes
    widened = fix(context, needs, failures)
    assert widened is not None and widened.views != views_before
    assert needs.views == views_before and needs.notes == notes_before
    assert len(widened.notes) == len(needs.notes) + 1
    assert plan(program, vs, 6.0).notes  # the planner stores an intermediate and succeeds


def test_a_planner_that_does_not_settle_reports_a_blocker(monkeypatch):
    program = _product_of_counts()
    vs = infer(program, "ab", 6)
    monkeypatch.setattr(layout, "ROUNDS", 1)
    with pytest.raises(CompileError) as caught:
        plan(program, vs, 6.0)
    assert any("no layout settled" in b for b in caught.value.blockers)


def test_planner_and_value_set_modules_share_no_state_through_classes():
    """Every class there is a dataclass or an enum with no base of its own (no mixins)."""
    for module in (layout, fusion, outputs, plans, views, value_sets, value_maps):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            assert dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum), name
            assert cls.__bases__ in ((object,), (enum.Enum,)), name


def test_views_and_storage_are_enums():
    assert View.ONE_HOT.storage is Storage.ONE_HOT
    assert View.SCALAR.storage is View.COUNT_WEIGHT.storage is Storage.SCALAR
    program = selector_width(select(tokens, tokens, "=="))
    result = plan(program, infer(program, "ab", 4), 4.0)
    assert all(isinstance(f.key[1], View) for f in result.features)
    assert all(isinstance(f.kind, Storage) for f in result.features)


def test_no_string_tags_remain_in_the_compiler():
    tags = {"cat", "num", "x"}
    found = []
    for path in sorted(COMPILER.glob("*.py")):
        source = path.read_text()
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.string.strip("\"'") in tags:
                found.append(f"{path.name}:{token.start[0]}: {token.string}")
    assert not found, found
