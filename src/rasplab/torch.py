"""``rasplab.torch``: compiled models as PyTorch modules (needs the ``torch`` extra).

The short public name for :mod:`rasplab.model.torch`:

>>> from rasplab import select, selector_width, tokens
>>> from rasplab.compiler import compile_program
>>> from rasplab.torch import from_compiled
>>> hist = compile_program(selector_width(select(tokens, tokens, "==")), "ab", 4, verify=0)
>>> from_compiled(hist).run(["abb", "a"])
[[1, 2, 2], [1]]
"""

from .model.torch import from_compiled, require_torch

__all__ = ["from_compiled", "require_torch"]
