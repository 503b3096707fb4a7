"""ONNX export, written directly from our graph and weights (no PyTorch in between).

The model computes what ``Executor.forward(batch, train=False)`` predicts, node for node in the
plan the executor runs (``rnn_builder.graph.plan``), each node as its type's ONNX form says
(``onnx_forms``): recurrent cells become ONNX's ``RNN`` / ``LSTM`` / ``GRU`` (gates reordered,
``layout=0``), a step loop through a Delay becomes a ``Loop`` that generates greedily, and
each Output gives its prediction (softmax probabilities, a
sigmoid, or the value).

Inputs and outputs are named after the graph's nodes and laid out like the executor's
``Batch``, time-major with dynamic ``T`` and ``B``:

* ``<sequence input>``: float ``(T, B, d)``, or int64 token ids ``(T, B)`` (``-1``: no token);
* ``<sequence input>_lengths``: int32 ``(B,)``, each sequence's real length (padding after it;
  ``T`` for a sequence that fills the batch's steps). Required, as every input is: an input with
  an initializer's default is optional in ONNX, and ONNX Runtime's ``session.get_inputs()``
  leaves such inputs out, so feeds built from that list, the usual way, would run a padded
  batch as if every sequence were ``T`` long, with no warning.
* ``<vector input>``: float ``(B, d)``;
* ``<repeat or generating delay>_steps``: int64 scalar, the length of that node's time axis;
* ``<output>``: float ``(T, B, k)`` or ``(B, k)``, padded steps included (computed as the
  executor computes them, so whole arrays compare equal).

The model's ``doc_string`` repeats this for the graph at hand.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import ExportError
from rnn_builder.export.onnx_builder import OnnxBuilder
from rnn_builder.export.onnx_forms import emit_node
from rnn_builder.export.onnx_loop import emit_loop
from rnn_builder.export.onnx_nodes import ExportContext
from rnn_builder.graph.plan import plan_for

DEFAULT_OPSET = 17
OPSETS = range(14, 23)  # RNN ops gained ``layout`` at 14; 22 is the newest we test against


def export_onnx(executor: Executor, opset: int = DEFAULT_OPSET, title: str = "") -> onnx.ModelProto:
    """The ONNX model of ``executor``'s graph with its current weights, checked by
    ``onnx.checker.check_model(full_check=True)``. Raises :class:`ExportError` naming the node
    when something cannot be exported."""
    if opset not in OPSETS:
        raise ExportError(
            f"ONNX opset {opset} is not supported: choose one from {OPSETS.start} to "
            f"{OPSETS.stop - 1}"
        )
    graph, report = executor.graph, executor.report
    builder = OnnxBuilder()
    weights = {name: np.asarray(value) for name, value in executor.parameters.items()}
    ctx = ExportContext(builder, graph, report, weights)
    model_inputs, doc = _declare_inputs(ctx)
    _declare_axes(ctx)

    # the input nodes' values are the model's inputs of the same names
    inputs_of_graph = {n.id for n in graph.inputs()}
    values = {(n.id, "y"): n.id for n in graph.inputs()}
    predictions: dict[str, str] = {}
    for segment in plan_for(graph, report):  # the executor's own order, loops as units
        if segment.is_loop:
            emit_loop(ctx, segment.nodes, segment.axis, executor.feedback_outputs, values)
            continue
        node = graph.node(segment.node)
        if node.id in inputs_of_graph:
            continue
        inputs = {
            edge.dst_port: values[(edge.src_node, edge.src_port)]
            for edge in graph.edges_into(node.id)
        }
        for port, value in emit_node(ctx, node, inputs).items():
            values[(node.id, port)] = value
            if port == "prediction":
                predictions[node.id] = value

    model_outputs = []
    for output_id, value in predictions.items():
        builder.scope = output_id
        builder.nodes.append(
            helper.make_node("Identity", [value], [output_id], name=builder.name("Identity"))
        )
        shape = report.shapes.inputs[(output_id, "x")]
        axis = report.node_axes.get(output_id)
        dims = [f"T_{axis}", "B", shape.width] if axis else ["B", shape.width]
        model_outputs.append(helper.make_tensor_value_info(output_id, TensorProto.FLOAT, dims))
        node = graph.node(output_id)
        doc.append(
            f"output {output_id}: float {_dims(dims)}, {_prediction_words(node.params['loss'])}"
            f" (target '{node.params['target']}')"
        )
    _check_names(ctx, [i.name for i in model_inputs] + [o.name for o in model_outputs])
    onnx_graph = helper.make_graph(
        builder.nodes,
        "rnn_builder",
        model_inputs,
        model_outputs,
        initializer=builder.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        producer_name="rnn-builder",
        ir_version=helper.find_min_ir_version_for(opsets),
        doc_string=(f"{title}\n\n" if title else "") + "\n".join(doc),
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(f"the exported model does not pass ONNX's checker: {first}") from None
    return model


def _declare_inputs(ctx: ExportContext) -> tuple[list, list[str]]:
    """Graph inputs for the input nodes (and sequence lengths), with their description."""
    b, inputs = ctx.builder, []
    doc = [
        "Time-major like rnn-builder's Batch: steps first, then the batch; T_* and B are "
        "dynamic. Steps past a sequence's length are padding."
    ]
    for node in ctx.graph.inputs():
        if ctx.graph.node_type(node.id).starts_axis:
            vocabulary = node.params["vocabulary"]
            if vocabulary:
                dims = [f"T_{node.id}", "B"]
                inputs.append(helper.make_tensor_value_info(node.id, TensorProto.INT64, dims))
                doc.append(
                    f"input {node.id}: int64 {_dims(dims)}, token ids 0..{vocabulary - 1} "
                    "(-1: no token)"
                )
            else:
                dims = [f"T_{node.id}", "B", node.params["features"]]
                inputs.append(helper.make_tensor_value_info(node.id, TensorProto.FLOAT, dims))
                doc.append(f"input {node.id}: float {_dims(dims)}, features per step")
            lengths = f"{node.id}_lengths"
            inputs.append(helper.make_tensor_value_info(lengths, TensorProto.INT32, ["B"]))
            doc.append(
                f"input {lengths}: int32 (B), each sequence's real length in steps, padding "
                f"after it (T_{node.id} for a sequence without padding)"
            )
            ctx.sequence_lengths[node.id] = lengths
        else:
            dims = ["B", node.params["features"]]
            inputs.append(helper.make_tensor_value_info(node.id, TensorProto.FLOAT, dims))
            doc.append(f"input {node.id}: float {_dims(dims)}")
    for axis in ctx.report.axes.values():
        if axis.kind != "input":
            name = f"{axis.id}_steps"
            inputs.append(helper.make_tensor_value_info(name, TensorProto.INT64, []))
            doc.append(
                f"input {name}: int64 scalar, steps of the time axis of '{axis.id}' "
                f"(the graph's default: {axis.default_steps})"
            )
    if not inputs:
        raise ExportError("the graph has no inputs, so the exported model could take no data")
    first = inputs[0].name
    b.scope = first
    batch_axis = 1 if ctx.graph.node_type(first).starts_axis else 0  # (T, B, …) or (B, …)
    ctx.batch_size = b.dim(first, batch_axis)
    return inputs, doc


def _declare_axes(ctx: ExportContext) -> None:
    b = ctx.builder
    for axis in ctx.report.axes.values():
        b.scope = axis.id
        if axis.kind == "input":
            ctx.axis_lengths[axis.id] = b.dim(axis.id, 0)
        else:
            steps = f"{axis.id}_steps"
            ctx.axis_lengths[axis.id] = b.op("Reshape", [steps, b.const([1], np.int64)], "steps")


def _check_names(ctx: ExportContext, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            owner = name.rsplit("_", 1)[0]
            raise ExportError(
                f"the ONNX input or output '{name}' would be named twice (a node is called "
                f"'{name}' and '{owner}' makes one of that name too): rename one of them"
            )
        seen.add(name)


def _dims(dims: list) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ")"


def _prediction_words(loss: str) -> str:
    return {
        "cross_entropy": "class probabilities (softmax of the scores)",
        "binary_cross_entropy": "probabilities of yes per unit (sigmoid)",
        "mse": "predicted values",
    }[loss]


def save_onnx(model: onnx.ModelProto, path) -> None:
    """Write ``model`` atomically: the file is whole or not there (or unchanged)."""
    from rnn_builder.files.disk import atomic_write

    atomic_write(path, model.SerializeToString())


__all__ = ["DEFAULT_OPSET", "OPSETS", "export_onnx", "save_onnx"]
