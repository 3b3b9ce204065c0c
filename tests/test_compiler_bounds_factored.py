"""Heads bounded per group of s-ops (compiler/bounds_factored.py) where a table of every
(query, key) pair would be too large.

Here every head whose scores split is bounded per group (``FACTORED_ABOVE = 0``), at
sizes where the whole table is small enough to compare against: the groups' bound is
never tighter than the table's, a model it proves is exact on every input (run one by
one through the model and the evaluator), and an edited head loses the proof.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_compiler_bounds import SMALL, bounded, mismatches

import rasplab.compiler.bounds as bounds
import rasplab.compiler.bounds_heads as heads
from rasplab import aggregate, indices, select, tokens
from rasplab.compiler.bounds import propagate
from rasplab.compiler.bounds_space import time_budget
from rasplab.compiler.certify import certify
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import get

WHOLE = heads.FACTORED_ABOVE


@pytest.fixture
def spied(monkeypatch):
    """Every head's bound by name, and the heads bounded per group with their groups."""
    found: dict = {"bounds": {}, "groups": {}, "d_head": {}}
    head_bound, factored = heads.head_bound, heads.factored_scores

    def bound(stream, head, limit, memo=None):
        found["bounds"][head.name] = head_bound(stream, head, limit, memo)
        return found["bounds"][head.name]

    def groups(stream, head, parts, *rest):
        found["groups"][head.name] = parts
        found["d_head"][head.name] = head.attn.W_Q.shape[-1]
        return factored(stream, head, parts, *rest)

    monkeypatch.setattr(bounds, "head_bound", bound)
    monkeypatch.setattr(heads, "factored_scores", groups)
    return found


def test_most_freqs_tie_break_splits_into_its_tokens_and_its_positions(spied, monkeypatch):
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    program = get("most_freq").build()
    model, blueprint = compile_with_blueprint(program, list("abc"), 5)
    with time_budget(60):
        propagate(model, blueprint, False)
    names = {n.id: n.label for n in blueprint.layout.nodes.values()}
    split = {
        head: [({names[n] for n in g.queries}, {names[n] for n in g.keys}) for g in parts]
        for head, parts in spied["groups"].items()
    }
    # has_earlier: select(tokens, tokens, "==") & select(indices, indices, "<")
    assert [({"tokens"}, {"tokens"}), ({"indices"}, {"indices"})] in split.values()
    for head, parts in spied["groups"].items():  # each head dimension in one group
        dims = np.concatenate([g.dims for g in parts])
        assert sorted(dims.tolist()) == list(range(spied["d_head"][head]))


def test_the_groups_bound_is_never_tighter_than_the_whole_table(spied, monkeypatch):
    compared = 0
    for name, vocab, n in SMALL:
        model, blueprint = compile_with_blueprint(get(name).build(), list(vocab), n)
        for float32 in (False, True):
            passes = []
            for above in (WHOLE, 0):
                monkeypatch.setattr(heads, "FACTORED_ABOVE", above)
                spied["bounds"].clear()
                spied["groups"].clear()
                with time_budget(60):
                    propagate(model, blueprint, float32)
                passes.append(dict(spied["bounds"]))
            whole, parts = passes
            for head in spied["groups"]:
                assert parts[head].gap <= whole[head].gap + 1e-12, (name, head)
                assert (parts[head].error >= whole[head].error * (1 - 1e-9)).all(), (name, head)
                assert parts[head].open == whole[head].open, (name, head)
                compared += 1
    assert compared >= 20  # a comparison that compared nothing would pass


PROVED_IN_GROUPS = [("double_hist", "abc", 5), ("sort", "abc", 5), ("dyck1", "()", 6)]


@pytest.mark.parametrize(("name", "vocab", "n"), PROVED_IN_GROUPS, ids=lambda x: str(x))
def test_a_model_proved_in_groups_is_exact_on_every_input(name, vocab, n, spied, monkeypatch):
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    program = get(name).build()
    model, _, proof = bounded(program, vocab, n)
    assert spied["groups"], "no head was bounded per group"
    assert proof.proved, proof.open
    compared, wrong = mismatches(model, program)
    assert compared > 0 and wrong == 0


def test_a_select_of_one_opener_is_proved_per_group(spied, monkeypatch):
    # dyck2's matched_opener picks the opener of one level and depth index: keys that
    # agree on both, each tested in its own group, are one position
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    _, _, proof = bounded(get("dyck2").build(), "()[", 5)
    assert "matched_opener" in spied["groups"]
    assert not any("moves one value" in o for o in proof.open), proof.open


