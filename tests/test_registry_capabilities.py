"""The registry is where the app learns what a node type is: inputs, outputs and cells are
found by their types' capabilities, a cell's gates, states and equations come from its spec,
and a type that lacks what the app reads is refused when it is registered."""

from __future__ import annotations

import pytest

from rnn_builder.errors import NodeRegistrationError
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.explain import explain_graph, explain_node
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES, LSTMCell, NodeType, Output
from rnn_builder.graph.nodes.base import CellSpec
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.validation import validate

from .test_plugin_cell import MinimalGatedUnit  # a toy cell with a textbook kernel


def _registry_with(*extra) -> NodeRegistry:
    registry = NodeRegistry()
    for node_type in (*BUILTIN_NODE_TYPES, *extra):
        registry.register(node_type)
    return registry


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_inputs_outputs_and_cells_are_found_by_capability(name):
    graph = new_project(name).graph
    kinds = {n.id: n.type_name for n in graph}
    assert {n.id for n in graph.inputs()} == {
        i for i, t in kinds.items() if t in ("sequence_input", "vector_input")
    }
    assert {n.id for n in graph.outputs()} == {i for i, t in kinds.items() if t == "output"}
    assert {n.id for n in graph.cells()} == {
        i for i, t in kinds.items() if t in ("rnn", "lstm", "gru")
    }
    for output in graph.outputs():
        assert graph.output_for(output.params["target"]) is output


def test_a_cells_gate_count_is_the_one_its_weights_have():
    for node_type in default_registry():
        if node_type.cell is None:
            continue
        graph = Graph()
        graph.add_node("sequence_input", node_id="x", params={"features": 3})
        graph.add_node(node_type.type_name, node_id="c", params={"hidden_size": 5})
        graph.connect("x", "y", "c", "x")
        shapes = validate(graph).parameter_shapes["c"]
        assert shapes["weight_hh"] == (node_type.cell.gate_count * 5, 5), node_type.type_name


def test_a_new_cell_type_is_a_cell_to_the_graph_the_checks_and_the_explanations():
    registry = _registry_with(MinimalGatedUnit)
    graph = Graph(registry)
    graph.add_node("sequence_input", node_id="x", params={"features": 3})
    graph.add_node("mgu", node_id="m", params={"hidden_size": 4})
    graph.add_node("last_step", node_id="last")
    graph.add_node("dense", node_id="head", params={"units": 2})
    graph.add_node("output", node_id="out", params={"target": "y"})
    for a, b in (("x", "m"), ("m", "last"), ("last", "head"), ("head", "out")):
        graph.connect(a, "y", b, "x")
    report = validate(graph)
    assert report.ok, report.errors
    assert [n.id for n in graph.cells()] == ["m"]
    assert report.parameter_shapes["m"]["weight_ih"] == (8, 3)  # two gates of 4
    rows = explain_node(graph, report, "m")
    assert rows[0][0].startswith("f_t") and "h_t ∈ ℝ^4" in rows[-1][1]
    assert "stored stacked as weight_ih (8×3)" in rows[-1][1]
    titles = [title for title, _ in explain_graph(graph, report)]
    assert "Sequential compute" in titles
    assert "Vanishing and exploding gradients" not in titles  # gated: it does not fade


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"cell": CellSpec(gates=())}, "its gates and its states"),
        ({"equations": lambda self, params: []}, "without equations"),
        ({"outputs": LSTMCell.outputs[:1]}, "h_n"),
        ({"kernel_name": "", "kernel": lambda self, params: None}, "without a kernel"),
    ],
    ids=["no gates", "no equations", "no final state", "no kernel"],
)
def test_a_cell_type_missing_what_the_app_reads_is_refused(change, words):
    broken = type("Broken", (MinimalGatedUnit,), {"type_name": "broken", **change})
    with pytest.raises(NodeRegistrationError, match=words):
        _registry_with(broken)


def test_an_output_without_a_target_and_an_input_without_data_are_refused():
    no_target = type(
        "NoTarget", (Output,), {"type_name": "no_target", "target": lambda self, n: None}
    )
    with pytest.raises(NodeRegistrationError, match="without a target"):
        _registry_with(no_target)
    no_data = type(
        "NoData",
        (NodeType,),
        {
            "type_name": "no_data",
            "title": "?",
            "category": "Inputs",
            "description": "",
            "is_input": True,
            "op_name": "VectorInputOp",
        },
    )
    with pytest.raises(NodeRegistrationError, match="without an input_spec"):
        _registry_with(no_data)


def test_a_type_nothing_can_run_is_refused():
    idle = type("Idle", (MinimalGatedUnit,), {"type_name": "idle", "op_name": ""})
    with pytest.raises(NodeRegistrationError, match="no operation"):
        _registry_with(idle)


def test_every_built_in_type_has_its_export_forms():
    """A built-in type names its forms (onnx_name, pytorch_name) rather than importing the
    exports; each name must find one. Inputs become the ONNX model's inputs, not nodes."""
    from rnn_builder.export import onnx_forms, pytorch_forms

    for node_type in default_registry():
        form = getattr(onnx_forms, node_type.onnx_name or "-", None)
        assert isinstance(form, onnx_forms.OnnxForm) or node_type.is_input, node_type.type_name
        form = getattr(pytorch_forms, node_type.pytorch_name, None)
        assert isinstance(form, pytorch_forms.PytorchForm), node_type.type_name
        if node_type.cell is not None:
            assert getattr(onnx_forms, node_type.onnx_name).step is not None
            assert getattr(pytorch_forms, node_type.pytorch_name).step is not None
        if node_type.shifts_time:
            assert getattr(onnx_forms, node_type.onnx_name).initial is not None
            assert getattr(pytorch_forms, node_type.pytorch_name).initial is not None
