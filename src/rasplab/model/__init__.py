"""Compiled transformers: the model, its numpy forward pass, files, and a PyTorch module.

``rasplab.model.torch`` (which needs the ``torch`` extra) is imported only
when used.
"""

from .io import load, save
from .model import BOS_TOKEN, MLP, Attention, Block, CompiledModel, NamedMatrix, Output

__all__ = [
    "CompiledModel",
    "Attention",
    "MLP",
    "Block",
    "Output",
    "NamedMatrix",
    "BOS_TOKEN",
    "save",
    "load",
]
