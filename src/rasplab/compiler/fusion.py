"""Stage 4: what an MLP reads, and what is stored when fusing steps is not enough.

Every map or zipmap that no head reads is fused into the MLP that needs it:
the MLP reads the nearest *stored* s-ops below (its leaves). Four moves keep
MLP work in as few layers as the analysis allows:

* *look through*: an MLP may read the inputs of a stored s-op instead of the
  s-op itself when that lets it run a layer earlier (:func:`leaves`);
* *hoist*: a sub-expression whose inputs are all ready before the MLP's last
  input is stored by an earlier MLP (the MLP then reads one leaf, not many);
* *coarse leaves*: a map of positions with few values (``indices == 0``) is
  written by the embedding and read instead of ``indices``;
* *fix*: when no one-layer MLP computes an s-op exactly, store a number first
  (then one-hot it), or store the attention outputs it combines one-hot.

:func:`hoist` and :func:`fix` take the needs and return new needs (or None:
nothing to change); the round loop of :func:`rasplab.compiler.layout.plan`
calls them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lang.graph import ATTENTION
from ..lang.nodes import Constant, Indices, Map, SOp, Tokens, ZipMap
from .combine import is_number
from .domains import DOMAIN_LIMIT
from .features import Feature
from .order_digits import ORDER_DIGITS_ABOVE
from .plans import Failure, Needs, PlanContext, Round
from .schedule import assign_blocks, mlp_ready
from .storage import Storage, View
from .units import exact_copy
from .views import ONE_HOT_LIMIT, Pass, feature, native_view

__all__ = ["leaves", "stored", "hoist", "fix", "cannot", "decode_first"]


def stored(needs: Needs, node: SOp) -> bool:
    """Whether ``node`` has a place in the residual stream (constants never do)."""
    kept = isinstance(node, (*ATTENTION, Tokens, Indices)) or node.id in needs.views
    return kept and not isinstance(node, Constant)


def leaves(work: Pass, output: Feature) -> list[Feature]:
    """What the MLP writing ``output`` reads: stored s-ops below it (see :func:`_look_through`)."""
    nodes, needs = work.context.nodes, work.needs
    node = nodes[output.key[0]]
    if output.key in needs.via:
        source_id, view = needs.via[output.key]
        return [feature(work, nodes[source_id], view)]
    if isinstance(node, ATTENTION):
        return [feature(work, node, native_view(work.context, node))]
    through: set[int] = set()
    while True:
        found = _walk(work, node, through)
        more = _look_through(work, found, through)
        if not more:
            return found
        through |= more


def _leaf_feature(work: Pass, node: SOp) -> Feature:
    """Which stored view of ``node`` an MLP reads."""
    views = work.needs.views.get(node.id, frozenset())
    if isinstance(node, Indices) and views and View.ONE_HOT not in views:
        return feature(work, node, View.SCALAR)  # a quadratic select stores them as a number
    if isinstance(node, Tokens | Indices):
        return feature(work, node, View.ONE_HOT)
    if isinstance(node, ATTENTION) and node.id not in work.needs.one_hot_reads:
        return feature(work, node, native_view(work.context, node))
    return feature(work, node, View.ONE_HOT if View.ONE_HOT in views else View.SCALAR)


def _walk(work: Pass, node: SOp, through: set[int]) -> list[Feature]:
    """The stored s-ops below ``node``, looking through those in ``through``."""
    found: dict[int, Feature] = {}
    stack, seen = _inputs(node), set()
    while stack:
        n = stack.pop()
        if n.id in seen or isinstance(n, Constant):
            continue
        seen.add(n.id)
        if stored(work.needs, n) and n.id not in through:
            found[n.id] = _leaf_feature(work, n)
        elif _coarse(work.context, n):
            found[n.id] = feature(work, n, View.ONE_HOT)
        else:
            stack.extend(_inputs(n))
    return [found[k] for k in sorted(found)]


def _inputs(node: SOp) -> list[SOp]:
    """The s-ops ``node`` reads. Only elementwise steps are looked into: heads' outputs
    are always stored, so no walk below an MLP meets a selector."""
    kids = [c for c in node.children if isinstance(c, SOp)]
    if len(kids) != len(node.children):
        raise TypeError(f"{node.label} reads a selector: a head computes it, not an MLP")
    return kids


def _look_through(work: Pass, found: list[Feature], through: set[int]) -> set[int]:
    """Stored MLP outputs that delay this MLP, whose own inputs are ready earlier."""
    if not work.blocks or not found:
        return set()

    def ready(f: Feature) -> int:
        return mlp_ready(f, work.blocks, work.heads_out)

    latest = max(ready(f) for f in found)
    more = set()
    for f in found:
        if ready(f) < latest:
            continue
        node = work.context.nodes[f.key[0]]
        if f.producer != "mlp" or isinstance(node, ATTENTION) or node.id in work.needs.read_whole:
            return set()  # the latest input is attention or embedding: no gain
        inner = _walk(work, node, through)
        if not inner or max(ready(g) for g in inner) >= latest:
            return set()
        more.add(node.id)
    return more


def _coarse(context: PlanContext, node: SOp) -> bool:
    """A map of positions with few values: the embedding writes it, and MLPs read it
    instead of ``indices`` (their domains then do not grow with every position)."""
    if node.id not in context.positional or not isinstance(node, Map | ZipMap):
        return False
    vs = context.values
    if vs.too_many(node):
        return False
    size = len(vs.union(node))
    return size >= 2 and 4 * size <= vs.max_seq_len


# ---------------------------------------------------------------- fixing


def fix(context: PlanContext, needs: Needs, failures: list[Failure]) -> Needs | None:
    """Needs under which the first fixable failure becomes computable a layer later."""
    for failure in failures:
        fixed = _store_part(context, needs, failure) if failure.too_many else None
        if fixed is None:
            fixed = _fix(context, needs, failure)
        if fixed is not None:
            return fixed
    return None


def _store_part(context: PlanContext, needs: Needs, failure: Failure) -> Needs | None:
    """Needs that store a map or zipmap the failed MLP fused, to be read whole. Three
    counts added (a sort whose positions are compared in digits): two of them summed by
    an MLP first, so that no MLP is checked on every triple of counts."""
    node = context.nodes[failure.output.key[0]]
    part = _unstored_part(needs, node)
    if part is None:
        return None
    needs = replace(needs, read_whole=needs.read_whole | {part.id})
    numbers = all(is_number(v, bools=True) for v in context.values.union(part))
    view = View.SCALAR if numbers else _hoist_view(context, part)  # not one per count
    return needs.with_view(part.id, view).with_note(
        f"{context.names[node.id]}: one MLP would read too many combinations of its "
        f"inputs, so {context.names[part.id]} is stored first (one more MLP step)"
    )


def _fix(context: PlanContext, needs: Needs, failure: Failure) -> Needs | None:
    output = failure.output
    node = context.nodes[output.key[0]]
    name = context.names[node.id]
    numeric = all(is_number(v, bools=True) for v in output.values)
    fresh_view = output.key not in needs.via and not isinstance(node, ATTENTION)
    if output.key[1] is View.SQUARE and fresh_view:
        # a square of a fused sum (of counts, say) is not a sum of one-input parts:
        # store the number, and the next layer's MLP squares that one input
        needs = needs.with_view(node.id, View.SCALAR)
        needs = replace(needs, via={**needs.via, output.key: (node.id, View.SCALAR)})
        return needs.with_note(
            f"{name}: one MLP cannot square it from its inputs exactly; an MLP stores it "
            "as a number first and the next layer's MLP squares it"
        )
    if output.kind is Storage.ONE_HOT and numeric and fresh_view:
        needs = needs.with_view(node.id, View.SCALAR)
        needs = replace(needs, via={**needs.via, output.key: (node.id, View.SCALAR)})
        return needs.with_note(
            f"{name}: one MLP cannot turn its inputs into a one-hot exactly; an MLP "
            "stores it as a number first and the next layer's MLP one-hots it"
        )
    fresh = [f for f in failure.leaves if f.kind is Storage.SCALAR and not f.binary]
    fresh = [f for f in fresh if f.key[0] not in needs.one_hot_reads]
    fresh = [f for f in fresh if len(f.values) <= ONE_HOT_LIMIT]
    begun = any(f.key[0] in needs.one_hot_reads for f in failure.leaves)
    if len(fresh) < 2 and not (fresh and (failure.too_many or begun)):
        return None
    if len(fresh) >= 2:
        # the smallest first: a count one-hot often lets one MLP step along the other
        # number (thresholds that move with the count), far cheaper than both one-hot
        fresh = [min(fresh, key=lambda f: len(f.values))]
    for f in fresh:
        needs = needs.with_view(f.key[0], View.ONE_HOT)
    needs = replace(needs, one_hot_reads=needs.one_hot_reads | {f.key[0] for f in fresh})
    shown = ", ".join(context.names[f.key[0]] for f in fresh)
    return needs.with_note(
        f"{name}: one MLP cannot combine {shown} exactly as they come from attention, so "
        "they are stored one-hot first (one more MLP step)"
    )


def decode_first(context: PlanContext, needs: Needs, built: Round) -> Needs | None:
    """Needs in which every count that an MLP combines with another count straight from
    attention is decoded to a number first, by an MLP of its own (None: there is none).

    A count head writes ``B / (B + w)``; neighbouring counts differ there by about
    ``B / (B + w)^2``, and float32 rounds the weight by a share of that gap. Decoded one
    at a time, each count's rounding stays within its own gap; read together by one MLP,
    the two roundings add, and past some length no threshold separates them."""
    found: set[int] = set()
    for _, reads in built.mlps:
        raw = [f.key[0] for f in reads if f.key[1] is View.COUNT_WEIGHT]
        if len(raw) >= 2:
            found |= set(raw)
    found -= needs.one_hot_reads
    if not found:
        return None
    for nid in sorted(found):
        needs = needs.with_view(nid, View.SCALAR)
    needs = replace(needs, one_hot_reads=needs.one_hot_reads | found)
    shown = ", ".join(context.names[n] for n in sorted(found))
    return needs.with_note(
        f"{shown}: each count is decoded to a number by an MLP of its own before another "
        "MLP combines them (one more MLP step), so that float32's rounding of each count's "
        "attention weight stays within its own gap instead of adding up"
    )


# ---------------------------------------------------------------- hoisting


def hoist(context: PlanContext, needs: Needs, built: Round) -> Needs | None:
    """Needs that store sub-expressions whose inputs are ready a layer before the MLP
    that needs them (None: there are none)."""
    blocks = assign_blocks(built.heads, built.mlps)
    heads_out = {h.output.key for h in built.heads}
    before = needs
    for out, reads in built.mlps:
        node = context.nodes[out.key[0]]
        if out.key in needs.via or isinstance(node, ATTENTION) or len(reads) < 2:
            continue
        ready = {f.key[0]: mlp_ready(f, blocks, heads_out) for f in reads}
        latest = max(ready.values())
        late = {nid for nid, r in ready.items() if r == latest}
        for cand in _hoistable(needs, node, late):
            needs = needs.with_view(cand.id, _hoist_view(context, cand)).with_note(
                f"{context.names[cand.id]} is stored by an earlier MLP, as its inputs are "
                f"ready before {context.names[node.id]}'s last input"
            )
    return None if needs is before else needs


def _hoistable(needs: Needs, node: SOp, late: set[int]) -> list[SOp]:
    """Sub-expressions of ``node`` over two or more stored s-ops, none of them late,
    that feed an expression over a late one."""
    leafsets: dict[int, frozenset[int]] = {}
    parents: dict[int, list[SOp]] = {}
    by_id: dict[int, SOp] = {}

    def leafset(n: SOp) -> frozenset[int]:
        if n.id not in leafsets:
            by_id[n.id] = n
            if isinstance(n, Constant):
                leafsets[n.id] = frozenset()
            elif n is not node and stored(needs, n):
                leafsets[n.id] = frozenset({n.id})
            else:
                kids = _inputs(n)
                for c in kids:
                    parents.setdefault(c.id, []).append(n)
                leafsets[n.id] = frozenset().union(*(leafset(c) for c in kids))
        return leafsets[n.id]

    leafset(node)
    found = []
    for nid, ls in leafsets.items():
        n = by_id[nid]
        if n is node or isinstance(n, Constant) or stored(needs, n) or ls & late:
            continue
        if len(ls) >= 2 and any(leafsets[p.id] & late for p in parents.get(nid, [])):
            found.append(n)
    return found


def _unstored_part(needs: Needs, node: SOp) -> SOp | None:
    """A map or zipmap among ``node``'s inputs that it does not read whole (fused into
    it, or looked through)."""
    for kid in node.children if isinstance(node, Map | ZipMap) else ():
        if isinstance(kid, Map | ZipMap) and kid.id not in needs.read_whole:
            return kid
    return None


def _hoist_view(context: PlanContext, node: SOp) -> View:
    vs = context.values
    if vs.too_many(node):
        return View.SCALAR
    values = vs.union(node)
    numeric = all(is_number(v, bools=True) for v in values)
    # a number of more values than an order is compared one-hot at stays a number: a
    # sum of counts over a wide order's digits, 1,025 directions one-hot at 1,024
    small = len(values) <= max(64, min(2 * vs.max_seq_len + 2, ORDER_DIGITS_ABOVE + 1))
    return View.ONE_HOT if small or not numeric else View.SCALAR


# ---------------------------------------------------------------- refusing


def cannot(failure: Failure) -> str:
    """The blocker for an MLP job no construction computes."""
    out, reads = failure.output, failure.leaves
    names = ", ".join(f.name for f in reads)
    if failure.too_many:
        return (
            f"{out.name}: the MLP computing it would have to be exact on too many input "
            f"combinations of {names} (more than the {DOMAIN_LIMIT:,} an MLP is built and "
            "checked on); compile for a smaller max_seq_len or vocabulary"
        )
    if len(reads) == 1 and reads[0].key[0] == out.key[0] and len(reads[0].coords) > 1:
        return _too_close(out, reads[0])
    return (
        f"{out.name}: no exact one-layer MLP computes it from {names}; split the expression "
        "so that each step combines at most one averaged or counted value with others"
    )


def _too_close(out: Feature, number: Feature) -> str:
    """The one-hot of a stored number failed: name its two closest values."""
    order = np.argsort(number.coords, kind="stable")
    gaps = np.diff(np.asarray(number.coords)[order])
    k = int(gaps.argmin())
    a, b = number.values[order[k]], number.values[order[k + 1]]
    if gaps[k] > 1e-9 * max(1.0, float(np.abs(number.coords).max())):
        return f"{out.name}: stored as a number, it cannot be one-hot exactly by one MLP"
    return (
        f"{out.name}: stored as a number, it cannot be one-hot exactly: {a!r} and {b!r} are "
        f"{float(gaps[k]):.1e} apart; round its values (for example round(x, 6)) so that values "
        "meant to be equal are equal"
    )


def read_beside_maps(context: PlanContext, needs: Needs) -> Needs:
    """Needs in which a zipmap of a number ``x`` and a copy of a map of it (a low digit
    beside its high one, :mod:`.digits`) reads both stored and whole, and every map
    between them is stored too. The zipmap's MLP is then exact on the map's graph
    alone (:func:`~.domains.derived_leaves`), not on every pair of values."""
    for node in context.order:
        if not isinstance(node, ZipMap) or len(node.inputs) != 2:
            continue
        x, m = node.inputs
        chain = []
        while isinstance(m, Map) and m is not x:
            chain.append(m)
            m = m.inner
        if m is not x or not any(step.f is exact_copy for step in chain):
            continue  # only the digits' chain (digits.py): a number, its cut and copy
        if not stored(needs, x):
            needs = needs.with_view(x.id, View.SCALAR)
        for step in chain:  # one-hot: the zipmap's thresholds move by its values
            needs = needs.with_view(step.id, View.ONE_HOT)
        whole = {x.id, *(step.id for step in chain)}
        needs = replace(needs, read_whole=needs.read_whole | whole)
    for node in context.order:  # a copy reads what it copies, one-hot (a low digit's cut)
        if isinstance(node, Map) and node.f is exact_copy:
            if not stored(needs, node.inner):
                needs = needs.with_view(node.inner.id, View.ONE_HOT)
            needs = replace(needs, read_whole=needs.read_whole | {node.inner.id})
    return needs
