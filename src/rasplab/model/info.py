"""What a compiled model knows about how it was made: a frozen, JSON-ready record.

The weights say what a model computes; :class:`ModelInfo` says what it was
compiled from, how it was checked, and on which inputs it is exact.

>>> info = ModelInfo(program="reverse", verified=Verified(n_inputs=64, n_exact=64))
>>> ModelInfo.from_json(info.to_json()) == info
True
>>> info.domain.kind
'all'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = [
    "ModelInfo",
    "Verified",
    "InputDomain",
    "Certificate",
    "CERTIFICATE_STATUSES",
    "CERTIFICATE_METHODS",
]

CERTIFICATE_STATUSES = ("proved", "sampled", "failed")
CERTIFICATE_METHODS = ("enumeration", "bounds")


@dataclass(frozen=True)
class Verified:
    """How the model was checked against the evaluator on random inputs."""

    n_inputs: int  # inputs compared (the evaluator accepted them)
    n_exact: int  # of those, inputs where model and evaluator agree
    n_rejected: int = 0  # sampled inputs the evaluator rejected: not compared
    dtype: str = "float32"

    @property
    def exact(self) -> bool:
        """True only when some input was compared and all agreed."""
        return self.n_inputs > 0 and self.n_exact == self.n_inputs


@dataclass(frozen=True)
class InputDomain:
    """The inputs a model is exact on.

    ``kind`` is ``"all"`` (every input over the vocabulary, lengths
    1..max_seq_len) or ``"declared"`` (only the inputs described: the ones a
    sampler draws, or those matching ``pattern``). ``pattern``, when given, is
    a regular expression a whole input must match, its tokens joined with no
    separator (for one-character tokens), so a caller can check an input.
    """

    kind: str = "all"
    description: str = "every input over the vocabulary"
    pattern: str | None = None

    def contains(self, tokens: Sequence[Any]) -> bool | None:
        """Whether ``tokens`` is in the domain; None when that cannot be told."""
        if self.kind == "all":
            return True
        if self.pattern is None or not all(isinstance(t, str) for t in tokens):
            return None
        return re.fullmatch(self.pattern, "".join(tokens)) is not None


@dataclass(frozen=True)
class Certificate:
    """How far the model's exactness on its domain is proved.

    ``"proved"``: every input of the domain (``n_domain`` of them, lengths
    1..max_seq_len, inside the declared pattern if any) was run through the
    model in float64 and float32 and through the evaluator, and all agreed;
    ``n_rejected`` of them the program itself rejects (it has no output to
    match). ``worst_margin`` is the smallest gap, over every output position
    of every input, between the decoded value and the nearest competitor:
    logits for a categorical output, output coordinates for a numerical one
    (``margin_unit``); None when the output has a single value.
    ``method`` says how: ``"enumeration"`` as above, or ``"bounds"``: no input
    was run; the bound propagation of :mod:`rasplab.compiler.bounds` showed from
    the weights that every output of every input of lengths 1..max_seq_len keeps
    its decoding, in float64 (``worst_margin``) and in float32
    (``worst_margin_float32``), every rounding bounded. The float32 pass runs
    first; where it keeps every margin, float64, which rounds less in the same
    argument, keeps them too and is not run: ``worst_margin`` is then float32's,
    a lower bound of float64's.
    ``"sampled"``: not proved; only the random check (``ModelInfo.verified``)
    stands, and ``open`` lists what is not discharged; where the bounds prove the
    model in float64 but not in float32, ``dtype`` is ``"float64"`` and
    ``worst_margin`` is the float64 margin: run it in float64 to be exact. ``weights_sha256`` is the
    digest of the weights the certificate was made for (None in files written
    before it was recorded); loading a file whose weights differ is refused.
    ``"failed"``: an input disagrees (``open`` names it); a compile never
    stores this status, it raises instead.
    """

    status: str
    n_domain: int | None = None  # inputs in the domain; None when not counted
    n_enumerated: int = 0  # inputs compared by enumeration
    n_rejected: int = 0  # enumerated inputs the evaluator rejects
    limit: int = 0  # the most inputs enumeration was allowed
    worst_margin: float | None = None  # float64 forward pass
    worst_margin_float32: float | None = None
    margin_unit: str = "logit"  # "logit" | "coordinate"
    open: tuple[str, ...] = ()  # what is not discharged (sampled) or what failed
    seconds: float | None = None  # time the enumeration (or the bounds) took
    method: str = "enumeration"  # "enumeration" | "bounds"
    weights_sha256: str | None = None  # the weights it was made for (bounds.weights_digest)
    dtype: str | None = None  # the narrowest float type proved exact ("float32": both)

    @property
    def proved(self) -> bool:
        return self.status == "proved"


@dataclass(frozen=True)
class ModelInfo:
    """Facts about a compiled model, stored in its file beside the weights."""

    program: str = "model"  # the program's label
    causal: bool = False  # each position sees only itself and earlier ones
    analysis_layers: int | None = None  # layers the paper's analysis counts
    analysis_heads: tuple[int, ...] = ()  # heads per layer, per the analysis
    attention_layers: int | None = None  # layers whose attention is used
    notes: tuple[str, ...] = ()  # choices the compiler made that a reader should know
    assumptions: tuple[str, ...] = ()  # what the compiler assumed of the inputs
    domain: InputDomain = field(default_factory=InputDomain)
    compile_seconds: float | None = None
    verified: Verified | None = None  # None: not checked against the evaluator
    certificate: Certificate | None = None  # None: not certified (verify=0)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (lists for tuples, dicts for records)."""
        data = asdict(self)
        for key in ("analysis_heads", "notes", "assumptions"):
            data[key] = list(data[key])
        if data["certificate"] is not None:
            data["certificate"]["open"] = list(data["certificate"]["open"])
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelInfo:
        """The record ``to_json`` wrote; ValueError naming the first bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"info must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown info fields {unknown}")
        values = dict(data)
        for key in ("analysis_heads", "notes", "assumptions"):
            if key in values:
                values[key] = tuple(_list(values[key], key))
        if isinstance(values.get("domain"), Mapping):
            values["domain"] = _record(InputDomain, values["domain"], "domain")
        if isinstance(values.get("verified"), Mapping):
            values["verified"] = _record(Verified, values["verified"], "verified")
        if isinstance(values.get("certificate"), Mapping):
            record = dict(values["certificate"])
            record["open"] = tuple(_list(record.get("open", []), "certificate.open"))
            values["certificate"] = _record(Certificate, record, "certificate")
        info = cls(**values)
        _check_types(info)
        return info


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"info field {name!r} must be a list, got {type(value).__name__}")
    return value


def _record(kind: type, data: Mapping[str, Any], name: str) -> Any:
    known = {f.name for f in fields(kind)}
    if not set(data) <= known:
        raise ValueError(f"unknown fields {sorted(set(data) - known)} in info.{name}")
    return kind(**data)


_EXPECTED: dict[str, tuple[type, ...]] = {
    "program": (str,),
    "causal": (bool,),
    "analysis_layers": (int, type(None)),
    "attention_layers": (int, type(None)),
    "compile_seconds": (int, float, type(None)),
    "domain": (InputDomain,),
    "verified": (Verified, type(None)),
    "certificate": (Certificate, type(None)),
}


def _check_types(info: ModelInfo) -> None:
    for name, kinds in _EXPECTED.items():
        value = getattr(info, name)
        if not isinstance(value, kinds):
            raise ValueError(f"info field {name!r} has type {type(value).__name__}")
    if not all(isinstance(h, int) and h >= 0 for h in info.analysis_heads):
        raise ValueError("info field 'analysis_heads' must hold non-negative ints")
    for name in ("notes", "assumptions"):
        if not all(isinstance(s, str) for s in getattr(info, name)):
            raise ValueError(f"info field {name!r} must hold strings")
    v = info.verified
    if v is not None and not (0 <= v.n_exact <= v.n_inputs and v.n_rejected >= 0):
        raise ValueError(f"info field 'verified' is inconsistent: {v}")
    if info.certificate is not None:
        _check_certificate(info.certificate)
    if info.domain.kind not in ("all", "declared"):
        raise ValueError(f"info.domain.kind must be 'all' or 'declared', got {info.domain.kind!r}")
    pattern = info.domain.pattern
    if pattern is not None:  # checked here so that a bad one fails on load, not on every run
        try:
            re.compile(pattern)
        except (re.error, TypeError) as err:
            message = f"info.domain.pattern {pattern!r} is not a regular expression ({err})"
            raise ValueError(message) from None


def _check_certificate(c: Certificate) -> None:
    """A certificate that contradicts itself is refused: "proved" must cover its domain."""
    counts = (c.n_enumerated, c.n_rejected, c.limit)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise ValueError(f"info.certificate counts must be non-negative ints: {c}")
    if c.n_domain is not None and not (isinstance(c.n_domain, int) and c.n_domain >= 0):
        raise ValueError(f"info.certificate.n_domain must be a non-negative int or null: {c}")
    margins = (c.worst_margin, c.worst_margin_float32, c.seconds)
    if not all(m is None or (isinstance(m, (int, float)) and m >= 0) for m in margins):
        raise ValueError(f"info.certificate margins must be non-negative numbers or null: {c}")
    if c.status not in CERTIFICATE_STATUSES or c.margin_unit not in ("logit", "coordinate"):
        raise ValueError(f"info.certificate has status {c.status!r}, unit {c.margin_unit!r}")
    if not all(isinstance(s, str) for s in c.open):
        raise ValueError("info.certificate.open must hold strings")
    if c.method not in CERTIFICATE_METHODS:
        raise ValueError(f"info.certificate.method must be one of {CERTIFICATE_METHODS}: {c}")
    digest = c.weights_sha256
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", str(digest)):
        raise ValueError(f"info.certificate.weights_sha256 must be 64 hex digits or null: {c}")
    if c.dtype not in (None, "float32", "float64") or (c.proved and c.dtype == "float64"):
        raise ValueError(f"info.certificate.dtype must be float32, float64 or null: {c}")
    if c.method == "bounds":
        if c.status == "proved" and c.open:
            raise ValueError(f"info.certificate says proved but lists open items: {c}")
        return
    if c.status == "proved" and not (
        c.n_enumerated > 0 and c.n_enumerated + c.n_rejected == c.n_domain and not c.open
    ):
        raise ValueError(f"info.certificate says proved but does not cover its domain: {c}")
