"""Explanations in words: a cell's equations with the shapes of this graph, the layout of the
whole network with its classic applications, and the limits of plain RNNs worth knowing.

Plain text (Unicode maths), so that the inspector, the CLI (``explain``) and tests share it.
"""

from __future__ import annotations

from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes.base import Equation
from rnn_builder.graph.registry import default_registry
from rnn_builder.graph.validation import ValidationReport, classify, validate

__all__ = ["LIMITS", "Equation", "cell_equations", "cell_shapes", "explain_graph", "explain_node"]


def cell_equations(type_name: str, params: dict, graph: Graph | None = None) -> list[Equation]:
    """The equations one step of a cell computes (PyTorch's conventions, our gate names), as
    its node type states them."""
    registry = graph.registry if graph is not None else default_registry()
    node_type = registry.get(type_name)
    if node_type.cell is None:
        raise ValueError(f"'{type_name}' is not a recurrent cell")
    return node_type.equations(params)


def cell_shapes(graph: Graph, report: ValidationReport, node_id: str) -> str:
    """The sizes behind a cell's equations in this graph: ``x_t ∈ ℝ^8, h_t ∈ ℝ^32, …``."""
    node = graph.node(node_id)
    hidden = node.params["hidden_size"]
    x = report.shapes.inputs.get((node_id, "x"))
    width = "?" if x is None or x.width is None else str(x.width)
    spec = graph.node_type(node_id).cell
    gates = spec.gate_count
    parts = [f"x_t ∈ ℝ^{width}"] + [f"{state}_t ∈ ℝ^{hidden}" for state in spec.states]
    parts.append(f"each W_i· is {hidden}×{width}, each W_h· is {hidden}×{hidden}")
    if gates > 1:
        parts.append(
            f"stored stacked as weight_ih ({gates * hidden}×{width}) and weight_hh "
            f"({gates * hidden}×{hidden})"
        )
    if node.params.get("bidirectional"):
        parts.append(f"twice (forward and reverse): y_t ∈ ℝ^{2 * hidden}")
    return "; ".join(parts)


LIMITS = {
    "sequential": (
        "Sequential compute",
        "Step t needs step t−1, so the steps of one sequence cannot run in parallel: "
        "training time grows with the length of the sequences.",
    ),
    "vanishing": (
        "Vanishing and exploding gradients",
        "The gradient reaching early steps is multiplied by the recurrent Jacobian once per step "
        "and shrinks (or grows) geometrically: a plain RNN struggles to learn dependencies more "
        "than a few dozen steps long. Watch it in the Gradient flow view. Vanishing is treated "
        "by gated cells (LSTM, GRU), skip connections and an orthogonal initialisation; "
        "exploding by gradient clipping, a smaller learning rate and a smaller recurrent "
        "initialisation. Truncated BPTT treats neither: it limits what can be learned to the "
        "length of a chunk.",
    ),
    "gated_vanishing": (
        "Long spans still fade",
        "Gating mitigates the vanishing gradient; it does not remove it. An LSTM's or GRU's "
        "gradient also fades over long spans unless its gates learn to hold the state (the "
        "adding problem's LSTM shows nine orders of magnitude between its first and last "
        "steps early in training). Watch it in the Gradient flow view.",
    ),
    "bottleneck": (
        "One vector between encoder and decoder",
        "The decoder sees the input only through the encoder's final state: a whole sequence "
        "squeezed into one vector of fixed width, so what it can carry runs out as inputs grow "
        "and quality falls with their length. Attention removes this bottleneck: at each of "
        "its steps the decoder weighs every step of the encoder's output and reads their "
        "weighted sum (Bahdanau et al. 2015).",
    ),
    "bottleneck_removed": (
        "No single-vector bottleneck",
        "The decoder does not depend on one vector alone: at each of its steps it reads every "
        "step of the input through attention, weighted by how well each matches what it looks "
        "for, so long inputs are not squeezed into the encoder's final state. The alignment "
        "shows where it looked. The price is a score for every pair of steps: S·T of them.",
    ),
    "look_ahead": (
        "No look-ahead",
        "A forward cell at step t has seen only steps 0…t: for tagging, where the next words "
        "matter, a bidirectional cell also reads the sequence backwards.",
    ),
    "next_step": (
        "No look-ahead, and none wanted",
        "This network predicts the next step of its own input (a language model): at step t "
        "it must have read only steps 0…t. A bidirectional cell here would read the answer "
        "it is asked to predict: its accuracy would soar in training and mean nothing.",
    ),
}


def explain_graph(
    graph: Graph, report: ValidationReport | None = None, next_step: bool = False
) -> list[tuple[str, str]]:
    """(title, text) paragraphs about the whole network: its layout, then its limits.
    ``next_step``: the data's target is the input one step on (a language model), so advice
    to read ahead would be false (the task says so: ``Task.predicts_next_step``)."""
    report = report if report is not None else validate(graph)
    layout = classify(graph, report)
    if layout is None:
        return [("Not yet a network", "Fix the problems listed to see what this network is.")]
    paragraphs = [(layout.title, layout.explanation)]
    cells = graph.cells()
    if not cells:
        return paragraphs
    paragraphs.append(LIMITS["sequential"])
    if any(graph.node_type(n.id).cell.fades for n in cells):
        paragraphs.append(LIMITS["vanishing"])
    else:
        paragraphs.append(LIMITS["gated_vanishing"])
    if _reads_another_axis_whole(graph, report):
        paragraphs.append(LIMITS["bottleneck_removed"])
    elif layout.key == "many_to_many_unequal":
        paragraphs.append(LIMITS["bottleneck"])
    if next_step:
        paragraphs.append(LIMITS["next_step"])
    elif layout.key in ("many_to_many_equal", "mixed") and not any(
        n.params.get("bidirectional") for n in cells
    ):
        paragraphs.append(LIMITS["look_ahead"])
    return paragraphs


def _reads_another_axis_whole(graph: Graph, report: ValidationReport) -> bool:
    """Whether some node reads a sequence of another axis whole at each of its steps
    (``PortSpec.whole_axis``: an attention's memory)."""
    for edge in graph.edges:
        if edge.dst_port not in graph.node_type(edge.dst_node).whole_axis_ports():
            continue
        source_axis = report.port_axes.get((edge.src_node, edge.src_port))
        if source_axis is not None and source_axis != report.node_axes.get(edge.dst_node):
            return True
    return False


def explain_node(graph: Graph, report: ValidationReport, node_id: str) -> list[tuple[str, str]]:
    """(formula, meaning) rows of what the node's type says one step computes, with a last row
    of the shapes for a cell; [] for a type that states no equations."""
    node, node_type = graph.node(node_id), graph.node_type(node_id)
    rows = [(e.formula, e.meaning) for e in node_type.equations(node.params)]
    if node_type.cell is not None:
        rows.append(("shapes", cell_shapes(graph, report, node_id)))
    elif rows:
        inputs = report.shapes.node_inputs(graph, node_id)
        shapes = node_type.equation_shapes(node.info(), inputs)
        if shapes:
            rows.append(("shapes", shapes))
    return rows
