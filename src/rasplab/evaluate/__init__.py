"""The batched, vectorised numpy evaluator."""

from .engine import coerce_input, evaluate, evaluate_batch
from .trace import Trace

__all__ = ["evaluate", "evaluate_batch", "Trace", "coerce_input"]
