"""Nodes that move between time and no time, or along time: last step, mean over time,
repeat, and delay (the only node through which a feedback loop may pass)."""

from __future__ import annotations

from collections.abc import Mapping

from rnn_builder.graph.nodes.base import (
    MAX_STEPS,
    SEQ,
    TIME,
    VEC,
    CheckProblem,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
    seq,
    vec,
)

GENERATION_STEPS = ParamSpec(
    "steps",
    "int",
    5,
    "Steps",
    "Length of the new time axis (for a Delay: only used when it drives a decoder that "
    "generates from its own output).",
    minimum=1,
    maximum=MAX_STEPS,
)


class _Reducer(NodeType):
    category = TIME
    inputs = (PortSpec("x", frozenset({SEQ}), "a sequence"),)
    outputs = (PortSpec("y", frozenset({VEC}), "one vector"),)

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        x = inputs.get("x")
        return {"y": vec(x.width if x is not None else None)}


class LastStep(_Reducer):
    op_name = "LastStepOp"
    onnx_name = "LAST_STEP"
    pytorch_name = "LAST_STEP"
    type_name = "last_step"
    title = "Last step"
    description = "Keeps the value at the last time step of a sequence."
    reduces_time = "last"


class MeanOverTime(_Reducer):
    op_name = "MeanOverTimeOp"
    onnx_name = "MEAN_OVER_TIME"
    pytorch_name = "MEAN_OVER_TIME"
    type_name = "mean_over_time"
    title = "Mean over time"
    description = "Averages a sequence over its time steps (padded steps excluded)."
    reduces_time = "all"


class Repeat(NodeType):
    op_name = "RepeatOp"
    onnx_name = "REPEAT"
    pytorch_name = "REPEAT"
    type_name = "repeat"

    def subtitle(self, node: NodeInfo) -> str:
        return f"Repeat · {node.params['steps']} steps"

    title = "Repeat"
    category = TIME
    description = "Repeats a vector at every step of a new time axis."
    inputs = (PortSpec("x", frozenset({VEC}), "a vector"),)
    outputs = (PortSpec("y", frozenset({SEQ}), "the vector at every step"),)
    params = (GENERATION_STEPS,)
    starts_axis = True

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        x = inputs.get("x")
        return {"y": seq(x.width if x is not None else None)}


class Delay(NodeType):
    op_name = "DelayOp"
    onnx_name = "DELAY"
    pytorch_name = "DELAY"
    type_name = "delay"

    def subtitle(self, node: NodeInfo) -> str:
        p = node.params
        start = f"token {p['start_token']}" if p["initial"] == "start_token" else "zeros"
        return f"Delay · t−1 · starts {start}"

    title = "Delay"
    category = TIME
    description = (
        "Shifts a sequence one step later: step t sees the input of step t-1. Feedback loops "
        "must pass through a Delay."
    )
    inputs = (PortSpec("x", frozenset({SEQ}), "a sequence"),)
    outputs = (PortSpec("y", frozenset({SEQ}), "the input one step later"),)
    params = (
        ParamSpec(
            "initial",
            "choice",
            "zeros",
            "First step",
            "What step 0 sees, having no earlier step: zeros, or the one-hot start token.",
            choices=("zeros", "start_token"),
        ),
        ParamSpec(
            "start_token",
            "int",
            0,
            "Start token",
            "Index of the start token (when the first step is a start token).",
            minimum=0,
            maximum=1_000_000,
        ),
        GENERATION_STEPS,
    )
    shifts_time = True

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        x = inputs.get("x")
        if x is None:
            return {"y": seq(None)}
        return {"y": Shape(SEQ, x.width, x.vocabulary)}

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        x = inputs.get("x")
        if node.params["initial"] != "start_token" or x is None or x.width is None:
            return []
        token = node.params["start_token"]
        if token >= x.width:
            return [
                CheckProblem(
                    "start_token_out_of_range",
                    f"Delay '{node.name}' starts with token {token}, but its input has only "
                    f"{x.width} values (0 to {x.width - 1}): choose a start token in that range.",
                    None,
                )
            ]
        return []
