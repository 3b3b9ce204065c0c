"""A compiled model as a PyTorch ``nn.Module`` (needs the ``torch`` extra).

The module's ``state_dict`` uses TransformerLens names (``embed.W_E``,
``blocks.0.attn.W_Q``, ...) and its forward pass matches
:meth:`rasplab.model.CompiledModel.forward` to float rounding.

>>> from rasplab import tokens, select, selector_width
>>> from rasplab.compiler import compile_program
>>> hist = compile_program(selector_width(select(tokens, tokens, "==")), "ab", 4, verify=0)
>>> module = from_compiled(hist)  # doctest: +SKIP
>>> module.run(["abb"])  # doctest: +SKIP
[[1, 2, 2]]
"""

from __future__ import annotations

from typing import Any

from ..errors import RaspError
from .model import CompiledModel

__all__ = ["from_compiled", "require_torch"]


def require_torch() -> Any:
    """The ``torch`` module, or a RaspError naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise RaspError(
            "PyTorch is not installed; install the torch extra: pip install 'rasplab[torch]'"
        ) from None
    return torch


def from_compiled(model: CompiledModel, dtype: Any = None) -> Any:
    """A ``torch.nn.Module`` computing ``model`` (float32 unless ``dtype`` says otherwise).

    Its layers are in :mod:`rasplab.model.torch_layers`.
    """
    torch = require_torch()
    from .torch_layers import Compiled

    return Compiled(model, dtype or torch.float32)
