"""Attention: at each step of its own axis, a weighted look at every step of a memory sequence
that lives on another axis — the one sanctioned way for a sequence to cross time axes
(DESIGN.md §6; the memory port is ``whole_axis``).

At query step t, for memory steps s = 1…S (an encoder's outputs k_s, and values v_s, by default
the same):

* a score e_ts says how well k_s answers q_t: ``additive`` (Bahdanau et al. 2015,
  vᵀ tanh(W_q q_t + W_k k_s)), ``dot`` (Luong et al. 2015, q_t · k_s), ``general`` (Luong,
  q_t · W k_s);
* the alignment a_t = softmax over the memory's real steps of e_t (padded steps weigh 0);
* the context c_t = Σ_s a_ts v_s, the output at step t.

Weights are named as a PyTorch module of the same maths names them, submodules ``nn.Linear``
without bias: ``query.weight`` (units × query width) and ``key.weight`` (units × memory width)
and ``energy.weight`` (1 × units) for additive, ``key.weight`` (query width × memory width) for
general, none for dot. The alignment is kept per step for the views (``records``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnn_builder.graph.nodes.base import (
    SEQ,
    TIME,
    CheckProblem,
    Equation,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    RecordSpec,
    Shape,
    seq,
)

SCORES = ("additive", "dot", "general")

SCORE_EQUATIONS = {
    "additive": Equation("e_ts = vᵀ tanh(W_q q_t + W_k k_s)", "additive score (Bahdanau)"),
    "dot": Equation("e_ts = q_t · k_s", "dot score (Luong): the query's and key's widths agree"),
    "general": Equation("e_ts = q_t · (W k_s)", "general score (Luong): a learned bilinear map"),
}


class Attention(NodeType):
    op_name = "AttentionOp"
    onnx_name = "ATTENTION"
    pytorch_name = "ATTENTION"
    type_name = "attention"
    title = "Attention"
    category = TIME
    description = (
        "At every step of its query's axis, weighs each step of a memory sequence (an "
        "encoder's y, on another axis) by how well it matches the query, and gives the "
        "weighted sum: the context. A decoder reads the whole input this way, instead of one "
        "vector that must hold it all."
    )
    inputs = (
        PortSpec(
            "query",
            frozenset({SEQ}),
            "what is looked for, one per step (a decoder's y, or its previous state)",
        ),
        PortSpec(
            "memory",
            frozenset({SEQ}),
            "the sequence read whole at every step (an encoder's y), on any time axis",
            whole_axis=True,
        ),
        PortSpec(
            "values",
            frozenset({SEQ}),
            "what is summed, on the memory's axis (optional: the memory itself)",
            required=False,
            whole_axis=True,
        ),
    )
    outputs = (
        PortSpec("context", frozenset({SEQ}), "the weighted sum of the values, per query step"),
    )
    records = (
        RecordSpec(
            "alignment",
            "the weight of every memory step at each query step: (query steps, batch, memory "
            "steps), each row summing to 1 over the memory's real steps",
        ),
    )
    params = (
        ParamSpec(
            "score",
            "choice",
            "additive",
            "Score",
            "How a query and a memory step are compared: additive (Bahdanau), dot or general "
            "(Luong). Dot needs the query and the memory to be equally wide.",
            choices=SCORES,
        ),
        ParamSpec(
            "units",
            "int",
            32,
            "Units",
            "Width of the additive score's hidden layer (unused by dot and general).",
            minimum=1,
            maximum=100_000,
        ),
    )
    has_weights = True

    def subtitle(self, node: NodeInfo) -> str:
        score = node.params["score"]
        units = f" · {node.params['units']} units" if score == "additive" else ""
        return f"Attention · {score}{units}"

    def equations(self, params: Mapping[str, Any]) -> list[Equation]:
        return [
            SCORE_EQUATIONS[params["score"]],
            Equation(
                "a_t = softmax_s(e_t)",
                "the alignment: a weight for every memory step, over its real steps only",
            ),
            Equation("c_t = Σ_s a_ts v_s", "the context: the values weighed by the alignment"),
        ]

    def equation_shapes(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> str:
        def width(port: str) -> str:
            shape = inputs.get(port)
            return "?" if shape is None or shape.width is None else str(shape.width)

        q, k = width("query"), width("memory")
        v = width("values") if "values" in inputs else k
        parts = [f"q_t ∈ ℝ^{q}", f"k_s ∈ ℝ^{k}", f"v_s ∈ ℝ^{v}", "s = 1…S (the memory's steps)"]
        score, units = node.params["score"], node.params["units"]
        if score == "additive":
            parts.append(f"W_q is {units}×{q}, W_k is {units}×{k}, v ∈ ℝ^{units}")
        elif score == "general":
            parts.append(f"W is {q}×{k}")
        parts.append(f"a_t ∈ ℝ^S, c_t ∈ ℝ^{v}")
        return "; ".join(parts)

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        values = inputs.get("values") or inputs.get("memory")
        return {"context": seq(None if values is None else values.width)}

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        query, memory = inputs.get("query"), inputs.get("memory")
        if node.params["score"] != "dot" or query is None or memory is None:
            return []
        if query.width is None or memory.width is None or query.width == memory.width:
            return []
        return [
            CheckProblem(
                "width_mismatch",
                f"Attention '{node.name}' scores by dot product, which needs its query and "
                f"memory equally wide, but the query is {query.width} wide and the memory "
                f"{memory.width}: make them agree, or choose the general or additive score.",
                "memory",
            )
        ]

    def parameter_shapes(self, node, inputs):
        query, memory = inputs.get("query"), inputs.get("memory")
        q = query.width if query is not None and query.width is not None else 0
        k = memory.width if memory is not None and memory.width is not None else 0
        score, units = node.params["score"], node.params["units"]
        if score == "additive":
            return {
                "query.weight": (units, q),
                "key.weight": (units, k),
                "energy.weight": (1, units),
            }
        if score == "general":
            return {"key.weight": (q, k)}
        return {}
