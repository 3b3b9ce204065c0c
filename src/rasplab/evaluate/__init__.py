"""The batched, vectorised numpy evaluator."""

from .engine import coerce_input, evaluate, evaluate_batch, topological_order
from .trace import Trace

__all__ = ["evaluate", "evaluate_batch", "Trace", "topological_order", "coerce_input"]
