"""The end of the graph: what the network predicts and the loss that trains it."""

from __future__ import annotations

from collections.abc import Mapping

from rnn_builder.graph.nodes.base import (
    OUTPUTS,
    SEQ,
    VEC,
    CheckProblem,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
)

LOSSES = ("cross_entropy", "mse", "binary_cross_entropy")
LOSS_TITLES = {
    "cross_entropy": "Softmax cross-entropy",
    "mse": "Mean squared error",
    "binary_cross_entropy": "Binary cross-entropy",
}


SHORT_LOSS_TITLES = {
    "cross_entropy": "Cross-entropy",
    "mse": "MSE",
    "binary_cross_entropy": "Binary CE",
}


class Output(NodeType):
    op_name = "OutputOp"
    onnx_name = "OUTPUT"
    pytorch_name = "OUTPUT"
    type_name = "output"
    title = "Output"
    category = OUTPUTS
    description = "A prediction, compared with a target by a loss (per step for sequences)."
    inputs = (PortSpec("x", frozenset({SEQ, VEC}), "scores or values, per step or once"),)
    params = (
        ParamSpec(
            "loss",
            "choice",
            "cross_entropy",
            "Loss",
            "cross_entropy: pick one class (give raw scores; softmax is applied inside); mse: "
            "predict numbers; binary_cross_entropy: independent yes/no per unit.",
            choices=LOSSES,
        ),
        ParamSpec(
            "target",
            "str",
            "target",
            "Target",
            "Name of the target this output is compared with in the data.",
        ),
    )

    is_output = True

    def target(self, node: NodeInfo) -> str:
        return node.params["target"]

    def subtitle(self, node: NodeInfo) -> str:
        loss = node.params["loss"]
        return SHORT_LOSS_TITLES.get(loss, loss)

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        return {}

    def is_per_step(self, inputs: Mapping[str, Shape], outputs: Mapping[str, Shape]) -> bool:
        x = inputs.get("x")
        return x is not None and x.kind == SEQ

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        x = inputs.get("x")
        if x is None or x.width is None:
            return []
        if node.params["loss"] == "cross_entropy" and x.width < 2:
            return [
                CheckProblem(
                    "loss_width",
                    f"Output '{node.name}' uses cross-entropy over {x.width} class: it needs "
                    "at least 2 scores (one per class); for a single yes/no unit choose binary "
                    "cross-entropy.",
                    "x",
                )
            ]
        return []
