"""Compiled transformers: the model, its forward pass and activations, files, torch module.

``rasplab.model.torch`` (which needs the ``torch`` extra) and
``rasplab.model.transformer_lens`` (the ``tl`` extra) are imported only when
used.
"""

from typing import Any

from .activations import Activations, activations
from .io import ModelFileError, OutputPathError, load, save
from .model import BOS_TOKEN, MLP, Attention, Block, CompiledModel, NamedMatrix, Output

__all__ = [
    "CompiledModel",
    "Attention",
    "MLP",
    "Block",
    "Output",
    "NamedMatrix",
    "Activations",
    "activations",
    "BOS_TOKEN",
    "save",
    "load",
    "ModelFileError",
    "OutputPathError",
    "to_transformer_lens",
]


def to_transformer_lens(model: CompiledModel, **options: Any) -> Any:
    """A TransformerLens model computing ``model``; see :mod:`rasplab.model.transformer_lens`."""
    from .transformer_lens import to_transformer_lens as convert

    return convert(model, **options)
