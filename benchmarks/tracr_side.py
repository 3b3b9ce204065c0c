"""tracr beside rasplab in the same run: the same program, length and inputs.

``benchmarks/compile.py --tracr`` uses this module. It translates a rasplab
program into tracr's ``rasp`` (node by node, keeping every map as written),
compiles it with tracr, and measures what the compile benchmark measures
for rasplab: layers, d_model, parameters, compile seconds, the forward pass
on a batch of 64 inputs, and the fraction of random inputs whose decoded
output equals rasplab's evaluator. Needs the ``bench`` extra
(``pip install 'rasplab[bench]'``: tracr-pypi and jax).

Two forward times are given: ``model.forward`` as tracr assembles it (what
``model.apply`` calls), and the same function under ``jax.jit``.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

import numpy as np
from timing import best_ms

from rasplab import evaluate
from rasplab.compiler.encodings import sample_inputs
from rasplab.lang import nodes
from rasplab.lang.enums import AggregationMode, Comparison, Encoding

__all__ = ["available", "to_tracr", "measure", "Untranslatable"]


class Untranslatable(Exception):
    """The program uses something tracr's ``rasp`` cannot express."""


def available() -> bool:
    try:
        import jax  # noqa: F401
        from tracr.compiler import compiling  # noqa: F401
    except ImportError:
        return False
    return True


def to_tracr(sop: nodes.SOp) -> Any:
    """The same program in tracr's ``rasp``; raises :class:`Untranslatable`."""
    from tracr.rasp import rasp

    done: dict[int, Any] = {}

    def go(node: nodes.Node) -> Any:
        if node.id not in done:
            done[node.id] = _translate(rasp, node, go)
        return done[node.id]

    return go(sop)


def _encoded(rasp: Any, node: nodes.SOp, expr: Any) -> Any:
    """``expr`` with ``node``'s encoding (tracr reads it from an annotation)."""
    numerical = node.encoding is Encoding.NUMERICAL
    return rasp.numerical(expr) if numerical else rasp.categorical(expr)


def _translate(rasp: Any, node: nodes.Node, go) -> Any:
    """One node in tracr's ``rasp``, its children translated by ``go``."""
    if isinstance(node, nodes.Tokens):
        return rasp.tokens
    if isinstance(node, nodes.Indices):
        return rasp.indices
    if isinstance(node, nodes.Length):  # tracr's lib.make_length
        everything = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.TRUE)
        return _encoded(rasp, node, rasp.SelectorWidth(everything))
    if isinstance(node, nodes.Constant):  # tracr compiles no Full: a map of tokens instead
        return _encoded(rasp, node, rasp.Map(_constant(node.value), rasp.tokens))
    if isinstance(node, nodes.Map):
        return _encoded(rasp, node, rasp.Map(node.f, go(node.inner), simplify=False))
    if isinstance(node, nodes.ZipMap):
        if len(node.inputs) == 1:
            return _encoded(rasp, node, rasp.Map(node.f, go(node.inputs[0]), simplify=False))
        return _encoded(rasp, node, _sequence_map(rasp, node.f, [go(x) for x in node.inputs]))
    if isinstance(node, nodes.Select):
        if not isinstance(node.predicate, Comparison):
            raise Untranslatable(f"a custom predicate ({node.predicate_name})")
        predicate = rasp.Comparison[node.predicate.name]
        return rasp.Select(go(node.keys), go(node.queries), predicate)
    if isinstance(node, nodes.SelectorAnd | nodes.SelectorOr):
        combine = rasp.SelectorAnd if isinstance(node, nodes.SelectorAnd) else rasp.SelectorOr
        return combine(go(node.fst), go(node.snd))
    if isinstance(node, nodes.SelectorNot):
        return rasp.SelectorNot(go(node.inner))
    if isinstance(node, nodes.SelectorWidth):
        return _encoded(rasp, node, rasp.SelectorWidth(go(node.selector)))
    if isinstance(node, nodes.Aggregate):
        if node.mode is not AggregationMode.MEAN:
            raise Untranslatable(f"aggregate mode {node.mode.value}")
        # tracr: categorical aggregates take no default, numerical ones 0
        default = 0 if node.encoding is Encoding.NUMERICAL else None
        agg = rasp.Aggregate(go(node.selector), go(node.sop), default=default)
        return _encoded(rasp, node, agg)
    raise Untranslatable(f"the node kind {node.kind}")


def _constant(value: Any):
    return lambda _: value


