"""RASP-L sequences: a rasplab s-op plus the numpy type its values have.

np_rasp computes on numpy arrays, so a program's arithmetic follows numpy's
rules: ``~`` on an int is bitwise (``~1 == -2``), on a bool it is ``not``;
``True + True`` is ``True``; ``-`` of a bool is an error; ``x / 2`` is a float.
A :class:`Seq` carries that numpy type (bool, int or float) next to the IR
node, and its operators build maps that apply the numpy operation itself, so
the values agree with np_rasp's to the bit.

>>> from rasplab.compat.raspl import tokens
>>> flags = tokens > 2
>>> flags.dtype, (~flags).dtype, (tokens + flags).dtype
(dtype('bool'), dtype('bool'), dtype('int64'))
>>> (~tokens)([0, 1, 5])
array([-1, -2, -6])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import numpy as np

from ...errors import InputError, RaspTypeError
from ...evaluate import evaluate_batch
from ...lang.nodes import Constant, Map, SOp, ZipMap

__all__ = ["Seq", "run", "Scalar", "numpy_scalar", "as_int", "require_seq", "SCALAR_TYPES"]

Scalar = int | float | bool | np.integer | np.floating | np.bool_
SCALAR_TYPES = (int, float, bool, np.integer, np.floating, np.bool_)
_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def numpy_scalar(value: Any, dtype: np.dtype) -> Any:
    """The numpy scalar np_rasp's own code would hand a function (``np.int64(3)``)."""
    return np.array([value], dtype=dtype)[0]


_INT64 = range(-(2**63), 2**63)


def as_int(value: Any, what: str) -> int:
    """``np.array([value]).astype(int)``: np_rasp's cast of every map result (truncates)."""
    # Ints and bools that fit int64 cast to themselves: skip numpy, which eager calls
    # would otherwise pay at every position; floats and the rest take numpy's rules.
    if isinstance(value, int | np.bool_ | np.signedinteger) and int(value) in _INT64:
        return int(value)
    try:
        with np.errstate(all="ignore"):
            return int(np.array([value]).astype(int)[0])
    except (TypeError, ValueError, OverflowError) as err:
        raise RaspTypeError(f"{what} made {value!r}, which numpy cannot cast to int") from err


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python atom an IR value must be."""
    return value.item() if isinstance(value, np.generic) else value


def require_seq(value: Any, function: str, argument: str) -> Seq:
    """``value`` itself when it is a RASP-L sequence; else an error naming ``function``."""
    if isinstance(value, Seq):
        return value
    hint = ""
    if isinstance(value, np.ndarray | list | tuple):
        hint = (
            "; this builder makes programs only: rasplab.compat.raspl's own functions also "
            "run at once on arrays, or build on `tokens` and run the program, prog(xs)"
        )
    raise RaspTypeError(
        f"{function}() expected a sequence as {argument}: a numpy array or list (runs at "
        "once, as in np_rasp) or a RASP-L sequence (tokens, indices(x), or what "
        f"tok_map/seq_map/aggr/... made), got {value!r} ({type(value).__name__}){hint}"
    )


class _Operators:
    """numpy's operators, one map each (a mixin, so ``Seq`` stays about what a sequence is)."""

    def __add__(self, other: Any) -> Seq:
        return elementwise(np.add, "+", self, other)

    def __radd__(self, other: Any) -> Seq:
        return elementwise(np.add, "+", other, self)

    def __sub__(self, other: Any) -> Seq:
        return elementwise(np.subtract, "-", self, other)

    def __rsub__(self, other: Any) -> Seq:
        return elementwise(np.subtract, "-", other, self)

    def __mul__(self, other: Any) -> Seq:
        return elementwise(np.multiply, "*", self, other)

    def __rmul__(self, other: Any) -> Seq:
        return elementwise(np.multiply, "*", other, self)

    def __truediv__(self, other: Any) -> Seq:
        return elementwise(np.true_divide, "/", self, other)

    def __rtruediv__(self, other: Any) -> Seq:
        return elementwise(np.true_divide, "/", other, self)

    def __floordiv__(self, other: Any) -> Seq:
        return elementwise(np.floor_divide, "//", self, other)

    def __rfloordiv__(self, other: Any) -> Seq:
        return elementwise(np.floor_divide, "//", other, self)

    def __mod__(self, other: Any) -> Seq:
        return elementwise(np.remainder, "%", self, other)

    def __rmod__(self, other: Any) -> Seq:
        return elementwise(np.remainder, "%", other, self)

    def __pow__(self, other: Any) -> Seq:
        return elementwise(np.power, "**", self, other)

    def __rpow__(self, other: Any) -> Seq:
        return elementwise(np.power, "**", other, self)

    def __and__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_and, "&", self, other)

    def __rand__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_and, "&", other, self)

    def __or__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_or, "|", self, other)

    def __ror__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_or, "|", other, self)

    def __xor__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_xor, "^", self, other)

    def __rxor__(self, other: Any) -> Seq:
        return elementwise(np.bitwise_xor, "^", other, self)

    def __eq__(self, other: Any) -> Seq:  # type: ignore[override]
        return elementwise(np.equal, "==", self, other)

    def __ne__(self, other: Any) -> Seq:  # type: ignore[override]
        return elementwise(np.not_equal, "!=", self, other)

    def __lt__(self, other: Any) -> Seq:
        return elementwise(np.less, "<", self, other)

    def __le__(self, other: Any) -> Seq:
        return elementwise(np.less_equal, "<=", self, other)

    def __gt__(self, other: Any) -> Seq:
        return elementwise(np.greater, ">", self, other)

    def __ge__(self, other: Any) -> Seq:
        return elementwise(np.greater_equal, ">=", self, other)

    def __invert__(self) -> Seq:
        return elementwise(np.invert, "~", self)

    def __neg__(self) -> Seq:
        return elementwise(np.negative, "-", self)

    def __pos__(self) -> Seq:
        return elementwise(np.positive, "+", self)

    def __abs__(self) -> Seq:
        return elementwise(np.absolute, "abs", self)


