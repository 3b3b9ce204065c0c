"""Stage 3: rewrite the program into an equivalent one that every later stage can build.

Each rewrite keeps the program's values exactly (the evaluator gives the
same output on every input) and is recorded as a note for the report:

* **any**: a ``selector_width`` read only by maps that cannot tell ``2``
  from ``1`` (``width > 0``) becomes a head that says whether anything is
  selected - exactly 0 or 1, which a later MLP can combine with anything;
* **split**: the width of ``a | b`` where ``a`` and ``b`` never hold
  together, and one head cannot count both exactly (``sort``'s tie-break),
  becomes ``width(a) + width(b)``: two heads, counts added by the MLP (see
  :mod:`.split_widths`);
* **digits**: a count (or an 'any') whose selector orders more than 256
  positions (sort's tie-break) or tokens is a sum (an 'or') over their
  two digits, one head per part, and stores none of them one-hot (see
  :mod:`.order_digits`);
* **joint**: a selector no head computes exactly compares tuples of the
  s-ops it reads, built by an MLP first (one more layer when those s-ops
  come from the same layer);
* **sum**: a sum aggregate becomes mean x width;
* **count**: ``round(width * mean of a 0/1 flag)`` becomes the width of the
  selector restricted to flagged keys (see :mod:`.counts`).

>>> from rasplab import tokens, indices, select, selector_width
>>> from rasplab.compiler.value_sets import infer
>>> ties = select(tokens, tokens, "==") & select(indices, indices, "<")
>>> earlier = selector_width(select(tokens, tokens, "<") | ties)
>>> low = lower(earlier, infer(earlier, "ab", 4))
>>> low.program.describe().startswith("zipmap(")
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, overload

from ..analysis import analyse, pattern_key
from ..lang.graph import topological_order, value_key
from ..lang.nodes import (
    Aggregate,
    Constant,
    Encoding,
    Map,
    Node,
    Select,
    Selector,
    SelectorAnd,
    SelectorWidth,
    SOp,
    ZipMap,
)
from .anys import any_mean_user, any_means
from .causal import under_mask
from .counts import count_nodes
from .order_digits import digit_parts, embedded_nodes, order_literal
from .selectors import (
    AnyOf,
    Score,
    construct,
    exclusive,
    formula,
    holds,
    variables,
)
from .split_widths import near_linear_scale, split_parts, split_width, to_selector
from .sums import sum_as_counts
from .value_sets import ValueSets
from .wildcards import WILD, wildcard_selector

__all__ = ["Lowered", "lower", "needs_exact_top", "WILD"]


@dataclass(frozen=True, eq=False)
class Lowered:
    program: SOp
    origin: dict[int, Node]  # new node id -> the original node it stands for
    notes: tuple[str, ...]
    count_scales: dict[int, float]  # selector_width id -> B of its head (see split)


def needs_exact_top(node: SelectorWidth | Aggregate, semantics: dict[int, str]) -> bool:
    """Counting and averaging need every selected key to score the same."""
    if isinstance(node, SelectorWidth):
        return True
    if isinstance(node.sop, Constant):
        return False  # averaging equal values: the weights do not matter
    return semantics.get(node.id, "select") != "select"


class _Lowering:
    def __init__(self, program: SOp, vs: ValueSets, causal: bool = False, far: str | None = None):
        self.program, self.vs, self.causal = program, vs, causal
        self.far_counts = far  # why every count keeps B = n, where it does
        self.order = topological_order(program)
        self.parents: dict[int, list[Node]] = {n.id: [] for n in self.order}
        for n in self.order:
            for c in n.children:
                self.parents[c.id].append(n)
        self.new: dict[int, Node] = {}
        self.origin: dict[int, Node] = {}
        self.notes: list[str] = []
        self.count_scales: dict[int, float] = {}
        self.any_widths = {n.id for n in self.order if self.is_any(n)}
        self.any_means = any_means(self.order, self.parents, vs, program)
        self.counts = count_nodes(program, vs)
        self.noted_patterns: set[tuple] = set()
        self.analysis: Any = None  # computed when a count note needs it
        self.embedded = embedded_nodes(program)
        self.digit_nodes: dict[tuple[int, int, int, int], SOp] = {}
        self.number_digits: dict[tuple[int, int, int, int], SOp] = {}  # of computed numbers
        self.extra_values: dict[int, list[Any]] = {}  # of the digit s-ops made here

    def values_of(self, node: SOp) -> list[Any]:
        found = self.extra_values.get(node.id)
        return found if found is not None else self.vs.union(node)

    def exclusive(self, a: Any, b: Any) -> bool:
        return exclusive(a, b, self.values_of)

    # ------------------------------------------------------------ any

    def is_any(self, node: Node) -> bool:
        if not isinstance(node, SelectorWidth) or node is self.program:
            return False
        users = self.parents[node.id]
        maps = [u for u in users if isinstance(u, Map)]
        if not users or len(maps) != len(users):
            return False
        widths = sorted(set().union(*self.vs.widths[node.selector.id]))
        if not any(w > 1 for w in widths):
            return False
        return all(_same_from_one(u.f, widths) for u in maps)

    # ------------------------------------------------------------ rebuild

    def run(self) -> Lowered:
        for node in self.order:
            built = self.rewrite(node)
            self.new[node.id] = built
            self.origin.setdefault(built.id, node)
        return Lowered(
            self.kid(self.program), self.origin, tuple(self.notes), dict(self.count_scales)
        )

    @overload
    def kid(self, node: SOp) -> SOp: ...

    @overload
    def kid(self, node: Selector) -> Selector: ...

    def kid(self, node: Node) -> Node:
        """The rebuilt ``node``: rewrites turn s-ops into s-ops, selectors into selectors."""
        built = self.new[node.id]
        if isinstance(node, SOp) != isinstance(built, SOp):
            raise TypeError(f"{node.label} was rebuilt as {built.label}, of another kind")
        return built

    def copy(self, node: Node) -> Node:
        changes: dict[str, Node | tuple[Node, ...]] = {}
        declared = node.field_names()  # a subclass may expose children as properties
        for field in ("inner", "keys", "queries", "fst", "snd", "selector", "sop"):
            child = getattr(node, field, None) if field in declared else None
            if isinstance(child, Node) and self.new[child.id] is not child:
                changes[field] = self.new[child.id]
        if isinstance(node, ZipMap) and any(self.new[x.id] is not x for x in node.inputs):
            changes["inputs"] = tuple(self.new[x.id] for x in node.inputs)
        return node._copy(**changes) if changes else node

    def rewrite(self, node: Node) -> Node:
        if node.id in self.counts and isinstance(node, SOp):
            return self.count(node)
        if isinstance(node, Map) and node.inner.id in self.any_widths:
            if not isinstance(node.inner, SelectorWidth):
                raise TypeError(f"{node.inner.label} is not a selector_width")
            return self.any_user(node, node.inner)
        if isinstance(node, Map) and node.inner.id in self.any_means:
            mean = node.inner
            if not isinstance(mean, Aggregate):
                raise TypeError(f"{mean.label} is not an aggregate")
            # the mean itself is lowered as usual, for a map that keeps reading it
            digits = partial(digit_parts, self)
            found = any_mean_user(self, node, mean, self.values_of(mean), digits)
            return found if found is not None else self.copy(node)
        if isinstance(node, SelectorWidth | Aggregate) and node.id not in self.any_widths:
            return self.attention(node)
        return self.copy(node)

    def any_user(self, node: Map, width: SelectorWidth) -> Node:
        """``node`` reads ``width`` (its inner) only as 'any key selected?'."""
        digits = digit_parts(self, formula(width.selector))
        if digits is not None:
            return self.any_of_parts(node, width, digits)
        sel = self.selector_for(width, exact=False)
        flag = Aggregate(sel, Constant(1), default=0).annotated(encoding=Encoding.NUMERICAL)
        flag = flag.named(f"{width.label}>0")
        self.notes.append(
            f"{width.label}: only read as 'any key selected?', so one head answers exactly 0 or 1"
        )
        f = node.f
        return node._copy(f=lambda a, f=f: f(1 if a else 0), inner=flag)

    def any_of_parts(self, node: Map, width: SelectorWidth, digits: tuple[list, list]) -> Node:
        """'Any key selected?' of a selector ordering positions in digits: any per part."""
        flags = [
            Aggregate(to_selector(self, part), Constant(1), default=0)
            .annotated(encoding=Encoding.NUMERICAL)
            .named(f"{width.label}>0.part{i}")
            for i, part in enumerate(digits[0])
        ]
        self.notes.append(
            f"{width.label}: only read as 'any key selected?'; "
            f"{self.digits_note(digits[1])}, so {len(flags)} heads answer exactly 0 or 1 "
            "for the parts and the MLP reading them takes their 'or'"
        )
        f = node.f
        found = ZipMap(lambda *a, f=f: f(1 if any(a) else 0), *flags)
        return found.named(node.label) if node.name else found

    def attention(self, node: SelectorWidth | Aggregate) -> Node:
        if isinstance(node, Aggregate) and self.vs.semantics.get(node.id) == "sum":
            return self.sum_as_mean(node)
        f = formula(node.selector)
        digits = digit_parts(self, f) if isinstance(node, SelectorWidth) else None
        if isinstance(node, SelectorWidth) and digits is not None:
            return split_width(self, node, digits[0], self.digits_note(digits[1]))
        if isinstance(node, SelectorWidth) and self.score(f, exact=True) is None:
            parts = split_parts(self, f) if isinstance(f, AnyOf) else None
            if parts is not None:
                return split_width(self, node, parts)
        sel = self.selector_for(node, needs_exact_top(node, dict(self.vs.semantics)))
        return (
            self.copy(node)
            if sel is self.kid(node.selector)
            else node._copy(**self.children_with(node, sel))
        )

    def children_with(self, node: Node, sel: Selector) -> dict:
        if isinstance(node, Aggregate):
            return {"selector": sel, "sop": self.kid(node.sop)}
        return {"selector": sel}

    def score(self, f: Any, exact: bool) -> Score | None:
        """One head's score for formula ``f`` (under a causal mask, what the mask leaves)."""
        score = construct(under_mask(f) if self.causal else f, self.exclusive)
        if score is None or (exact and not score.exact_top):
            return None
        return score

    def selector_for(self, node: SelectorWidth | Aggregate, exact: bool) -> Selector:
        """The (rebuilt) selector of ``node``, or a joint one if no head computes it."""
        f = formula(node.selector)
        if self.score(f, exact) is not None:
            return self.kid(node.selector)
        wild = self.wildcard(node, f, exact)
        return wild if wild is not None else self.joint(node, f)

    # ------------------------------------------------------------ wildcard keys

    def wildcard(self, node: Node, f: Any, exact: bool) -> Selector | None:
        """``phi | mask(key)``: keys the mask picks get a value every test accepts."""
        return wildcard_selector(self, node, f, exact)

    # ------------------------------------------------------------ count

    def count(self, node: SOp) -> Node:
        """A map proven to equal a prefix count (see :mod:`.counts`) becomes that count: one
        head, or where it orders wide positions, one head per part of their digits."""
        mean = self.counts[node.id]
        flagged = Select(self.kid(mean.sop), Constant(1), "==").named(f"{mean.sop.label}==1")
        sel = SelectorAnd(self.kid(mean.selector), flagged)
        if self.score(formula(sel), exact=True) is None:
            return self.copy(node)
        width = SelectorWidth(sel)
        whole = SelectorAnd(mean.selector, Select(mean.sop, Constant(1), "=="))
        digits = digit_parts(self, formula(whole))  # over the program's s-ops
        if digits is not None:
            self.note_split_pattern(mean)
            split = split_width(self, width, digits[0], self.digits_note(digits[1]), apart=True)
            return split.named(node.label) if node.name else split
        # Two such counts are often subtracted (brackets opened minus closed); B = 4 N^2
        # keeps B / (B + w) close enough to linear in w that one line through both
        # separates every difference (as for split counts).
        scale = None if self.far_counts else near_linear_scale(4, self.vs.max_seq_len)
        if scale is not None:  # past float32's reach the count keeps B = n, read on its own
            self.count_scales[width.id] = scale
        self.notes.append(
            f"{node.label}: rounds width x the mean of a 0/1 flag, so one head counts the "
            "flagged keys instead (the MLPs reading it need no position)"
        )
        self.note_split_pattern(mean)
        return width.named(node.label) if node.name else width

    def digits_note(self, split: list[tuple[Any, int]]) -> str:
        """Why a count takes several heads: the orders of positions it split in digits."""
        said = []
        for lit, base in split:
            order = order_literal(lit)
            assert order is not None, f"{lit.label} was split as an order"
            count = len(self.values_of(lit.key))
            said.append(
                f"{lit.key.label} {order.value} {lit.query.label} ({count} values) in base {base}"
            )
        return f"its orders are tested on two digits of each side, one-hot ({', '.join(said)})"

    def note_split_pattern(self, mean: Aggregate) -> None:
        """Say so when a count takes its mean out of a head it shared with other aggregates."""
        if self.analysis is None:
            self.analysis = analyse(self.program)
        heads = [h for layer in self.analysis.layers for h in layer.heads]
        shared = next((h.sops for h in heads if any(s is mean for s in h.sops)), ())
        key = pattern_key(mean.selector)
        if len(shared) < 2 or key in self.noted_patterns:
            return
        self.noted_patterns.add(key)
        names = ", ".join(s.label for s in shared)
        self.notes.append(
            f"{mean.selector.label}: the analysis gives {names} one head; counting flagged "
            "keys gives each count its own pattern (the selector & its flag), and a head "
            "computes one pattern, so that layer has one head per count, more than the "
            "analysis says; in exchange the MLPs reading the counts are exact on (count, count) "
            "pairs, not on (position, mean, mean) triples, whose number grows as "
            "max_seq_len ** 3"
        )

    # ------------------------------------------------------------ joint

    def joint(self, node: SelectorWidth | Aggregate, f: Any) -> Selector:
        found = variables(f)
        qs = [(var, n) for var, n in found.items() if var[0] == "q"]
        ks = [(var, n) for var, n in found.items() if var[0] == "k"]
        query = self.tuple_of([n for _, n in qs], f"{node.label}.query")
        key = self.tuple_of([n for _, n in ks], f"{node.label}.key")

        def test(kv: Any, qv: Any) -> bool:
            return holds(f, _env(qs, qv) | _env(ks, kv))

        self.notes.append(
            f"{node.label}: no head computes {node.selector.label} exactly from separate s-ops, "
            "so its query and key s-ops are combined into tuples first (an MLP step)"
        )
        return Select(key, query, test).named(f"{node.selector.label}.joint")

    def tuple_of(self, nodes: list[SOp], name: str) -> SOp:
        if not nodes:
            return Constant(0)
        if len(nodes) == 1:
            return self.kid(nodes[0])
        return ZipMap(lambda *xs: tuple(xs), *(self.kid(n) for n in nodes)).named(name)

    # ------------------------------------------------------------ sum

    def sum_as_mean(self, node: Aggregate) -> Node:
        counted = sum_as_counts(self, node)
        if counted is not None:
            return counted
        sel, sop = self.selector_for(node, exact=True), self.kid(node.sop)
        mean = Aggregate(sel, sop, default=0).annotated(encoding=Encoding.NUMERICAL)
        count = SelectorWidth(sel)
        values = self.values_of(node.sop)
        ints = all(isinstance(v, int) for v in values)
        flags = all(isinstance(v, bool) for v in values)
        default = node.default

        def total(m: float, w: int) -> Any:
            if w == 0:
                return default
            if flags and w == 1:  # one selected key: the value itself, a bool
                return bool(round(m))
            return int(round(m * w)) if ints else m * w

        self.notes.append(f"{node.label}: a sum is computed as mean x width (two heads)")
        mean, count = mean.named(f"{node.label}.mean"), count.named(f"{node.label}.count")
        product = ZipMap(total, mean, count)
        return product.named(node.label) if node.name else product


def _env(pairs: list, value: Any) -> dict:
    if not pairs:
        return {}
    if len(pairs) == 1:
        return {pairs[0][0]: value}
    return {var: v for (var, _), v in zip(pairs, value, strict=True)}


def _same_from_one(f: Callable[[Any], Any], widths: list[int]) -> bool:
    try:
        ref = value_key(f(1))
        return all(value_key(f(w)) == ref for w in widths if w >= 1)
    except Exception:
        return False


def lower(
    program: SOp, vs: ValueSets, causal: bool = False, far_counts: str | None = None
) -> Lowered:
    """Rewrite ``program`` (its value sets in ``vs``) into a form every head can compute
    (``causal``: heads under a causal mask, which tests ``select(indices, indices, "<=")``
    by itself; ``far_counts``: why every count keeps ``B = n``, read on its own, where
    one that is added to others or subtracted would take ``B = k n^2``)."""
    return _Lowering(program, vs, causal, far_counts).run()
