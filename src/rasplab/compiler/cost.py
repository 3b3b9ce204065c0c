"""Stage 4's first decision, by a cost model: which selects compare positions as numbers.

A select ``keys == queries`` of integers can be built two ways. One-hot, each
side takes one residual direction per value and the head is as wide as the
smaller side, so its cost grows with the square of ``max_seq_len``; its scores
are exact in any float type. As numbers (:mod:`.quadratic`), each side takes
at most two directions whatever the length, but the scores need a scale ``C``
that grows with the length, and float32 keeps their gap only while the
integers they hold stay small: past that the numbers need float64.

The cost model weighs both for each such select:

* numeric margin first: numbers are a candidate only where float32 keeps the
  score gap (``QuadraticPlan.dtype``); where it does not, the select is
  one-hot, and if one-hot cannot fit in ``max_params`` either, the compile is
  refused naming the head and the length;
* then parameters: the program is planned with every candidate as numbers,
  then, select by select, one-hot instead wherever a one-hot head could be
  cheaper, and the plan with fewer parameters is kept. Two estimates are
  checked first, so that long programs never plan the one-hot alternative
  (minutes at 256 positions): a floor on the one-hot head's own matrices, and
  the plan in hand widened by the one-hot directions at what one direction
  costs in it (checked where the sides take more than ``SMALL_SIDES``).

Each decision and its reason is a note of the compile report.

>>> from rasplab.library import PROGRAMS
>>> from rasplab.compiler.value_sets import infer
>>> reverse = PROGRAMS["reverse"].build()
>>> layout = choose_numbers(reverse, infer(reverse, "abc", 16), 16, 3, None)
>>> [note.split(": ")[1] for note in layout.notes if "cost model" in note]
['numbers chosen by the cost model (about 618 parameters against an estimated 2,218 one-hot)']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..errors import CompileError
from ..lang.nodes import SelectorWidth, SOp
from .layout import Layout, plan, planning_context
from .quadratic import QuadraticFit, quadratic_blocker
from .size import layout_estimate, per_direction
from .storage import Storage
from .value_sets import ValueSets

__all__ = ["choose_numbers", "one_hot_floor", "SMALL_SIDES"]

SMALL_SIDES = 64  # one-hot sides of at most this many directions are always planned


@dataclass(frozen=True)
class _Costed:
    layout: Layout
    params: int


@dataclass(frozen=True)
class _Job:
    program: SOp
    values: ValueSets
    n: int
    vocab_size: int
    count_scales: dict[int, float]
    causal: bool = False
    decode_counts: bool = False
    input_errors: Mapping[str, tuple[float, float]] | None = None
    count_scale: float | None = None  # B of counts without their own (None: n)

    def plan(self, numbers: frozenset[int]) -> _Costed:
        layout = plan(
            self.program,
            self.values,
            self.count_scale or float(self.n),
            None,
            self.count_scales,
            numbers,
            self.causal,
            self.decode_counts,
            self.input_errors,
        )
        return _Costed(layout, layout_estimate(layout, self.vocab_size, self.n).total)


def choose_numbers(
    program: SOp,
    values: ValueSets,
    n: int,
    vocab_size: int,
    max_params: int | None,
    count_scales: dict[int, float] | None = None,
    one_hot: str | None = None,
    causal: bool = False,
    decode_counts: bool = False,
    input_errors: Mapping[str, tuple[float, float]] | None = None,
    count_scale: float | None = None,
) -> Layout:
    """The plan of ``program`` with each select of positions as numbers or one-hot,
    whichever the cost model prefers (module docstring); CompileError where neither
    can be built. ``one_hot``: every such select one-hot, for this reason.
    ``count_scale``: B of every count without one of its own (None: ``n``).

    ``decode_counts``: counts an MLP combines are decoded to numbers first. Without
    it, where the plan reads a count one-hot over more than ``SMALL_SIDES``
    directions (to combine it with another), the plan that decodes is made too and
    the one with fewer parameters kept."""
    sizes = (n, vocab_size, max_params)
    settings = (count_scales, one_hot, causal, count_scale)
    try:
        layout = _choose(program, values, sizes, settings, decode_counts, input_errors)
    except CompileError as refused:
        if decode_counts:
            raise
        try:  # too big as first planned (a wide count read one-hot, say): decoded?
            decoded = _choose(program, values, sizes, settings, True, input_errors)
        except CompileError:
            raise refused from None
        why = "; ".join(refused.blockers) or str(refused)
        note = f"counts decoded to numbers before they are combined: read one-hot, {why}"
        return replace(decoded, notes=(*decoded.notes, note))
    if decode_counts or not _reads_wide_count(layout):
        return layout
    try:
        decoded = _choose(program, values, sizes, settings, True, input_errors)
    except CompileError:
        return layout
    ours = layout_estimate(layout, vocab_size, n).total
    theirs = layout_estimate(decoded, vocab_size, n).total
    if theirs >= ours:
        return layout
    note = (
        "counts decoded to numbers before they are combined: chosen by the cost model "
        f"(about {theirs:,} parameters against {ours:,} reading a count one-hot)"
    )
    return replace(decoded, notes=(*decoded.notes, note))


def _reads_wide_count(layout: Layout) -> bool:
    """Whether an MLP writes a count one-hot over more than ``SMALL_SIDES`` directions."""
    return any(
        f.producer == "mlp"
        and f.kind is Storage.ONE_HOT
        and isinstance(layout.nodes.get(f.key[0]), SelectorWidth)
        and len(f.directions) > SMALL_SIDES
        for f in layout.features
    )


def _choose(
    program: SOp,
    values: ValueSets,
    sizes: tuple[int, int, int | None],
    settings: tuple[dict[int, float] | None, str | None, bool, float | None],
    decode_counts: bool,
    input_errors: Mapping[str, tuple[float, float]] | None,
) -> Layout:
    """:func:`choose_numbers` with or without decoding counts first."""
    n, vocab_size, max_params = sizes
    count_scales, one_hot, causal, scale = settings
    scales = count_scales or {}
    job = _Job(program, values, n, vocab_size, scales, causal, decode_counts, input_errors, scale)
    context = planning_context(program, values, scale or float(n), scales, None, None, causal)
    names = {nid: context.names[nid] for nid in context.quadratic}
    floors = {nid: _floor(values, fit) for nid, fit in context.quadratic.items()}
    blockers = {
        nid: one_hot or quadratic_blocker(names[nid], fit.plan, n)
        for nid, fit in context.quadratic.items()
    }
    _refuse_past_float32(blockers, floors, max_params)
    notes = [f"{names[nid]}: one-hot: {b}" for nid, b in blockers.items() if b]
    numbers = frozenset(nid for nid, b in blockers.items() if b is None)
    try:
        best = job.plan(numbers)
    except CompileError as err:
        if not numbers:
            raise
        notes.append(f"one-hot throughout: with numbers, {'; '.join(err.blockers)}")
        numbers, best = frozenset(), job.plan(frozenset())
    for nid in sorted(numbers):
        other = _one_hot_instead(job, numbers - {nid}, floors[nid], best)
        if isinstance(other, _Costed) and other.params < best.params:
            notes.append(_one_hot_note(names[nid], other.params, best.params))
            numbers, best = numbers - {nid}, other
        else:
            notes.append(_numbers_note(names[nid], best.params, other))
    past = [b for b in blockers.values() if b]
    if past and max_params is not None:
        _check_one_hot(best.params, max_params, past)
    return replace(best.layout, notes=(*best.layout.notes, *notes))


def _refuse_past_float32(
    blockers: dict[int, str | None], floors: dict[int, tuple[int, int]], max_params: int | None
) -> None:
    """CompileError for the selects float32 cannot compare as numbers whose one-hot head
    alone would pass ``max_params``: neither encoding can be built."""
    refused = [
        f"{b}; one-hot it needs at least {floors[nid][0]:,} parameters, more than "
        f"max_params={max_params:,}"
        for nid, b in blockers.items()
        if b and max_params is not None and floors[nid][0] > max_params
    ]
    if refused:
        raise CompileError.from_blockers(refused)


def _floor(values: ValueSets, fit: QuadraticFit) -> tuple[int, int]:
    """:func:`one_hot_floor` of every term of a head, added up."""
    floors = [one_hot_floor(values, (t.keys, t.queries)) for t in fit.terms]
    return sum(p for p, _ in floors), sum(d for _, d in floors)


def one_hot_floor(values: ValueSets, sides: tuple[SOp, SOp]) -> tuple[int, int]:
    """``(parameters, directions)``: at least this many parameters for a one-hot head over
    these sides (its query and key matrices read every side's directions into a width
    of the smaller side), and the residual directions the sides take."""
    keys, queries = sides
    n_keys, n_queries = len(values.union(keys)), len(values.union(queries))
    directions = max(n_keys, n_queries) if keys is queries else n_keys + n_queries
    return 2 * directions * (min(n_keys, n_queries) + 1), directions


def _one_hot_instead(
    job: _Job, numbers: frozenset[int], floor: tuple[int, int], best: _Costed
) -> _Costed | int:
    """The plan with this select one-hot where it could be cheaper, else the estimate
    that says it could not (its parameters).

    Planning a long program one-hot can take minutes, so it is tried only where
    the head's floor stays below the plan in hand and either the sides are small
    (at most ``SMALL_SIDES`` directions: a plan of milliseconds, and the only way
    to tell close cases apart) or the plan in hand widened by the sides'
    directions, at what one direction costs in it, stays below it too."""
    params, directions = floor
    widened = best.params + directions * per_direction(best.layout, job.vocab_size, job.n)
    if params >= best.params or (widened >= best.params and directions > SMALL_SIDES):
        return max(params, widened)
    try:
        return job.plan(numbers)
    except CompileError:
        return widened  # one-hot cannot be built here: numbers stay


def _check_one_hot(params: int, max_params: int, blockers: list[str]) -> None:
    """Selects float32 cannot compare as numbers went one-hot: refuse if that is too big."""
    if params > max_params:
        raise CompileError.from_blockers(
            [
                f"{b}; one-hot the model would have about {params:,} parameters, more than "
                f"max_params={max_params:,}"
                for b in blockers
            ]
        )


def _numbers_note(name: str, params: int, other: _Costed | int) -> str:
    against = f"{other.params:,}" if isinstance(other, _Costed) else f"an estimated {other:,}"
    return (
        f"{name}: numbers chosen by the cost model (about {params:,} parameters against "
        f"{against} one-hot)"
    )


def _one_hot_note(name: str, params: int, as_numbers: int) -> str:
    return (
        f"{name}: one-hot chosen by the cost model (about {params:,} parameters against "
        f"{as_numbers:,} as numbers; one-hot scores are exact in any float type)"
    )