class Seq(_Operators):
    """A RASP-L sequence: ``sop`` (an ordinary rasplab s-op) and the numpy ``dtype`` of its values.

    Calling it runs it: ``seq(xs)`` is np_rasp's array for the input ``xs``.
    Hand ``seq.sop`` to rasplab's ``evaluate``, ``analyse``, drawing and
    ``compile_program``.
    """

    __array_ufunc__ = None  # numpy scalars on the left defer to our reflected operators
    __hash__ = object.__hash__

    def __init__(self, sop: SOp, dtype: Any) -> None:
        self.sop = sop
        self.dtype = np.dtype(dtype)

    def named(self, name: str) -> Seq:
        """The same sequence with a name (shown by analysis and drawings)."""
        return Seq(self.sop.named(name), self.dtype)

    def __call__(self, xs: Any) -> np.ndarray:
        """np_rasp's output array for one input sequence of ints."""
        return self.run_batch([xs])[0]

    def run_batch(self, inputs: Iterable[Any]) -> list[np.ndarray]:
        """One output array per input, evaluated together (faster than one call each)."""
        rows = [_input_row(xs) for xs in inputs]
        outputs = evaluate_batch(self.sop, rows)
        return [np.array(out, dtype=self.dtype) for out in outputs]

    def __repr__(self) -> str:
        return f"<RASP-L {self.dtype.name} sequence {self.sop.label} = {self.sop.describe()}>"

    def _refuse(self, what: str) -> NoReturn:
        raise RaspTypeError(
            f"{what} of the RASP-L sequence {self.sop.label} is not known until it runs; "
            "call it on an input first, e.g. seq([1, 2, 3])"
        )

    def __bool__(self) -> bool:
        self._refuse("the truth value")

    def __len__(self) -> int:
        self._refuse("the length")

    def __iter__(self) -> NoReturn:
        self._refuse("iterating over the values")

    def __getitem__(self, item: Any) -> NoReturn:
        self._refuse(f"the item [{item!r}]")


