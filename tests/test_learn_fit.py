"""Learning a one-head task to 100% and reading it out; simplification keeps outputs."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("torch")

from rasplab import parse  # noqa: E402
from rasplab.errors import TrainingError  # noqa: E402
from rasplab.learn.config import LearnConfig  # noqa: E402
from rasplab.learn.data import library_examples, split  # noqa: E402
from rasplab.learn.discrete import Factor, Head, Layer, Mlp, Program  # noqa: E402
from rasplab.learn.fit import fit, score  # noqa: E402
from rasplab.learn.formulas import find_formulas  # noqa: E402
from rasplab.learn.readout import rasp_source, to_sop  # noqa: E402
from rasplab.learn.run import _encoded  # noqa: E402
from rasplab.learn.simplify import (  # noqa: E402
    ablate,
    fold_tables,
    relayer,
    remove_unused,
    simplify,
    size,
)
from rasplab.learn.verify import equivalence, random_program, run_discrete  # noqa: E402


@pytest.fixture(scope="module")
def hist_fit():
    examples = library_examples("hist", vocab=tuple("abc"), max_len=4, n=1600, seed=0)
    train, val, test = split(examples, 1000, 300, 300, 0)
    config = LearnConfig(layers=1, kinds=("width",), steps=400, n_train=1000, restarts=3)
    return examples, train, test, fit(examples, train, val, config, seed=0)


def test_hist_is_learned_to_100_percent_and_read_out_exactly(hist_fit):
    examples, train, test, result = hist_fit
    assert result.val.token_acc == 1.0
    assert score(result.program, _encoded(test, examples)).token_acc == 1.0
    check = equivalence(result.program, to_sop(result.program), test.inputs)
    assert check.equal and check.checked == len(test.inputs) and check.undefined == 0
    got = to_sop(result.program)
    assert [list(got(x)) for x in test.inputs[:50]] == test.outputs[:50]


def test_learned_hist_simplifies_to_the_one_head_program(hist_fit):
    examples, train, test, result = hist_fit
    simple = simplify(result.program, _encoded(train, examples))
    assert (simple.after.layers, simple.after.heads) == (1, 1)
    assert simple.after.lines <= simple.before.lines
    source = rasp_source(simple.program)
    assert "selector_width(select(tokens, tokens, ==))" in source
    loaded = parse(source)["output"]
    assert equivalence(simple.program, loaded, test.inputs).equal
    assert run_discrete(simple.program, test.inputs) == test.outputs


def _inputs(rng, vocab, n=60, max_len=5):
    return [[rng.choice(vocab) for _ in range(rng.randint(1, max_len))] for _ in range(n)]


@pytest.mark.parametrize("seed", range(10))
def test_exact_simplifications_keep_every_output(seed):
    rng = random.Random(seed)
    vocab = ("a", "b", "c")
    program = random_program(rng, vocab, 5, 2 + seed % 2)
    inputs = _inputs(rng, vocab)
    want = run_discrete(program, inputs)
    for step in (remove_unused, fold_tables, relayer):
        program = step(program)
        assert run_discrete(program, inputs) == want, step.__name__
        assert equivalence(program, to_sop(program), inputs).equal


def test_a_chain_of_one_input_tables_folds_into_the_output():
    first = Mlp("first", ("length",), (1, 0, 3, 1, 1, 0), 4)
    second = Mlp("second", ("first",), (2, 3, 2, 3), 4)  # folded into first, then the output
    out = Mlp("output", ("second",), (0, 1, 2, 0), 3)
    program = Program(("a", "b"), 5, (Layer((), (first,)), Layer((), (second,))), out, (0, 1, 2))
    inputs = [list("ab"), list("abba"), list("b"), list("aaaba")]
    folded = fold_tables(program)
    assert folded.layers == () and folded.output.inputs == ("length",)
    assert run_discrete(folded, inputs) == run_discrete(program, inputs)


def _reverse_program() -> Program:
    """length, then opp = a table equal to length - indices - 1 where reachable."""
    n = 4
    length = Head("n", (Factor("indices", "indices", "true"),), "width")
    table = tuple(
        (a - b - 1) if 0 <= a - b - 1 < n + 1 else 0 for a in range(n + 1) for b in range(n)
    )
    opp = Mlp("opp", ("n", "indices"), table, n + 1)
    flip = Head("flip", (Factor("indices", "opp", "=="),), "cat", "tokens")
    out = Mlp("output", ("flip",), (0, 1, 2), 3)
    layers = (Layer((length,), (opp,)), Layer((flip,), ()))
    return Program(("a", "b", "c"), n, layers, out, ("a", "b", "c"))


def test_a_table_that_is_arithmetic_becomes_a_formula():
    from rasplab.learn.data import Examples, encode

    program = _reverse_program()
    rng = random.Random(0)
    inputs = _inputs(rng, ("a", "b", "c"), 80, 4)
    data = Examples(inputs, [x[::-1] for x in inputs], program.vocab, program.labels, 4)
    found = find_formulas(program, encode(data))
    formulas = {m.name: m.formula for layer in found.layers for m in layer.mlps}
    assert formulas["opp"] == "a - b - 1"
    assert found.output.formula == "a"
    assert run_discrete(found, inputs) == [x[::-1] for x in inputs]
    assert equivalence(found, to_sop(found), inputs).equal
    source = rasp_source(simplify(found, encode(data)).program)
    assert "n_tokens = length;" in source and "n_tokens - indices - 1;" in source
    assert "output = moved;" in source


@pytest.mark.parametrize("seed", range(6))
def test_ablation_never_lowers_training_accuracy_and_sizes_shrink(seed):
    rng = random.Random(seed)
    program = random_program(rng, ("a", "b"), 4, 3)
    inputs = _inputs(rng, ("a", "b"), 80, 4)
    from rasplab.learn.data import Examples, encode

    outputs = [
        o if o is not None else ["no"] * len(x)
        for o, x in zip(run_discrete(program, inputs), inputs, strict=True)
    ]
    data = encode(Examples(inputs, outputs, program.vocab, program.labels, 4))
    smaller = ablate(remove_unused(program), data)
    assert score(smaller, data).token_acc >= score(program, data).token_acc
    assert size(smaller).heads <= size(program).heads


@pytest.mark.slow
def test_reverse_is_learned_and_simplifies_to_the_paper_program():
    examples = library_examples("reverse", vocab=tuple("abcd"), max_len=6, n=2000, seed=1)
    train, val, test = split(examples, 1400, 300, 300, 1)
    config = LearnConfig(layers=1, kinds=("cat",), factors=1, steps=400, restarts=4)
    result = fit(examples, train, val, config, seed=0)
    assert result.val.token_acc == 1.0
    simple = simplify(result.program, _encoded(train, examples))
    source = rasp_source(simple.program)
    assert "f = length - indices - 1;" in source, source
    assert "aggregate(select(indices, f, ==), tokens" in source, source
    assert (simple.after.layers, simple.after.heads) == (2, 1)
    assert run_discrete(simple.program, test.inputs) == [x[::-1] for x in test.inputs]
    assert equivalence(simple.program, parse(source)["output"], test.inputs).equal


def test_an_output_table_keeps_the_type_of_its_labels():
    from rasplab.learn.data import Examples, encode

    always_one = Mlp("output", ("length",), (0,) * 5, 1)
    program = Program(("a", "b"), 4, (), always_one, (1,))
    inputs = _inputs(random.Random(1), ("a", "b"), 40, 4)
    found = find_formulas(
        program, encode(Examples(inputs, [[1] * len(x) for x in inputs], ("a", "b"), (1,), 4))
    )
    assert found.output.formula is None or "!=" not in found.output.formula
    assert run_discrete(found, inputs) == [[1] * len(x) for x in inputs]
    assert all(type(v) is int for row in run_discrete(found, inputs) for v in row)


def test_a_planned_model_has_its_layers_heads_and_runs_as_its_program():
    import numpy as np
    import torch

    from rasplab.learn.discrete import forward
    from rasplab.learn.model import ProgramModel, Sampling

    plan = (("width", "mean"), ("width",))
    config = LearnConfig(layers=2, plan=plan, query_tables=False)
    model = ProgramModel(config, ("a", "b", "c"), (0, 1, 2, 3), 4)
    program = model.extract()
    names = [[h.name for h in layer.heads] for layer in program.layers]
    assert names == [["l1_width0", "l1_mean0"], ["l2_width0"]]
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, (20, 4))
    lengths = rng.integers(1, 5, 20)
    logits = model(torch.from_numpy(tokens), torch.from_numpy(lengths), Sampling(1.0, True, True))
    real = np.arange(4)[None, :] < lengths[:, None]
    want = forward(program, tokens, lengths).output
    assert (logits.argmax(-1).numpy() == want)[real].all()
    with pytest.raises(TrainingError, match="plan has 2 layers"):
        LearnConfig(layers=3, plan=plan).check()
