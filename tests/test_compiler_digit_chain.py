"""The digits of a computed number (digits.py): the high digit cut and copied, the low
digit read beside it; the MLP pieces that keep them exact in float32."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from rasplab import select, selector_width, tokens
from rasplab.compiler.certify import certify
from rasplab.compiler.digits import split_equalities
from rasplab.compiler.domains import derived_leaves
from rasplab.compiler.driver import DEFAULT_MAX_BYTES, _build
from rasplab.compiler.features import Feature
from rasplab.compiler.job import make_job
from rasplab.compiler.mlp import synthesize, threshold_copy
from rasplab.compiler.units import Leaf, Problem, Target, exact_copy
from rasplab.compiler.value_sets import infer
from rasplab.lang.nodes import Map, ZipMap
from rasplab.library import get


def _relu_mlp(units, inputs: dict[str, float]) -> dict[str, float]:
    """What ``units`` write at residual ``inputs`` (numbers by direction), in float64."""
    out: dict[str, float] = {}
    for u in units:
        z = sum(w * inputs.get(d, 0.0) for d, w in u.w_in.items())
        for d, w in u.w_out.items():
            out[d] = out.get(d, 0.0) + w * max(z, 0.0)
    return out


def test_a_computed_number_is_cut_copied_and_read_beside_its_high_digit():
    count = selector_width(select(tokens, tokens, "<")).named("w")
    width = selector_width(select(count, count, "=="))
    values = infer(width, range(100), 80)
    found = split_equalities(width, values, causal=False, always="a test")
    assert found is not None
    nodes = {n.label: n for n in _walk(found.program)}
    high, low, cut = nodes["w.high"], nodes["w.low"], nodes["w.high.cut"]
    assert isinstance(high, Map) and high.f is exact_copy and high.inner is cut
    low_cut = nodes["w.low.cut"]  # read beside the high digit, then copied too
    assert isinstance(low, Map) and low.f is exact_copy and low.inner is low_cut
    assert isinstance(low_cut, ZipMap) and low_cut.inputs[1] is high
    base = int(found.notes[0].split("base ")[1].split(" ")[0])
    for x in range(81):  # the digits still tell every value apart, low read beside high
        h = high.f(cut.f(x))
        assert low.f(low_cut.f(x, h)) + base * h == x


def _walk(node):
    seen, stack = {}, [node]
    while stack:
        n = stack.pop()
        if n.id not in seen:
            seen[n.id] = n
            stack.extend(c for c in n.children)
    return list(seen.values())


def test_a_copy_rounds_each_direction_and_keeps_zeros_exact():
    leaf = Leaf.categorical("h", [0, 1, 2])
    target = Target.categorical(["c:0", "c:1", "c:2"])
    p = Problem([leaf], [[0], [1], [2]], target, [0, 1, 2])
    units = threshold_copy(p)
    assert units is not None and len(units) == 6
    for v, noise in itertools.product(range(3), (-0.15, 0.0, 0.15)):
        inputs = {"one": 1.0, **{f"h:{j}": float(j == v) + noise * (j == v) for j in range(3)}}
        inputs.update({f"h:{j}": abs(noise) for j in range(3) if j != v})
        out = _relu_mlp(units, inputs)
        assert [out.get(f"c:{j}", 0.0) for j in range(3)] == [float(j == v) for j in range(3)]
    two_to_one = Problem([leaf], [[0], [1], [2]], target, [0, 0, 2])
    assert threshold_copy(two_to_one) is None  # not a copy: two values share an output


def test_a_map_of_another_leaf_takes_only_the_pairs_it_makes():
    low = tokens.map(lambda x: x // 4)
    xs = Feature.numerical((tokens.id, "s"), "x", list(range(12)), "embed")
    hs = Feature.numerical((low.id, "s"), "h", [0, 1, 2], "mlp")
    found = derived_leaves([xs, hs], [tokens, low])
    assert found[1][1].tolist() == [x // 4 for x in range(12)]
    assert derived_leaves([xs, hs], [tokens, tokens]) == {}


def test_a_low_digit_beside_its_high_one_leaves_room_for_its_input_errors():
    # x in 0..11 with an error of 0.3, its high digit (x // 4) as a table: x % 4 one-hot
    x = Leaf.numerical("x", [float(v) for v in range(12)])
    h = Leaf.categorical("h", [0, 1, 2])
    codes = np.array([[v, v // 4] for v in range(12)])
    target = Target.categorical([f"low:{j}" for j in range(4)])
    spec = synthesize([x, h], codes, target, [v % 4 for v in range(12)], {"x": (0.3, 0.0)})
    assert spec is not None and len(spec.units) < 4 * 12  # not a ramp per value of x
    for v, off in itertools.product(range(12), (-0.3, 0.0, 0.3)):
        inputs = {"one": 1.0, "x": v + off, f"h:{v // 4}": 1.0}
        out = _relu_mlp(spec.units, inputs)
        got = [round(out.get(f"low:{j}", 0.0), 9) for j in range(4)]
        assert got == [float(j == v % 4) for j in range(4)], (v, off, got)


def test_sort_in_digits_is_proved_by_bounds_and_exact_on_random_inputs():
    program = get("sort").build()
    job = make_job(program, list("abc"), 100, False, 0, None, 0, None, DEFAULT_MAX_BYTES)
    model, _, blueprint = _build(replace(job, all_digits="a test"), evidence=[])
    written = {m.output.name: [f.name for f in m.leaves] for m in blueprint.layout.mlps}
    assert written["target_pos.high"] == ["target_pos.high.cut"]
    assert written["target_pos.low.cut"] == ["target_pos", "target_pos.high"]
    assert written["target_pos.low"] == ["target_pos.low.cut"]
    proof = certify(model, program, blueprint=blueprint, method="bounds")
    assert proof.worst_margin is not None and proof.worst_margin > 0  # float64 at least
    rng = np.random.default_rng(0)
    for _ in range(20):
        xs = [str(t) for t in rng.choice(list("abc"), size=int(rng.integers(1, 101)))]
        assert model(xs, np.float32) == program(xs), xs
