"""Small graph builders used across the tests."""

from __future__ import annotations

from rnn_builder.graph.model import Graph


def wire(graph: Graph, *specs: str) -> None:
    """Connect ``"a.y" -> "b.x"`` for each consecutive pair of ``node.port`` specs."""
    for source, target in zip(specs[::2], specs[1::2], strict=True):
        src, src_port = source.split(".")
        dst, dst_port = target.split(".")
        graph.connect(src, src_port, dst, dst_port)


def many_to_one(cell: str = "lstm", **cell_params) -> Graph:
    """words → cell → h_n → dense → output: the graph of the hand count in the issue."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node(cell, node_id="cell", params={"hidden_size": 4, **cell_params})
    g.add_node("dense", node_id="dense", params={"units": 2})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "cell.x", "cell.h_n", "dense.x", "dense.y", "out.x")
    return g


def tagger(**cell_params) -> Graph:
    """x → rnn → y → dense (per step) → output (per step)."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("rnn", node_id="cell", params={"hidden_size": 4, **cell_params})
    g.add_node("dense", node_id="dense", params={"units": 3})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "cell.x", "cell.y", "dense.x", "dense.y", "out.x")
    return g


def dense_written_wrong(mistake: str):
    """The sentiment template whose scores layer is a plug-in Dense with a mistake in its
    PyTorch form (its kernel is the Dense's own): ``"raises"`` writes a call the module does
    not have, so the exported model fails when it runs; ``"doubles"`` writes twice the value,
    so it disagrees with our executor. The project's registry has the type."""
    from rnn_builder.export.pytorch_forms import DENSE, PytorchForm
    from rnn_builder.files.serialization import project_from_dict, project_to_dict
    from rnn_builder.files.templates import new_project
    from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES
    from rnn_builder.graph.nodes.layers import Dense
    from rnn_builder.graph.registry import NodeRegistry

    def expression(src, node, in_loop: bool) -> str:
        value = DENSE.expression(src, node, in_loop)
        return value.replace("(", ".no_such_method(", 1) if mistake == "raises" else f"2 * {value}"

    class DenseWrittenWrong(Dense):
        type_name = "dense_written_wrong"
        title = "Dense (written wrong)"

        def pytorch_form(self) -> PytorchForm:
            return PytorchForm(module=DENSE.module, expression=expression)

    registry = NodeRegistry()
    for node_type in (*BUILTIN_NODE_TYPES, DenseWrittenWrong):
        registry.register(node_type)
    document = project_to_dict(new_project("many_to_one"))
    for node in document["graph"]["nodes"]:
        if node["type"] == "dense":
            node["type"] = "dense_written_wrong"
    project = project_from_dict(document, registry)
    project.dataset.options["sentences"] = 60
    return project
