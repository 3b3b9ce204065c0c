"""Every intermediate result of one evaluation, looked up by node or by label.

>>> from rasplab import tokens, select, selector_width, evaluate
>>> same = select(tokens, tokens, "==").named("same")
>>> hist = selector_width(same).named("hist")
>>> t = evaluate(hist, "aba", trace=True)
>>> t.output, t["hist"], t[same][0]
([2, 1, 2], [2, 1, 2], [True, False, True])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import RaspError
from ..lang.nodes import Node, SOp
from .blocks import BlockSelector
from .memory import DEFAULT_MAX_BYTES, check_fits, selector_output_bytes

__all__ = ["Trace"]


class Trace(Mapping):
    """Mapping ``node -> values`` (s-ops: a list per position; selectors: a boolean matrix).

    Keys may also be given as labels (``"hist"``, ``"map_12"``). Values are
    decoded on access, so tracing a large batch stays cheap.
    """

    def __init__(
        self,
        program: Node,
        order: list[Node],
        values: dict[int, Any],
        row: int,
        xs,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self.program = program
        self.max_bytes = max_bytes
        self.nodes: tuple[Node, ...] = tuple(order)  # children before parents
        self.input: list[Any] = list(xs)
        self._values = values
        self._row = row
        self._by_label: dict[str, Node] = {}
        for node in order:
            self._by_label.setdefault(node.label, node)

    def node(self, key: Node | str) -> Node:
        if isinstance(key, Node):
            if key.id not in self._values:
                raise RaspError(f"{key.label} is not part of the program {self.program.label}")
            return key
        if key in self._by_label:
            return self._by_label[key]
        known = ", ".join(sorted(self._by_label))
        raise RaspError(f"no node labelled {key!r} in this trace; known labels: {known}")

    def __getitem__(self, key: Node | str) -> Any:
        node = self.node(key)
        value = self._values[node.id]
        if isinstance(node, SOp):
            return value.object_table()[value.codes[self._row]].tolist()
        n = len(self.input)
        check_fits(selector_output_bytes([n]), self.max_bytes, f"reading {node.label} from a trace")
        return self._matrix(value).tolist()

    def array(self, key: Node | str) -> np.ndarray:
        """Selector matrix ``[query, key]`` as booleans, or s-op values as an object array."""
        node = self.node(key)
        value = self._values[node.id]
        if isinstance(node, SOp):
            return value.object_table()[value.codes[self._row]]
        return self._matrix(value)

    def _matrix(self, value: Any) -> np.ndarray:
        """One input's ``[query, key]`` booleans (a long input's selector is made on demand)."""
        if isinstance(value, BlockSelector):
            n = len(self.input)
            check_fits(n * n, self.max_bytes, f"a {n} x {n} selector of a trace")
            return value.whole()[self._row]
        return value[self._row]

    @property
    def output(self) -> Any:
        return self[self.program]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Node):
            return key.id in self._values
        return key in self._by_label

    def _repr_html_(self) -> str:
        from ..viz.jupyter import trace_html

        return trace_html(self)

    def __repr__(self) -> str:
        return f"<Trace of {self.program.label} on {self.input!r}: {len(self.nodes)} nodes>"
