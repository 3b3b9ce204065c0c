"""The paper's layer/head analysis."""

import json

import pytest

from rasplab import aggregate, analyse, indices, length, select, selector_width, tokens
from rasplab.errors import RaspTypeError
from rasplab.library import PROGRAMS

PAPER = {
    "hist": (1, (1,)),
    "reverse": (2, (1, 1)),
    "sort": (2, (1, 1)),
    "double_hist": (2, (2, 1)),
    "most_freq": (3, (2, 1, 1)),
    "dyck1": (2, (1, 1)),
    "dyck2": (4, (1, 2, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_programs_match_the_paper(name):
    a = analyse(PROGRAMS[name].build())
    assert (a.n_layers, a.heads_per_layer) == PAPER[name]


def test_maps_are_free_and_embedding_holds_depth_zero():
    prog = (tokens + indices).named("sum")
    a = analyse(prog)
    assert a.n_layers == 0 and a.heads_per_layer == ()
    assert {s.label for s in a.embedding} == {"tokens", "indices", "sum"}


def test_a_reused_selector_counts_once_per_layer():
    upto = select(indices, indices, "<=")
    a1 = aggregate(upto, tokens)
    a2 = aggregate(upto, tokens * 2)
    again = aggregate(select(indices, indices, "<="), tokens + 1)  # same pattern, new call
    a = analyse(a1 + a2 + again)
    assert a.heads_per_layer == (1,)
    assert len(a.layers[0].heads[0].sops) == 3


def test_same_selector_in_two_layers_counts_in_each():
    upto = select(indices, indices, "<=")
    first = aggregate(upto, tokens)
    second = aggregate(upto, first)
    a = analyse(second)
    assert a.heads_per_layer == (1, 1)
    assert a.layer_of(first) == 1 and a.layer_of(second) == 2


def test_length_is_one_select_all_head_shared_with_explicit_select_all():
    all_keys = select(tokens, tokens, "true")
    prog = length + selector_width(all_keys)
    a = analyse(prog)
    assert a.heads_per_layer == (1,)
    assert a.layers[0].heads[0].label == "select_all" or a.layers[0].heads[0].selector is all_keys


def test_mlp_and_layer_placement():
    hist = selector_width(select(tokens, tokens, "==")).named("hist")
    doubled = (hist * 2).named("doubled")
    a = analyse(doubled)
    layer = a.layers[0]
    assert [s.label for s in layer.heads[0].sops] == ["hist"]
    assert [s.label for s in layer.mlp] == ["doubled"]
    assert a.depth_of(doubled) == 1


def test_report_text_and_json():
    a = analyse(PROGRAMS["dyck2"].build())
    text = str(a)
    assert "4 layers" in text and "layer 2:" in text and "depth_index" in text
    data = json.loads(json.dumps(a.to_dict()))
    assert data["heads_per_layer"] == [1, 2, 1, 1] and len(data["layers"]) == 4


def test_analyse_rejects_non_programs():
    with pytest.raises(RaspTypeError, match="analyse needs"):
        analyse(42)
