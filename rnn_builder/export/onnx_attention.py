"""An Attention node in ONNX, as ``engine.kernels.attention`` computes it, with plain operators
only: ``MatMul`` for the scores and the weighted sum (batch-major, a batched product per
example), ``Add`` and ``Tanh`` for the additive score, ``Where`` to give padded memory steps a
score of −∞ and ``Softmax`` for the alignment. No vendor operator.

Inside a feedback ``Loop`` (the query a decoder's previous state) the node is one step of the
body; what does not change from step to step — the memory's keys, the values turned
batch-major, the memory's mask — is written once, before the Loop, in the outer graph (the body
reads it from there, as ONNX allows).
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from rnn_builder.export.onnx_nodes import ExportContext, as_float
from rnn_builder.graph.model import Node


def emit_attention(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """``query`` (T, B, dq) — or (1, B, dq) in a Loop — against the whole memory (S, B, dk):
    returns the ``context`` (T, B, dv)."""
    b = ctx.builder
    outer = ctx.with_builder(b.parent) if b.parent is not None else ctx
    o = outer.builder
    o.scope = node.id
    score = node.params["score"]
    memory = as_float(outer, inputs["memory"], node.id, "memory")
    values = as_float(outer, inputs["values"], node.id, "values") if "values" in inputs else memory
    keys = o.op("Transpose", [memory], "memory", perm=[1, 0, 2])  # (B, S, dk)
    if score != "dot":
        weight = ctx.param(node.id, "key.weight").T  # (dk, units) or (dk, dq)
        keys = o.op("MatMul", [keys, o.weight(weight, f"{node.id}.key.weight_transposed")], "keys")
    by_batch = o.op("Transpose", [values], "values", perm=[1, 0, 2])  # (B, S, dv)
    real = _real_steps(outer, node, memory)

    query = b.op("Transpose", [as_float(ctx, inputs["query"], node.id, "query")], perm=[1, 0, 2])
    if score == "additive":
        weight = ctx.param(node.id, "query.weight").T  # (dq, units)
        projected = b.op("MatMul", [query, b.weight(weight, f"{node.id}.query.weight_transposed")])
        pairs = b.op("Add", [b.unsqueeze(projected, 2), b.unsqueeze(keys, 1)], "pairs")
        energy = b.weight(ctx.param(node.id, "energy.weight").T, f"{node.id}.energy.weight_t")
        scores = b.squeeze(b.op("MatMul", [b.op("Tanh", [pairs], "hidden"), energy]), 3)
    else:
        keys_t = o.op("Transpose", [keys], "keys", perm=[0, 2, 1])  # (B, ·, S)
        scores = b.op("MatMul", [query, keys_t], "scores")  # (B, T, S)
    alignment = b.op(
        "Softmax",
        [scores if real is None else b.op("Where", [real[0], scores, b.const(-np.inf)], "masked")],
        "alignment",
        axis=-1,
    )
    if real is not None:  # an empty memory weighs nothing (Softmax of only −∞ is NaN)
        alignment = b.op("Where", [real[1], alignment, b.const(0.0)], "alignment")
    context = b.op("MatMul", [alignment, by_batch], "context")
    return {"context": b.op("Transpose", [context], "context", perm=[1, 0, 2])}


def _real_steps(ctx: ExportContext, node: Node, memory: str) -> tuple[str, str] | None:
    """``(B, 1, S)`` bool, true at each memory's real steps, and ``(B, 1, 1)`` bool, true where
    a memory has any (as ``engine.kernels.attention`` gives an empty one no weight anywhere);
    None when its axis has no lengths (every sequence on it fills it)."""
    lengths = ctx.sequence_lengths.get(ctx.source_axis(node.id, "memory"))
    if lengths is None:
        return None
    b = ctx.builder
    steps = b.squeeze(b.dim(memory, 0), 0)
    times = b.op("Range", [b.const(0, np.int64), steps, b.const(1, np.int64)], "times")
    wide = b.op("Cast", [lengths], "lengths", to=TensorProto.INT64)
    real = b.op("Less", [b.unsqueeze(times, 0), b.unsqueeze(wide, 1)], "real")  # (B, S)
    nonempty = b.op("Greater", [wide, b.const(0, np.int64)], "nonempty")  # (B,)
    return b.unsqueeze(real, 1), b.unsqueeze(b.unsqueeze(nonempty, 1), 2)
