"""Every IR node class declares its fields, and a node cannot change once built."""

from __future__ import annotations

import copy
import typing

import pytest

from rasplab import aggregate, full, indices, length, select, selector_width, tokens, zipmap
from rasplab.compat import raspy, tracr
from rasplab.errors import DefinitionError
from rasplab.lang import nodes
from rasplab.lang.base import Node

# never built on their own
BASES = {Node, nodes.SOp, nodes.Selector, nodes._SelectorPair, raspy.sops.SOp}


def _one_of_each() -> list[Node]:
    sel = select(indices, indices, "<")
    return [
        tokens,
        indices,
        length,
        full(3),
        tokens + 1,
        zipmap(lambda a, b: a * b, tokens, indices),
        sel,
        sel & sel,
        sel | sel,
        ~sel,
        aggregate(sel, tokens),
        selector_width(sel),
        tracr.Map(lambda x: x + 1, tracr.Map(abs, tokens)),
        tracr.SequenceMap(lambda a, b: a + b, tokens, indices),
        tracr.LinearSequenceMap(tokens, indices, 2, 3),
        tracr.Full(1),
        tracr.Aggregate(sel, tokens),
        *_tracr_compat_nodes(),
        *_raspy_compat_nodes(),
    ]


def _tracr_compat_nodes() -> list[Node]:
    sel = tracr.Select(tracr.tokens, tracr.indices, tracr.Comparison.LT)
    return [
        tracr.tokens,
        tracr.indices,
        tracr.length,
        tracr.ConstantSOp([1, 2]),
        tracr.SelectorWidth(sel),
        sel,
        tracr.ConstantSelector([[True]]),
        tracr.SelectorAnd(sel, sel),
        tracr.SelectorOr(sel, sel),
        tracr.SelectorNot(sel),
    ]


def _raspy_compat_nodes() -> list[Node]:
    sel = raspy.select(raspy.indices, raspy.indices, lambda k, q: k < q)
    return [
        raspy.tokens,
        raspy.indices,
        raspy.repeat(1),
        raspy.tokens.map(lambda x: x),
        raspy.tokens + raspy.indices,
        sel,
        sel & sel,
        sel | sel,
        raspy.aggregate(sel, raspy.tokens),
    ]


def _node_classes() -> set[type]:
    found: set[type] = set()
    todo = [Node]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("rasplab.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_node_class_is_covered_here():
    built = {type(node) for node in _one_of_each()}
    assert _node_classes() - BASES <= built


@pytest.mark.parametrize("node", _one_of_each(), ids=lambda n: type(n).__qualname__)
def test_fields_set_at_construction_are_exactly_the_declared_ones(node):
    declared = type(node).field_names()
    assert set(vars(node)) == declared
    # the annotations are real types, not typos the checker could miss
    hints = typing.get_type_hints(type(node))
    assert declared <= set(hints)
    assert "kind" not in declared and "symbol" not in declared  # class constants


@pytest.mark.parametrize("node", _one_of_each(), ids=lambda n: type(n).__qualname__)
def test_nodes_cannot_be_changed_extended_or_emptied(node):
    before = dict(vars(node))
    for field in type(node).field_names():
        with pytest.raises(AttributeError, match="immutable"):
            setattr(node, field, None)
        with pytest.raises(AttributeError, match="immutable"):
            delattr(node, field)
    with pytest.raises(AttributeError, match="no field 'extra'"):
        node.extra = 1
    assert vars(node) == before


def test_named_and_annotated_copy_every_field_but_the_id():
    agg = aggregate(select(tokens, tokens, "=="), tokens, default="-")
    named = agg.named("same").annotated(encoding="numerical")
    assert type(named) is nodes.Aggregate and named.id != agg.id
    assert (named.name, named.encoding.value) == ("same", "numerical")
    assert (agg.name, agg.encoding.value) == (None, "categorical")
    for field in ("selector", "sop", "default", "mode"):
        assert getattr(named, field) is getattr(agg, field)
    with pytest.raises(AttributeError):
        named.name = "other"


def test_copy_helper_only_replaces_declared_fields():
    double = tokens.map(lambda x: 2 * x)
    rebased = double._copy(inner=indices)
    assert rebased.inner is indices and rebased.f is double.f and double.inner is tokens
    with pytest.raises(DefinitionError, match="cannot set"):
        double._copy(keys=indices)
    with pytest.raises(DefinitionError, match="cannot set"):
        double._copy(id=1)


def test_copy_module_copies_stay_frozen():
    clone = copy.copy(tokens + 1)
    with pytest.raises(AttributeError):
        clone.desc = "changed"


def test_a_subclass_must_declare_what_it_sets():
    class Tagged(nodes.Map):
        def __init__(self, inner: nodes.SOp) -> None:
            super().__init__(str, inner)
            self.tag = "x"

    with pytest.raises(AttributeError, match="no field 'tag'"):
        Tagged(tokens)

    class Declared(Tagged):
        tag: str

    assert Declared(tokens).tag == "x"
