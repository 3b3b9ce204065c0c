"""Stage 2 (encodings, the aggregate policy): how each aggregate combines and how each
s-op is stored. Stage 1 (value sets) asks the policy as it meets each aggregate.

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
* otherwise observed inputs decide - random samples, every short input
  (without a custom sampler) and, after a failed verification, the inputs
  it failed on: if any query averages different numbers, the aggregate
  averages; if none does, it moves, and that is recorded as an *assumption*
  in the compile report (verification runs on the same kind of inputs).

>>> from rasplab import tokens, indices, select, aggregate
>>> from rasplab.compiler.value_sets import infer
>>> prefix_mean = aggregate(select(indices, indices, "<="), indices)
>>> policy = AggregatePolicy(prefix_mean, "ab", 4)
>>> infer(prefix_mean, "ab", 4, policy).semantics[prefix_mean.id]
'mean'

A rewritten program (stage 3) asks through :meth:`AggregatePolicy.through`,
which maps each rebuilt aggregate to the one it came from, so both passes get
the same answer without the policy being changed from outside.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import CompileError
from ..lang.graph import topological_order, value_key
from ..lang.nodes import Aggregate, AggregationMode, Node, SelectorWidth, Tokens, ZipMap
from .reference import Rejection, evaluate_each
from .value_sets import is_number, positional_nodes, uniform_selection

__all__ = ["AggregatePolicy", "sample_inputs", "short_inputs"]

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
    return [_drawn(draw, rng, n) for n in lengths[:count]]


def _drawn(draw: Sampler, rng: random.Random, n: int) -> list[Any]:
    """One input of length ``n``; CompileError where a sampler says it cannot draw one
    (a ValueError: ``random.sample`` of distinct values from 100 has no input of 128)."""
    try:
        return list(draw(rng, n))
    except ValueError as err:  # the library's samplers raise InputError, a ValueError
        raise CompileError(
            f"the input sampler could not draw an input of length {n} ({type(err).__name__}: "
            f"{err}): compile for a max_seq_len its inputs reach, or give a sampler (sample=) "
            "that draws every length up to it"
        ) from None


SHORT_INPUTS = 256  # every input this many or fewer short inputs cover is observed too


def short_inputs(vocab: Any, max_seq_len: int, limit: int = SHORT_INPUTS) -> list[list[Any]]:
    """Every input of lengths 1, 2, ... while they number at most ``limit`` in all.

    Random samples rarely hold a rare short pattern (two equal tokens above the
    length); all short inputs do, and they cost little.

    >>> [len(x) for x in short_inputs("ab", 5, 6)]
    [1, 1, 2, 2, 2, 2]
    """
    vocab = list(vocab)
    out: list[list[Any]] = []
    for n in range(1, max_seq_len + 1):
        if len(out) + len(vocab) ** n > limit:
            break
        out += [list(xs) for xs in itertools.product(vocab, repeat=n)]
    return out


class AggregatePolicy:
    """Decides, per mean aggregate, ``"select"`` (move one value) or ``"mean"``.

    Decisions are remembered by the id of the program's aggregate; a rewritten
    program asks through :meth:`through`, with the node each rebuilt one came
    from, so it keeps them.
    """

    def __init__(
        self,
        program: Node,
        vocab: Any,
        max_seq_len: int,
        sample: Sampler | None = None,
        n_samples: int = 48,
        seed: int = 0,
        evidence: Sequence[Sequence[Any]] = (),
    ):
        self.program, self.vocab, self.n = program, tuple(vocab), max_seq_len
        self.sample, self.n_samples, self.seed = sample, n_samples, seed
        self.evidence = [list(xs) for xs in evidence]  # inputs observed besides the samples
        self.positional = positional_nodes(program)
        self.decided: dict[int, str] = {}
        self.assumptions: dict[int, str] = {}
        self._inputs: list[list[Any]] | None = None
        self._found: dict[int, bool] = {}  # aggregate id -> averaged on a sampled input
        self._accepted: dict[int, bool] = {}  # sampled input -> the program runs on it

    def __call__(self, node: Aggregate, pool: list[Any], widths: tuple) -> str:
        return self.decision(node, node.id, pool, widths)

    def through(self, origin: Mapping[int, Node]) -> Callable[[Aggregate, list, tuple], str]:
        """The policy as a rewritten program asks it: ``origin`` maps a rebuilt node's id
        to the node of the program it stands for, whose decision it shares."""

        def ask(node: Aggregate, pool: list[Any], widths: tuple) -> str:
            was = origin.get(node.id)
            return self.decision(node, node.id if was is None else was.id, pool, widths)

        return ask

    def decision(self, node: Aggregate, key: int, pool: list[Any], widths: tuple) -> str:
        """The decision for aggregate ``key`` of the program (``node`` may be its rewrite),
        made once and remembered."""
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
        if self.averages(key):
            return "mean"
        self.assumptions[key] = (
            f"aggregate {node.label} is compiled as moving one value per query: its selector "
            f"{node.selector.label} may pick several keys holding different numbers, which the "
            f"evaluator would average, but no sampled input did; mark it numerical to average"
        )
        return "select"

    def averages(self, key: int) -> bool:
        """Whether aggregate ``key`` of the program averaged different numbers on some
        sampled input that the program runs on."""
        if key not in self._found:
            found = {n.id: n for n in topological_order(self.program) if isinstance(n, Aggregate)}
            if key not in found:
                return False  # made by a rewrite: never observed
            # with the aggregates that may ask later: one evaluation serves them all
            batch = [found[key]] + [a for a in found.values() if a.id != key and self._may_ask(a)]
            self._observe([a for a in batch if a.id not in self._found])
        return self._found[key]

    def _may_ask(self, agg: Aggregate) -> bool:
        """Whether :meth:`decide` may observe this aggregate (what it can tell without value
        sets: a mean over a selector not of positions only, of values that may be numbers)."""
        words = isinstance(agg.sop, Tokens) and not all(is_number(t) for t in self.vocab)
        return (
            agg.mode is AggregationMode.MEAN
            and agg.encoding.value != "numerical"
            and not uniform_selection(agg)
            and agg.selector.id not in self.positional
            and not words
        )

    def _observe(self, aggregates: list[Aggregate]) -> None:
        """Run the aggregates' selectors and values (only those, not the whole program) on
        the sampled inputs; an averaging counts once the program is known to run there."""
        if self._inputs is None:
            sampled = sample_inputs(self.vocab, self.n, self.n_samples, self.seed, self.sample)
            # a custom sampler defines which inputs exist: only then are all short ones kept out
            short = short_inputs(self.vocab, self.n) if self.sample is None else []
            self._inputs = self.evidence + short + sampled
        parts = [x for a in aggregates for x in (SelectorWidth(a.selector), a.sop)]
        probe = ZipMap(lambda *xs: 0, *parts)
        waiting = {a.id: a for a in aggregates}  # by id: s-ops overload == (no list.remove)
        for part in _by_length(self._inputs):
            traced = _traces(probe, [self._inputs[i] for i in part])
            for agg in list(waiting.values()):
                seen = (part[i] for i, trace in traced if _averages(trace, agg))
                if any(self._runs(i) for i in seen):
                    self._found[agg.id] = True
                    del waiting[agg.id]
            if not waiting:
                break
        for agg in waiting.values():
            self._found[agg.id] = False

    def _runs(self, i: int) -> bool:
        """Whether the whole program runs on sampled input ``i`` (the evaluator may reject
        it in a part the aggregate does not read; such inputs are not evidence)."""
        if i not in self._accepted:
            observed = self._inputs or []  # set by _observe, the only caller
            self._accepted[i] = bool(_traces(self.program, [observed[i]]))
        return self._accepted[i]


def _by_length(inputs: list[list[Any]]) -> list[list[int]]:
    """Input indices in three parts: those of the first input's length (the longest), then
    of the next 7 lengths, then the rest. Averaging usually shows in the first part; the
    evaluator runs one batch per length, so parts by length cost no more than one call."""
    lengths = list(dict.fromkeys(len(xs) for xs in inputs))
    parts = [set(lengths[:1]), set(lengths[1:8]), set(lengths[8:])]
    found = [[i for i, xs in enumerate(inputs) if len(xs) in part] for part in parts]
    return [part for part in found if part]


def _traces(program: Node, inputs: list[list[Any]]) -> list[tuple[int, Any]]:
    """(input index, trace) for the inputs the evaluator runs ``program`` on."""
    results = evaluate_each(program, inputs, trace=True)
    return [(i, t) for i, t in enumerate(results) if not isinstance(t, Rejection)]


def _averages(trace: Any, agg: Aggregate) -> bool:
    """Some query selects two or more keys holding different values."""
    selected = np.asarray(trace.array(agg.selector), dtype=bool)  # [query, key]
    index: dict[tuple, int] = {}
    codes = np.array([index.setdefault(value_key(v), len(index)) for v in trace.array(agg.sop)])
    if len(index) <= 1:
        return False
    low = np.where(selected, codes[None, :], len(index)).min(axis=1)
    high = np.where(selected, codes[None, :], -1).max(axis=1)
    return bool(np.any((selected.sum(axis=1) > 1) & (low != high)))
