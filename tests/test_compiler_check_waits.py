"""The first model's random check waits for its certificate at long lengths, and bounds
work is found again across the rebuilds of one compile (:mod:`.bounds_kept`)."""

from __future__ import annotations

import numpy as np
import pytest

import rasplab.compiler.bounds_kept as bounds_kept
import rasplab.compiler.driver as driver
from rasplab.compiler import compile_program
from rasplab.library import PROGRAMS


def _compile(name: str, n: int):
    entry = PROGRAMS[name]
    return compile_program(entry.build(), list(entry.vocab), n, verify=40, sample=entry.sample)


def _checked_jobs(monkeypatch) -> list:
    """``driver._verified``, recording the job of every model it checks."""
    real, jobs = driver._verified, []

    def verified(job, *args, **kwargs):
        jobs.append(job)
        return real(job, *args, **kwargs)

    monkeypatch.setattr(driver, "_verified", verified)
    return jobs


def test_a_first_model_a_rebuild_replaces_is_never_checked(monkeypatch) -> None:
    # sort at 16 is proved in float64 only as first built, and rebuilt with its counts
    # decoded (test_compiler_quadratic): waiting, only the rebuild is checked
    plain = _compile("sort", 16)
    monkeypatch.setattr(driver, "CHECK_WAITS_FROM", 16)
    jobs = _checked_jobs(monkeypatch)
    model = _compile("sort", 16)
    assert [job.decode_counts is not None for job in jobs] == [True]
    assert model.info.verified is not None and model.info.verified.n_inputs == 40
    assert model.info.certificate.dtype == "float32"
    # the same model as when the check comes first
    assert model.n_params == plain.n_params and model.info.notes == plain.info.notes
    for name, array in plain.arrays().items():
        assert np.array_equal(array, model.arrays()[name]), name


def test_a_first_model_that_is_kept_is_checked_after_its_certificate(monkeypatch) -> None:
    monkeypatch.setattr(driver, "CHECK_WAITS_FROM", 16)
    jobs = _checked_jobs(monkeypatch)
    model = _compile("reverse", 16)  # proved in float32 as first built
    assert len(jobs) == 1 and model.info.certificate.dtype == "float32"
    assert model.info.verified is not None and model.info.verified.exact


def test_below_the_threshold_or_where_the_domain_is_listed_the_check_comes_first(
    monkeypatch,
) -> None:
    job = driver.make_job(PROGRAMS["sort"].build(), "ab", 95, False, 8, None, 0, None, None)
    model, policy, _ = driver._build(job, [])
    assert not driver._check_waits(job, policy, 20_000)  # 95 < CHECK_WAITS_FROM
    monkeypatch.setattr(driver, "CHECK_WAITS_FROM", 2)
    assert driver._check_waits(job, policy, 20_000)
    short = driver.make_job(PROGRAMS["sort"].build(), "ab", 4, False, 8, None, 0, None, None)
    assert not driver._check_waits(short, policy, 20_000)  # 30 inputs: enumerated
    assert model.info.verified is None  # built, not checked


def test_bounds_kept_across_rebuilds_are_those_computed_again(monkeypatch) -> None:
    # every group's deviation kept (however small), then none: the same certificates
    computed = []
    real = bounds_kept.kept

    def counting(store, what, parts, cells, compute):
        def work():
            computed.append(what)
            return compute()

        return real(store, what, parts, cells, work)

    monkeypatch.setattr("rasplab.compiler.bounds_mlps.kept", counting)
    monkeypatch.setattr(bounds_kept, "KEEP_FROM_CELLS", 0)
    kept = _compile("sort", 16)
    asked = len(computed)
    monkeypatch.setattr(bounds_kept, "KEEP_FROM_CELLS", 10**18)
    computed.clear()
    again = _compile("sort", 16)
    assert 0 < asked < len(computed)  # the rebuild found some groups again
    for a, b in ((kept, again),):
        pa, pb = a.info.certificate, b.info.certificate
        assert (pa.status, pa.dtype, pa.worst_margin, pa.worst_margin_float32) == (
            pb.status,
            pb.dtype,
            pb.worst_margin,
            pb.worst_margin_float32,
        )
        assert a.n_params == b.n_params


def test_a_kept_result_is_found_by_content_and_cannot_be_edited() -> None:
    store: dict = {}
    x = np.arange(12.0).reshape(4, 3)
    first = bounds_kept.kept(store, "w", (x, None, 1.0), 10**9, lambda: x.sum(axis=1))
    again = bounds_kept.kept(store, "w", (x.copy(), None, 1.0), 10**9, lambda: x * 0)
    assert again is first
    other = bounds_kept.kept(store, "w", (x.astype(np.float32), None, 1.0), 10**9, lambda: x)
    assert other is not first  # another dtype is another input
    with pytest.raises(ValueError):
        first[0] = 1.0
    # past KEPT_BYTES, results are computed and not kept
    store[bounds_kept._USED] = bounds_kept.KEPT_BYTES
    late = bounds_kept.kept(store, "w", (x, 2.0), 10**9, lambda: x.sum(axis=0))
    assert bounds_kept.kept(store, "w", (x, 2.0), 10**9, lambda: x).shape == (4, 3)
    assert late.shape == (3,)


