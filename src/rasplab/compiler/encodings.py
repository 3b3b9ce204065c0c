"""Stage 2: how each aggregate combines and how each s-op is stored.

RASP's mean aggregate does two jobs. Over a selector that picks one key per
query (``reverse``, ``sort``) it *moves* a value, and the result is stored
one-hot like its input; over a selector that picks many keys (a prefix in
``frac_prevs``, ``dyck``) it *averages* numbers, and the result is one
scalar. The evaluator does both with one rule (numbers average), so the
compiler must decide which job each categorical aggregate does:

* numerical aggregates average;
* values that are not numbers can only be moved (the evaluator refuses to
  average them);
* a selector that never picks two keys, or values that are all equal, move;
* a selector that depends on positions only and picks two keys somewhere
  averages;
* otherwise sampled inputs decide: if any query averages different numbers,
  the aggregate averages; if none does, it moves, and that is recorded as an
  *assumption* in the compile report (verification runs on the same kind of
  inputs).

>>> from rasplab import tokens, indices, select, aggregate
>>> from rasplab.compiler.value_sets import infer
>>> prefix_mean = aggregate(select(indices, indices, "<="), indices)
>>> policy = AggregatePolicy(prefix_mean, "ab", 4)
>>> infer(prefix_mean, "ab", 4, policy).semantics[prefix_mean.id]
'mean'
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..evaluate import evaluate_batch, topological_order
from ..evaluate.columns import value_key
from ..lang.nodes import Aggregate, Node
from .value_sets import is_number, positional_nodes, uniform_selection

__all__ = ["AggregatePolicy", "sample_inputs"]

Sampler = Callable[[random.Random, int], list[Any]]


def sample_inputs(
    vocab: Any, max_seq_len: int, count: int, seed: int = 0, sample: Sampler | None = None
) -> list[list[Any]]:
    """Random inputs: lengths 1 and ``max_seq_len`` always, the rest uniform in between.

    >>> [len(x) for x in sample_inputs("ab", 5, 4, seed=1)]
    [5, 1, 2, 5]
    """
    rng = random.Random(seed)
    vocab = list(vocab)
    draw = sample or (lambda r, n: [r.choice(vocab) for _ in range(n)])
    lengths = [max_seq_len, 1] + [rng.randint(1, max_seq_len) for _ in range(count - 2)]
    return [list(draw(rng, n)) for n in lengths[:count]]


class AggregatePolicy:
    """Decides, per mean aggregate, ``"select"`` (move one value) or ``"mean"``.

    Decisions are remembered by node id and by the id of the node a rewrite
    came from (``origin``), so a rewritten program keeps them.
    """

    def __init__(
        self,
        program: Node,
        vocab: Any,
        max_seq_len: int,
        sample: Sampler | None = None,
        n_samples: int = 48,
        seed: int = 0,
    ):
        self.program, self.vocab, self.n = program, tuple(vocab), max_seq_len
        self.sample, self.n_samples, self.seed = sample, n_samples, seed
        self.positional = positional_nodes(program)
        self.decided: dict[int, str] = {}
        self.assumptions: dict[int, str] = {}
        self.origin: dict[int, int] = {}
        self._averaging: set[int] | None = None

    def __call__(self, node: Aggregate, pool: list[Any], widths: tuple) -> str:
        key = self.origin.get(node.id, node.id)
        if key not in self.decided:
            self.decided[key] = self.decide(node, key, pool, widths)
        return self.decided[key]

    def decide(self, node: Aggregate, key: int, pool: list[Any], widths: tuple) -> str:
        if node.encoding.value == "numerical":
            return "mean"
        distinct = {value_key(v) for v in pool}
        if not all(is_number(v) for v in pool) or len(distinct) <= 1:
            return "select"
        most = max((max(w, default=0) for w in widths), default=0)
        if most <= 1 or uniform_selection(node):
            return "select"
        if node.selector.id in self.positional:
            return "mean"
        if key in self.averaging():
            return "mean"
        self.assumptions[key] = (
            f"aggregate {node.label} is compiled as moving one value per query: its selector "
            f"{node.selector.label} may pick several keys holding different numbers, which the "
            f"evaluator would average, but no sampled input did; mark it numerical to average"
        )
        return "select"

    def averaging(self) -> set[int]:
        """Ids of aggregates that averaged different numbers on some sampled input."""
        if self._averaging is None:
            self._averaging = self._observe()
        return self._averaging

    def _observe(self) -> set[int]:
        aggregates = [n for n in topological_order(self.program) if isinstance(n, Aggregate)]
        inputs = sample_inputs(self.vocab, self.n, self.n_samples, self.seed, self.sample)
        found: set[int] = set()
        for trace in _traces(self.program, inputs):
            for agg in aggregates:
                if agg.id not in found and _averages(trace, agg):
                    found.add(agg.id)
        return found


def _traces(program: Node, inputs: list[list[Any]]) -> list[Any]:
    try:
        return evaluate_batch(program, inputs, trace=True)
    except Exception:  # some input is rejected: keep the others
        traces = []
        for xs in inputs:
            try:
                traces.extend(evaluate_batch(program, [xs], trace=True))
            except Exception:
                continue
        return traces


def _averages(trace: Any, agg: Aggregate) -> bool:
    selected = trace.array(agg.selector)  # [query, key]
    values = trace.array(agg.sop)  # [key]
    return any(row.sum() > 1 and len({value_key(v) for v in values[row]}) > 1 for row in selected)