def _input_row(xs: Any) -> list[int]:
    array = np.asarray(xs)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise InputError(
            f"a RASP-L program runs on a 1-d sequence of ints, got {xs!r} "
            f"(numpy dtype {array.dtype}, {array.ndim} dimensions)"
        )
    return [int(v) for v in array]


def _result_dtype(op: Callable[..., Any], symbol: str, operands: list[Any]) -> np.dtype:
    """What numpy makes of ``op`` on arrays of these types (and Python scalars), or an error."""
    samples = [np.ones(1, dtype=x.dtype) if isinstance(x, Seq) else x for x in operands]
    try:
        with np.errstate(all="ignore"):
            dtype = np.asarray(op(*samples)).dtype
    except TypeError as err:
        shown = ", ".join(x.dtype.name if isinstance(x, Seq) else repr(x) for x in operands)
        raise RaspTypeError(f"operator {symbol!r} on ({shown}): numpy refuses it: {err}") from None
    if dtype.kind not in _KINDS:
        raise RaspTypeError(f"operator {symbol!r} makes numpy {dtype} values; RASP-L has ints")
    return dtype


def elementwise(op: Callable[..., Any], symbol: str, *operands: Any) -> Seq:
    """numpy's ``op`` position by position: a map (one sequence) or a zipmap (several)."""
    for x in operands:
        if not isinstance(x, (Seq, *SCALAR_TYPES)):
            hint = ""
            if isinstance(x, np.ndarray | list | tuple):  # an eager result met a lazy sequence
                hint = "; an array and a RASP-L sequence do not mix: use arrays or sequences"
            raise RaspTypeError(
                f"operator {symbol!r} needs RASP-L sequences or numbers, got {x!r} "
                f"({type(x).__name__}){hint}"
            )
    dtype = _result_dtype(op, symbol, list(operands))
    seqs = [x for x in operands if isinstance(x, Seq)]
    dtypes = [s.dtype for s in seqs]

    def apply(*values: Any) -> Any:
        it = iter(np.array([v], dtype=d) for v, d in zip(values, dtypes, strict=True))
        args = [next(it) if isinstance(x, Seq) else x for x in operands]
        with np.errstate(all="ignore"):  # numpy's int // 0 is 0, with only a warning
            return _plain(np.asarray(op(*args)).astype(dtype)[0])

    apply.__name__ = getattr(op, "__name__", symbol)
    labels = iter(f"{{{i}}}" for i in range(len(seqs)))
    shown = [next(labels) if isinstance(x, Seq) else repr(_plain(x)) for x in operands]
    if len(shown) == 1:
        desc = f"{symbol}({shown[0]})" if symbol.isalpha() else f"{symbol}{shown[0]}"
    else:
        desc = f" {symbol} ".join(shown)
    if len(seqs) == 1:
        return Seq(Map(apply, seqs[0].sop, desc=desc), dtype)
    return Seq(ZipMap(apply, *(s.sop for s in seqs), desc=desc), dtype)


def constant(value: Any, dtype: Any) -> Seq:
    return Seq(Constant(_plain(value)), dtype)


def run(program: Callable[[Seq], Seq], xs: Any) -> np.ndarray:
    """``program(tokens)(xs)``: build a RASP-L program on ``tokens`` and run it on ``xs``.

    >>> from rasplab.compat.raspl import tok_map
    >>> run(lambda x: tok_map(x, lambda t: t * 2), [1, 2, 3])
    array([2, 4, 6])
    """
    from .core import tokens

    out = program(tokens)
    if not isinstance(out, Seq):
        raise RaspTypeError(f"run() expected a program returning a RASP-L sequence, got {out!r}")
    return out(xs)