def _sequence_map(rasp: Any, f, inputs: list) -> Any:
    """An n-ary map as tracr users write one: pack all but the last input into tuples."""
    if len(inputs) == 2:
        return rasp.SequenceMap(f, inputs[0], inputs[1])
    packed = rasp.categorical(rasp.SequenceMap(lambda a, b: (a, b), inputs[0], inputs[1]))
    for nxt in inputs[2:-1]:
        packed = rasp.categorical(rasp.SequenceMap(lambda a, b: (*a, b), packed, nxt))
    return rasp.SequenceMap(lambda a, b: f(*a, b), packed, inputs[-1])


def _params(model: Any) -> tuple[int, int]:
    import jax

    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(model.params)]
    return sum(x.size for x in leaves), sum(int(np.count_nonzero(x)) for x in leaves)


def _encode(model: Any, xs: list) -> list[int]:
    return model.input_encoder.encode(["BOS", *xs])


def _decode(model: Any, out: Any) -> list[list]:
    """Decoded outputs of a batch, without the BOS position."""
    rows = np.asarray(out.unembedded_output)  # [batch, pos] (argmax ids, or values)
    if model.output_encoder is None:  # numerical output: the values themselves
        return [row[1:].tolist() for row in rows]
    return [model.output_encoder.decode(row.tolist())[1:] for row in rows]


def _same(want: list, got: list | None) -> bool:
    if got is None or len(want) != len(got):
        return False
    for w, g in zip(want, got, strict=True):
        if isinstance(w, int | float) and not isinstance(w, bool) and isinstance(g, int | float):
            if abs(w - g) > 1e-3:
                return False
        elif w != g:
            return False
    return True


def _exact(model: Any, forward, programs: tuple, vocab: list, n: int, samples: int, sample):
    """On the inputs rasplab's ``verify`` draws: the fraction where tracr's model gives
    the evaluator's output, and where tracr's own evaluator does (the translation check)."""
    from tracr.rasp import rasp

    ours, theirs = programs
    by_length: dict[int, list[list]] = {}
    for xs in sample_inputs(vocab, n, samples, seed=7, sample=sample):
        by_length.setdefault(len(xs), []).append(xs)
    right = faithful = 0
    for inputs in by_length.values():  # one batch per length: tracr has no padding mask
        ids = np.array([_encode(model, xs) for xs in inputs])
        outputs = _decode(model, forward(model.params, ids))
        for xs, got in zip(inputs, outputs, strict=True):
            want = evaluate(ours, xs)
            right += _same(want, got)
            faithful += _same(want, _tracr_evaluate(rasp, theirs, xs))
    return right / samples, faithful / samples


def _tracr_evaluate(rasp: Any, program: Any, xs: list) -> list | None:
    """tracr's evaluator, or None where it fails (it refuses None keys, for one)."""
    try:
        return rasp.evaluate(program, xs)
    except Exception:  # any failure means the translation does not match on xs
        return None


def measure(program: nodes.SOp, vocab: list, n: int, samples: int, sample) -> dict:
    """tracr's figures for ``program`` at max length ``n``, or ``{"skip": why}``."""
    import jax
    from tracr.compiler import compiling

    try:
        translated = to_tracr(program)
    except Untranslatable as err:
        return {"skip": f"not expressible in tracr: {err}"}
    start = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(translated, set(vocab), n, compiler_bos="BOS")
    except Exception as err:  # tracr raises many kinds; the benchmark only reports them
        message = re.sub(r"<[^>]*>", "...", str(err)).replace("\n", " ")
        return {"skip": f"tracr refused: {type(err).__name__}: {message[:70]}"}
    seconds = time.perf_counter() - start
    params, nonzero = _params(model)
    rng = random.Random(1)
    batch = np.array([_encode(model, sample(rng, n)) for _ in range(64)])  # [64, n + 1]
    jitted = jax.jit(model.forward)

    def block(out: Any) -> None:
        jax.block_until_ready(out.unembedded_output)

    exact, faithful = _exact(model, jitted, (program, translated), vocab, n, samples, sample)
    return {
        "compile": seconds,
        "layers": model.model_config.num_layers,
        "d_model": len(model.residual_labels),
        "params": params,
        "nonzero": nonzero,
        "forward": best_ms(lambda: block(model.forward(model.params, batch))),
        "forward_jit": best_ms(lambda: block(jitted(model.params, batch))),
        "exact": exact,
        "translation": faithful,
    }
