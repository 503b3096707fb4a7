"""Layers that act on each step alike: embedding lookup, dense (affine + activation), concat."""

from __future__ import annotations

from collections.abc import Mapping

from rnn_builder.graph.nodes.base import (
    LAYERS,
    SEQ,
    VEC,
    CheckProblem,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
    seq,
)

ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid", "softmax")


class Embedding(NodeType):
    op_name = "EmbeddingOp"
    onnx_name = "EMBEDDING"
    pytorch_name = "EMBEDDING"
    type_name = "embedding"

    def subtitle(self, node: NodeInfo) -> str:
        return f"Embedding · {node.params['vocabulary']}→{node.params['dimension']}"

    title = "Embedding"
    category = LAYERS
    description = "Looks each token id up in a learned table of vectors."
    inputs = (PortSpec("tokens", frozenset({SEQ}), "token ids, one per step"),)
    outputs = (PortSpec("y", frozenset({SEQ}), "one embedding vector per step"),)
    params = (
        ParamSpec(
            "vocabulary",
            "int",
            32,
            "Vocabulary",
            "Number of distinct tokens (rows of the table).",
            minimum=1,
            maximum=1_000_000,
        ),
        ParamSpec(
            "dimension",
            "int",
            16,
            "Dimension",
            "Length of each embedding vector.",
            minimum=1,
            maximum=100_000,
        ),
    )
    has_weights = True

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        return {"y": seq(node.params["dimension"])}

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        tokens = inputs.get("tokens")
        if tokens is None or not tokens.known:
            return []
        if not tokens.is_tokens:
            return [
                CheckProblem(
                    "tokens_required",
                    f"Embedding '{node.name}' receives real-valued features ({tokens.label()}); "
                    "it looks up token ids: give the sequence input a vocabulary, or use a Dense "
                    "layer for real-valued features.",
                    "tokens",
                )
            ]
        if tokens.vocabulary != node.params["vocabulary"]:
            return [
                CheckProblem(
                    "vocabulary_mismatch",
                    f"Embedding '{node.name}' has a vocabulary of {node.params['vocabulary']} "
                    f"but its input has tokens from a vocabulary of {tokens.vocabulary}: set "
                    "both to the same size.",
                    "tokens",
                )
            ]
        return []

    def parameter_shapes(self, node, inputs):
        return {"weight": (node.params["vocabulary"], node.params["dimension"])}


class Dense(NodeType):
    op_name = "DenseOp"
    onnx_name = "DENSE"
    pytorch_name = "DENSE"
    type_name = "dense"

    def subtitle(self, node: NodeInfo) -> str:
        activation = node.params["activation"]
        shown = "" if activation == "identity" else f" · {activation}"
        return f"Dense · {node.params['units']}{shown}"

    title = "Dense"
    category = LAYERS
    description = "An affine map and an activation, applied at every step alike."
    inputs = (PortSpec("x", frozenset({SEQ, VEC}), "a sequence or a vector"),)
    outputs = (PortSpec("y", frozenset({SEQ, VEC}), "same kind as the input, `units` wide"),)
    params = (
        ParamSpec("units", "int", 8, "Units", "Output width.", minimum=1, maximum=100_000),
        ParamSpec(
            "activation",
            "choice",
            "identity",
            "Activation",
            "Applied after the affine map. Leave 'identity' before a cross-entropy output: "
            "the loss applies the softmax itself.",
            choices=ACTIVATIONS,
        ),
    )
    has_weights = True

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        x = inputs.get("x")
        kind = x.kind if x is not None else None
        return {"y": Shape(kind, node.params["units"])}

    def parameter_shapes(self, node, inputs):
        x = inputs.get("x")
        width = x.width if x is not None and x.width is not None else 0
        units = node.params["units"]
        return {"weight": (units, width), "bias": (units,)}


class Concat(NodeType):
    op_name = "ConcatOp"
    onnx_name = "CONCAT"
    pytorch_name = "CONCAT"
    type_name = "concat"
    title = "Concat"
    category = LAYERS
    description = "Joins two sequences (on one time axis) or two vectors side by side."
    inputs = (
        PortSpec("a", frozenset({SEQ, VEC}), "first part"),
        PortSpec("b", frozenset({SEQ, VEC}), "second part, same kind as the first"),
    )
    outputs = (PortSpec("y", frozenset({SEQ, VEC}), "a then b, widths added"),)

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        a, b = inputs.get("a"), inputs.get("b")
        kinds = {s.kind for s in (a, b) if s is not None and s.kind is not None}
        kind = kinds.pop() if len(kinds) == 1 else None
        width = None
        if a is not None and b is not None and a.width is not None and b.width is not None:
            width = a.width + b.width
        return {"y": Shape(kind, width)}

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        a, b = inputs.get("a"), inputs.get("b")
        if a is None or b is None or a.kind is None or b.kind is None or a.kind == b.kind:
            return []
        return [
            CheckProblem(
                "kind_mismatch",
                f"Concat '{node.name}' joins a {_kind_word(a.kind)} with a "
                f"{_kind_word(b.kind)}: both inputs must be sequences or both vectors (use "
                "Repeat to turn a vector into a sequence, or Last step to do the opposite).",
                "b",
            )
        ]


def _kind_word(kind: str) -> str:
    return {SEQ: "sequence", VEC: "vector"}.get(kind, kind)