def _with_mlp(model, layer: int, change):
    from dataclasses import replace

    mlp = model.blocks[layer].mlp
    w_in = mlp.W_in.copy()
    change(w_in)
    blocks = list(model.blocks)
    blocks[layer] = replace(blocks[layer], mlp=replace(mlp, W_in=w_in))
    return replace(model, blocks=tuple(blocks))


def _with_head(model, layer: int, scale: float):
    from dataclasses import replace

    attn = model.blocks[layer].attn
    blocks = list(model.blocks)
    blocks[layer] = replace(blocks[layer], attn=replace(attn, W_O=attn.W_O * scale))
    return replace(model, blocks=tuple(blocks))


def test_an_edited_model_is_bounded_anew_not_found_again(monkeypatch) -> None:
    # with every deviation kept, certify an edited copy after the model (a warm store):
    # the same certificate as with nothing kept. An edit of an MLP changes its weights;
    # one of a head before it, the errors it reads
    from dataclasses import replace

    from rasplab.compiler.certify import certify
    from rasplab.compiler.driver import compile_with_blueprint

    program = PROGRAMS["sort"].build()
    model, blueprint = compile_with_blueprint(program, "abcd", 12)
    layer = next(i for i, b in enumerate(model.blocks) if b.mlp.d_mlp)  # after its heads

    def nudge(w_in):
        w_in[np.unravel_index(np.abs(w_in).argmax(), w_in.shape)] *= 1.001

    edits = [_with_mlp(model, layer, nudge), _with_head(model, layer, 1.0 + 2**-10)]
    monkeypatch.setattr(bounds_kept, "KEEP_FROM_CELLS", 0)
    certify(model, program, 0, blueprint, method="bounds")  # warms the store
    assert any(k[0] == "bounds kept" for k in blueprint.values.memo if isinstance(k, tuple))
    for edited in edits:
        warm = certify(edited, program, 0, blueprint, method="bounds")
        cold_values = replace(blueprint.values, memo={})
        cold_blueprint = replace(blueprint, values=cold_values, memo={})
        cold = certify(edited, program, 0, cold_blueprint, method="bounds")
        assert (warm.status, warm.dtype, warm.open) == (cold.status, cold.dtype, cold.open)
        assert (warm.worst_margin, warm.worst_margin_float32) == (
            cold.worst_margin,
            cold.worst_margin_float32,
        )


def _passes(monkeypatch) -> list[tuple[str, int]]:
    """Every bounds pass, as (arithmetic, the model's parameters)."""
    import rasplab.compiler.bounds as bounds

    real, found = bounds.propagate, []

    def propagate(model, blueprint, float32, *args):
        found.append(("float32" if float32 else "float64", model.n_params))
        return real(model, blueprint, float32, *args)

    monkeypatch.setattr(bounds, "propagate", propagate)
    return found


@pytest.mark.parametrize("name", ["sort", "most_freq"])
def test_the_float64_pass_of_a_first_model_waits_for_its_rebuilds(monkeypatch, name) -> None:
    # with digits from the first build (as from DIGITS_FROM on), the first model's float64
    # pass waits: sort's rebuild is proved in float32 and it never runs; none of most_freq's
    # is, and it runs after them: the same model and certificate either way
    import rasplab.compiler.job as job_module

    monkeypatch.setattr(job_module, "DIGITS_FROM", 16)
    passes = _passes(monkeypatch)
    first = _compile(name, 16)
    before = list(passes)
    monkeypatch.setattr(driver, "CHECK_WAITS_FROM", 16)
    passes.clear()
    waited = _compile(name, 16)
    size = before[0][1]  # the first model's
    assert before[:2] == [("float32", size), ("float64", size)]
    if name == "sort":
        assert ("float64", size) not in passes and waited.info.certificate.dtype == "float32"
    else:  # its float64 pass once, after every rebuild's float32 pass
        at = passes.index(("float64", size))
        assert at > 1 and passes.count(("float64", size)) == 1
        assert waited.info.certificate.dtype == "float64"
    assert waited.n_params == first.n_params
    a, b = first.info.certificate, waited.info.certificate
    assert (a.status, a.dtype, a.open, a.worst_margin, a.worst_margin_float32) == (
        b.status,
        b.dtype,
        b.open,
        b.worst_margin,
        b.worst_margin_float32,
    )
    reasons = [n for n in waited.info.notes if "after the certificate" in n]
    assert reasons and all("do not prove the model in float32" in n for n in reasons)
