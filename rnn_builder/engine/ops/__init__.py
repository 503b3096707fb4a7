"""What each node computes: one operation class per node type, forward and backward.

An operation works on whole sequences at once: ``forward(run, inputs) -> (outputs, cache)``
and ``backward(run, cache, output_grads) -> input_grads``, where sequences are time-major
arrays ``(T, B, d)``, vectors ``(B, d)``, and token ids integer arrays ``(T, B)`` (``-1`` for
"no token", which reads as a zero vector). The same call on a one-step slice ``(1, B, d)`` is how
feedback loops and live stepping run a node step by step, so there is one implementation of
each node's mathematics. Weight gradients are accumulated into the executor's gradient buffer.

One module per family of node types: ``inputs``, ``layers``, ``time``, ``cell``, ``attention``,
``outputs``; what they share is in ``base``. The executor finds a node type's operation here by
its ``op_name``.
"""

from __future__ import annotations

from rnn_builder.engine.ops.attention import AttentionOp
from rnn_builder.engine.ops.base import Op, OpLayout, dense
from rnn_builder.engine.ops.cell import CellOp
from rnn_builder.engine.ops.inputs import SequenceInputOp, VectorInputOp
from rnn_builder.engine.ops.layers import (
    ACTIVATIONS,
    ConcatOp,
    DenseOp,
    EmbeddingOp,
    activate,
    activation_backward,
)
from rnn_builder.engine.ops.outputs import OutputOp
from rnn_builder.engine.ops.time import DelayOp, LastStepOp, MeanOverTimeOp, RepeatOp

__all__ = [
    "ACTIVATIONS",
    "AttentionOp",
    "CellOp",
    "ConcatOp",
    "DelayOp",
    "DenseOp",
    "EmbeddingOp",
    "LastStepOp",
    "MeanOverTimeOp",
    "Op",
    "OpLayout",
    "OutputOp",
    "RepeatOp",
    "SequenceInputOp",
    "VectorInputOp",
    "activate",
    "activation_backward",
    "dense",
]
