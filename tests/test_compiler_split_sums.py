"""sort's ``target_pos`` at long lengths: a width split into two counts, added by an MLP.

At 1,024 positions the two counts take 1,025 values each, so the MLP adding them
has a million combinations of inputs. Four things keep that within reach, each
tested here at a size where the whole argument can also be checked by brute force:

* stage 1 gives the sum the value sets of the width it stands for, instead of
  listing every pair of counts position by position;
* a rank that numbers the positions (``0 .. length - 1``) matches exactly one key
  of ``select(target_pos, indices, "==")``;
* a separable MLP (a sum of one-leaf parts) is bounded part by part, each over its
  own leaf's values;
* a bounds space keeps only the directions its combinations fill.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_compiler_bounds import mismatches

from rasplab.compiler import bounds_mlps, split_widths, value_bulk, value_maps
from rasplab.compiler.arithmetic import by_arithmetic
from rasplab.compiler.bounds_space import Stream, space
from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.compiler.lower import lower
from rasplab.compiler.value_sets import infer
from rasplab.lang.graph import topological_order
from rasplab.library import get


@pytest.fixture
def counts_apart(monkeypatch):
    """The MLP reads each count on its own, as float32 makes it past 128 positions."""
    monkeypatch.setattr(split_widths, "near_linear_scale", lambda k, n: None)


def _compiled(n: int = 6):
    program = get("sort").build()
    model, blueprint = compile_with_blueprint(program, list("abc"), n)
    return program, model, blueprint


def _adder(blueprint):
    (plan,) = [m for m in blueprint.layout.mlps if m.output.name == "target_pos"]
    return plan


def test_a_separable_mlp_is_proved_part_by_part_and_exact_on_every_input(counts_apart):
    program, model, blueprint = _compiled()
    plan = _adder(blueprint)
    assert plan.spec.strategy == "separable"
    assert [part.leaf for part in plan.spec.parts] == [-1, 0, 1]
    assert sum(part.units for part in plan.spec.parts) == len(plan.spec.units)
    proof = certify(model, program, blueprint=blueprint, method="bounds")
    assert proof.proved, proof.open
    compared, wrong = mismatches(model, program)
    assert compared == 1092 and wrong == 0


def test_a_weight_changed_in_one_part_is_caught(counts_apart):
    program, model, blueprint = _compiled()
    plan = _adder(blueprint)
    before = [m for m in blueprint.layout.mlps if m.block == plan.block]
    offset = sum(len(m.spec.units) for m in before[: before.index(plan)])
    column = offset + plan.spec.parts[0].units + plan.spec.parts[1].units  # the 2nd count's
    block = model.blocks[plan.block]
    w_out = block.mlp.W_out.copy()
    w_out[column] *= 1.5
    blocks = list(model.blocks)
    blocks[plan.block] = replace(block, mlp=replace(block.mlp, W_out=w_out))
    proof = certify(
        replace(model, blocks=tuple(blocks)), program, blueprint=blueprint, method="bounds"
    )
    assert not proof.proved
    assert "the part reading target_pos.part1" in " ".join(proof.open)


def test_the_sum_takes_the_width_s_value_sets_instead_of_listing_pairs(monkeypatch):
    program = get("sort").build()
    original = infer(program, "abc", 12)
    low = lower(program, original)
    (total,) = [n for n in topological_order(low.program) if n.label == "target_pos"]
    width = low.origin[total.id]
    for module in (value_maps, value_bulk):  # too few calls to list the pairs of counts
        monkeypatch.setattr(module, "CALL_LIMIT", 10)
    values = infer(low.program, "abc", 12, None, original, low.origin)
    assert values.sets[total.id] == original.sets[width.id]
    monkeypatch.setattr("rasplab.compiler.value_sets._width_it_sums", lambda *a: None)
    listed = infer(low.program, "abc", 12, None, original, low.origin)
    assert listed.too_many(total)


def test_a_space_keeps_the_directions_it_fills():
    features = [f for f in _compiled()[2].layout.features if f.name.startswith("target_pos.part")]
    index = {d: i for i, d in enumerate(["one", "pad0", *[f.directions[0] for f in features]])}
    values = {f.key[0]: f.values for f in features}
    zero = np.zeros(len(index))
    stream = Stream(index, tuple(features), values, zero, zero, zero)
    sp = space(stream, [f.key[0] for f in features], 10**6, "test")
    assert sp.held.tolist() == [0, 2, 3]  # one, and the two counts: never pad0
    assert len(sp) == len(features[0].values) * len(features[1].values)
    cols = np.array([3, 1, 0])
    assert np.array_equal(sp.columns(cols), sp.x[:, cols])


def test_blocks_of_combinations_keep_their_activation_patterns(counts_apart, monkeypatch):
    """Past PATTERN_CELLS the combinations are taken a block at a time, each block still
    sorted into activation patterns: the same bound as all of them at once."""
    program, model, blueprint = _compiled()
    whole = certify(model, program, blueprint=blueprint, method="bounds")
    monkeypatch.setattr(bounds_mlps, "PATTERN_CELLS", 64)  # more than any group's units
    monkeypatch.setattr(bounds_mlps, "CHUNK_CELLS", 1)  # one combination per block
    program, model, blueprint = _compiled()
    blocks = certify(model, program, blueprint=blueprint, method="bounds")
    assert blocks.proved and blocks.worst_margin == whole.worst_margin
    assert blocks.worst_margin_float32 == whole.worst_margin_float32


def test_two_counts_are_added_on_whole_columns_as_one_call_each_would():
    rng = np.random.default_rng(0)
    total = split_widths.WidthSum(10)
    tables = [list(range(8)), list(range(0, 12, 2))]
    codes = [rng.integers(-1, len(t), 200) for t in tables]  # -1: no value there
    found, table = by_arithmetic(total, [(c, t) for c, t in zip(codes, tables, strict=True)])
    for row in range(200):
        a, b = (int(c[row]) for c in codes)
        if a < 0 or b < 0 or tables[0][a] + tables[1][b] > 10:  # WidthSum raises past 10
            assert found[row] == -1
        else:
            assert table[found[row]] == total(tables[0][a], tables[1][b])
