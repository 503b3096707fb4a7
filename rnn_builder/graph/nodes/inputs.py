"""Where data enters the graph: a sequence (real features or token ids) or one vector."""

from __future__ import annotations

from collections.abc import Mapping

from rnn_builder.graph.nodes.base import (
    INPUTS,
    MAX_STEPS,
    SEQ,
    VEC,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
    seq,
    vec,
)

STEPS = ParamSpec(
    "steps",
    "int",
    8,
    "Steps",
    "Typical sequence length, used to unroll and draw the network; training takes the "
    "lengths from the data.",
    minimum=1,
    maximum=MAX_STEPS,
)


class SequenceInput(NodeType):
    op_name = "SequenceInputOp"
    pytorch_name = "SEQUENCE_INPUT"
    type_name = "sequence_input"
    title = "Sequence input"
    category = INPUTS
    description = "A sequence of feature vectors or of token ids; starts a time axis."
    outputs = (PortSpec("y", frozenset({SEQ}), "one value per time step"),)
    params = (
        ParamSpec(
            "features",
            "int",
            1,
            "Features",
            "Numbers per time step (ignored for token input).",
            minimum=1,
            maximum=100_000,
        ),
        ParamSpec(
            "vocabulary",
            "int",
            0,
            "Vocabulary",
            "0 for real-valued features; otherwise the number of distinct tokens, and each step "
            "is one token id.",
            minimum=0,
            maximum=1_000_000,
        ),
        STEPS,
    )
    starts_axis = True
    is_input = True

    def input_spec(self, node: NodeInfo) -> tuple[str, int, bool]:
        vocabulary = node.params["vocabulary"]
        return ("seq", vocabulary or node.params["features"], bool(vocabulary))

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        vocabulary = node.params["vocabulary"]
        if vocabulary > 0:
            return {"y": seq(vocabulary, vocabulary=vocabulary)}
        return {"y": seq(node.params["features"])}


class VectorInput(NodeType):
    op_name = "VectorInputOp"
    pytorch_name = "VECTOR_INPUT"
    type_name = "vector_input"
    title = "Vector input"
    category = INPUTS
    description = "One feature vector per example, with no time axis."
    outputs = (PortSpec("y", frozenset({VEC}), "one vector"),)
    params = (
        ParamSpec(
            "features",
            "int",
            2,
            "Features",
            "Numbers in the vector.",
            minimum=1,
            maximum=100_000,
        ),
    )

    is_input = True

    def input_spec(self, node: NodeInfo) -> tuple[str, int, bool]:
        return ("vec", node.params["features"], False)

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        return {"y": vec(node.params["features"])}