def test_a_select_that_may_average_is_still_open_per_group(spied, monkeypatch):
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    picks = select(tokens, tokens, "<") & select(indices, indices, "<")
    _, _, proof = bounded(aggregate(picks, tokens, default="a"), "abc", 4)
    assert spied["groups"]
    assert any("moves one value is not proved" in o for o in proof.open)


def test_an_edited_head_bounded_in_groups_loses_the_proof(spied, monkeypatch):
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    program = get("sort").build()
    model, blueprint, proof = bounded(program, "abc", 5)
    assert proof.proved and spied["groups"]
    name = next(iter(spied["groups"]))
    block = next(b for b, blk in enumerate(model.blocks) if name in blk.attn.names)
    attn = model.blocks[block].attn
    j = attn.names.index(name)
    w_k = attn.W_K.copy()
    w_k[j] = -w_k[j]  # keys it should select now score lowest
    blocks = list(model.blocks)
    blocks[block] = replace(blocks[block], attn=replace(attn, W_K=w_k))
    edited = replace(model, blocks=tuple(blocks))
    broken = certify(edited, program, blueprint=blueprint, method="bounds")
    assert not broken.proved
    assert mismatches(edited, program)[1] > 0  # the edit really breaks the model


def test_a_dimension_of_query_terms_beside_bos_is_shared_by_their_groups(spied, monkeypatch):
    # causal dyck2's opener writes -q^2 for its level's two digits and its depth index in
    # one dimension beside BOS's key: summed over those groups, not joining them
    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    program = get("dyck2").build()
    model, blueprint = compile_with_blueprint(program, list("(){}"), 64, causal=True)
    passes = []
    for above in (WHOLE, 0):
        monkeypatch.setattr(heads, "FACTORED_ABOVE", above)
        with time_budget(60):
            passes.append(propagate(model, blueprint, False))
    parts = spied["groups"]["matched_opener"]
    assert len(parts) == 4  # is an opener; level's high digit; its low digit; depth index
    assert sum(1 for g in parts for _, side, _ in g.shared if side == "q") >= 3
    assert sum(owner for g in parts for *_, owner in g.shared) == len(
        {e for g in parts for e, _, _ in g.shared}
    )  # one owner per shared dimension
    whole, split = passes
    assert whole.open == split.open == ()  # proved in float64 both ways
    assert 0 < split.margin <= whole.margin


def test_groups_too_many_pairs_for_the_time_left_are_refused_at_once(spied, monkeypatch):
    import rasplab.compiler.bounds_space as space

    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    monkeypatch.setattr(space, "PAIRS_PER_SECOND", 1)  # as if each pair took a second
    model, blueprint = compile_with_blueprint(get("sort").build(), list("abc"), 20)
    with time_budget(60):
        found = propagate(model, blueprint, False, limit=20)  # over 320 pairs: timed
    refused = [o for o in found.open if "pairs in its groups" in o]
    assert refused and "--bounds-seconds" in refused[0], found.open


def test_random_programs_proved_in_groups_are_exact_on_every_input(spied, monkeypatch):
    from test_compiler_fuzz import random_letter_program, random_program

    from rasplab.errors import CompileError

    monkeypatch.setattr(heads, "FACTORED_ABOVE", 0)
    proved = in_groups = 0
    cases = [(random_program(s), (0, 1, 2), False) for s in range(80)]
    cases += [(random_letter_program(s), tuple("abc"), s % 5 == 0) for s in range(80)]
    for program, vocab, causal in cases:
        spied["groups"].clear()
        try:
            model, _, proof = bounded(program, vocab, 4, causal)
        except CompileError:
            continue
        if proof.proved and spied["groups"]:
            compared, wrong = mismatches(model, program)
            assert wrong == 0, (program.label, wrong)
            proved += compared > 0  # every input rejected: proved, but nothing compared
        in_groups += bool(spied["groups"])
    assert proved >= 5 and in_groups >= 10, (proved, in_groups)


@pytest.mark.slow
def test_causal_dyck2_at_256_is_proved_in_float32():
    # its opener's table had 135,953 query by 543,812 key combinations (about an hour);
    # per group, its level's digits and its depth index, a second. As first built it is
    # proved in float64; rebuilt with its depth index in digits, in float32
    from rasplab.compiler import compile_program, verify

    entry = get("dyck2")
    model = compile_program(entry.build(), list(entry.vocab), 256, causal=True, sample=entry.sample)
    proof = model.info.certificate
    assert proof.dtype == "float32" and proof.worst_margin_float32 > 0.9, proof.open
    assert any("tested as two digits" in n for n in model.info.notes)
    checked = verify(model, entry.build(), 100, sample=entry.sample, looks_back=True)
    assert checked.exact and checked.n_inputs == 100
