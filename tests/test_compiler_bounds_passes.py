"""Which passes of the bound argument run (compiler/bounds.py): float32 first, float64
only where float32 leaves something open."""

from __future__ import annotations

from dataclasses import replace

from rasplab.compiler import bounds
from rasplab.compiler.driver import compile_with_blueprint
from rasplab.library import get


def _counted(monkeypatch) -> list[bool]:
    passes: list[bool] = []
    run = bounds.propagate

    def counted(model, blueprint, float32, *args, **kwargs):
        passes.append(float32)
        return run(model, blueprint, float32, *args, **kwargs)

    monkeypatch.setattr(bounds, "propagate", counted)
    return passes


def test_a_model_float32_proves_runs_one_pass(monkeypatch):
    entry = get("reverse")
    model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 64)
    passes = _counted(monkeypatch)
    proof = bounds.certificate_by_bounds(model, blueprint, None, 0)
    assert proof.proved and proof.dtype == "float32"
    assert passes == [True]
    assert proof.worst_margin == proof.worst_margin_float32 > 0


def test_a_model_proved_in_float64_only_runs_both(monkeypatch):
    # most_freq at 8 is proved in float64 only: the float32 pass fails, float64 is run
    entry = get("most_freq")
    model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 8)
    passes = _counted(monkeypatch)
    proof = bounds.certificate_by_bounds(model, blueprint, None, 0)
    assert proof.dtype == "float64" and passes == [True, False]
    assert proof.worst_margin is not None and proof.worst_margin_float32 is None


def test_a_rebuilds_float32_pass_is_kept_for_its_float64_pass(monkeypatch):
    # a rebuild's float32 pass fails and float64 waits; asked later (float64_too), only
    # float64 runs, the float32 pass kept with the weights' digest
    entry = get("most_freq")
    model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 8)
    passes = _counted(monkeypatch)
    rebuild = replace(blueprint, float32_first=True)
    first = bounds.certificate_by_bounds(model, rebuild, None, 0)
    assert first.dtype is None and passes == [True]
    later = bounds.certificate_by_bounds(model, replace(rebuild, float64_too=True), None, 0)
    assert later.dtype == "float64" and passes == [True, False]


def test_each_stream_keeps_the_largest_writes_of_its_features(monkeypatch):
    # the largest |value| per direction is kept as features are added; every stream a
    # pass meets gives the magnitude found afresh from all its features
    import pytest

    from rasplab.compiler.bounds_space import Stream

    real, asked = Stream.magnitude, []

    def magnitude(self):
        found = real(self)
        assert self.written is None or (found == real(replace(self, written=None))).all()
        asked.append(self.written is not None)
        return found

    monkeypatch.setattr(Stream, "magnitude", magnitude)
    for name, n in (("sort", 8), ("dyck2", 8), ("most_freq", 6)):
        entry = get(name)
        model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), n)
        bounds.certificate_by_bounds(model, blueprint, None, 0)
    assert asked.count(True) > 10  # kept, not found afresh, in most
    with pytest.raises(AssertionError):  # a kept array that missed features is caught

        def stale(self, new):  # the features added, their writes not
            return replace(self, available=(*self.available, *new), written=self._written())

        monkeypatch.setattr(Stream, "with_features", stale)
        entry = get("sort")
        model, blueprint = compile_with_blueprint(entry.build(), list(entry.vocab), 8)
        bounds.certificate_by_bounds(model, blueprint, None, 0)
