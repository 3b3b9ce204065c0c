"""A number only MLPs of steps read is written within a slack, through fewer points.

Causal Dyck-2's ``level`` adds two counts decoded from their weights and a
token. Only the MLPs that cut it into digits read it, and they tell its values
apart by thresholds midway between them, so the MLP writing it may miss by a
sixteenth of a gap: the line through fewer of each count's points. A number a
head reads stays exact. The certificate still proves the model (it compares
each MLP with the exact value at every point), and the model agrees with the
evaluator on every input of up to 6 brackets and on 257 longer ones.
"""

from __future__ import annotations

import functools
import itertools
import random

from rasplab import evaluate
from rasplab.compiler import compile_program, slack
from rasplab.compiler.features import Feature
from rasplab.compiler.plans import HeadPlan
from rasplab.compiler.slack import tolerant_outputs
from rasplab.compiler.storage import View
from rasplab.library import PROGRAMS, dyck2


def _features():
    count = Feature.numerical((1, View.SCALAR), "count", [0, 1, 2], "mlp")
    level = Feature.numerical((2, View.SCALAR), "level", [0, 1, 2], "mlp")
    flag = Feature.categorical((3, View.ONE_HOT), "flag", [False, True], "mlp")
    return count, level, flag


def test_a_number_read_only_through_steps_is_tolerant_and_one_a_head_reads_is_not():
    count, level, flag = _features()
    jobs = ((count, ()), (level, (count,)), (flag, (level,)))
    # level is read by a step: all of the slack; count by level: half
    assert tolerant_outputs(jobs, (), program=9) == {level.key: 1 / 16, count.key: 1 / 32}
    mean = HeadPlan(
        None, "mean", None, {}, level, Feature.numerical((4, View.SCALAR), "m", [0], "head")
    )
    assert tolerant_outputs(jobs, (mean,), program=9) == {}  # count passes on to level
    scored = HeadPlan(None, "count", None, {("q", 1): flag}, None, mean.output)
    assert tolerant_outputs(jobs, (scored,), program=9) == {level.key: 1 / 16}
    # read by a number that is the output, or by nothing: exact
    assert tolerant_outputs(jobs, (), program=2) == {}
    assert tolerant_outputs(((count, ()),), (), program=9) == {}


def test_the_deepest_chain_of_numbers_sets_the_share():
    count, level, flag = _features()
    other = Feature.numerical((5, View.SCALAR), "other", [0, 1, 2], "mlp")
    # count is read by level (then a step) and by other (then level): two numbers deep
    jobs = ((count, ()), (other, (count,)), (level, (count, other)), (flag, (level,)))
    shares = tolerant_outputs(jobs, (), program=9)
    assert shares == {level.key: 1 / 16, other.key: 1 / 32, count.key: 1 / 64}


def _level_units(model):
    notes = [note for note in model.info.notes if note.startswith("level: the MLP writing it")]
    assert len(notes) == 1, model.info.notes
    return int(notes[0].split("(")[-1].split()[0])


@functools.cache
def _dyck2_causal_64():
    entry = PROGRAMS["dyck2"]
    return compile_program(entry.build(), list(entry.vocab), 64, causal=True, sample=entry.sample)


def test_causal_dyck2_decodes_level_through_fewer_points_and_stays_proved():
    model = _dyck2_causal_64()
    proof = model.info.certificate
    assert (proof.status, proof.dtype) == ("proved", "float32")
    # two counts of up to 64 keys, one unit per point each as exact lines: 130 units
    assert _level_units(model) <= 70
    assert model.n_params < 150_000  # 163,187 with every number exact


def test_without_the_slack_level_is_built_through_every_point(monkeypatch):
    monkeypatch.setattr(slack, "COUNT_SLACK", 0.0)
    entry = PROGRAMS["dyck2"]
    model = compile_program(entry.build(), list(entry.vocab), 64, causal=True, sample=entry.sample)
    assert not any(note.startswith("level: the MLP writing it") for note in model.info.notes)
    assert model.n_params > 160_000


def test_a_model_with_slack_agrees_with_the_evaluator_on_short_and_long_inputs():
    """Every input of up to 6 brackets (5,460), and 300 random ones of up to 64, where
    ``level``'s lines skip most of the points, through the model's public API."""
    model, program = _dyck2_causal_64(), dyck2()
    rows = [list(xs) for n in range(1, 7) for xs in itertools.product("(){}", repeat=n)]
    rng = random.Random(5)
    rows += [[rng.choice("(){}") for _ in range(rng.randint(7, 64))] for _ in range(250)]
    rows += [["("] * n + ["{"] * (64 - n) for n in (0, 20, 32, 64)]  # deep levels
    rows += [["(", ")"] * 32, ["(", "{", "}", ")"] * 16, ["("] * 63 + [")"]]
    got = model.run(rows, "float32")
    wrong = [xs for xs, out in zip(rows, got, strict=True) if out != evaluate(program, xs)]
    assert wrong == []


def test_a_slack_the_readers_cannot_take_is_not_kept(monkeypatch):
    """The certificate sees what the slack costs: past what the steps reading ``level``
    allow (a third of a gap), the rebuilds that miss by it are not proved, and the
    first model, whose ``level`` a head reads exactly, stands."""
    monkeypatch.setattr(slack, "COUNT_SLACK", 0.9)
    entry = PROGRAMS["dyck2"]
    model = compile_program(entry.build(), list(entry.vocab), 64, causal=True, sample=entry.sample)
    assert not any(note.startswith("level: the MLP writing it") for note in model.info.notes)
    assert model.info.certificate.dtype != "float32"
