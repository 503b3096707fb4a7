"""Explanations in words: a cell's equations with the shapes of this graph, the layout of the
whole network with its classic applications, and the limits of plain RNNs worth knowing.

Plain text (Unicode maths), so that the inspector, the CLI (``explain``) and tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph
from .layouts import classify
from .validation import ValidationReport, validate

CELL_TYPES = ("rnn", "lstm", "gru")


@dataclass(frozen=True)
class Equation:
    formula: str
    meaning: str


def cell_equations(type_name: str, params: dict) -> list[Equation]:
    """The equations one step of a cell computes (PyTorch's conventions, our gate names)."""
    if type_name == "rnn":
        f = params.get("nonlinearity", "tanh")
        return [
            Equation(
                f"h_t = {f}(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)",
                "the new hidden state mixes this input with the previous state",
            )
        ]
    if type_name == "lstm":
        return [
            Equation(
                "i_t = σ(W_ii·x_t + b_ii + W_hi·h_(t−1) + b_hi)",
                "input gate: how much of the candidate to write",
            ),
            Equation(
                "f_t = σ(W_if·x_t + b_if + W_hf·h_(t−1) + b_hf)",
                "forget gate: how much of the old cell state to keep",
            ),
            Equation("g_t = tanh(W_ig·x_t + b_ig + W_hg·h_(t−1) + b_hg)", "candidate values"),
            Equation(
                "o_t = σ(W_io·x_t + b_io + W_ho·h_(t−1) + b_ho)",
                "output gate: how much of the cell state to show",
            ),
            Equation(
                "c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t",
                "the cell state: an additive path that carries gradient far back",
            ),
            Equation("h_t = o_t ⊙ tanh(c_t)", "the hidden state (the output y_t)"),
        ]
    if type_name == "gru":
        return [
            Equation(
                "r_t = σ(W_ir·x_t + b_ir + W_hr·h_(t−1) + b_hr)",
                "reset gate: how much of the past the candidate sees",
            ),
            Equation(
                "z_t = σ(W_iz·x_t + b_iz + W_hz·h_(t−1) + b_hz)",
                "update gate: keep the old state or take the new",
            ),
            Equation(
                "n_t = tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_(t−1) + b_hn))", "new candidate state"
            ),
            Equation(
                "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1)", "the hidden state: a blend of old and new"
            ),
        ]
    raise ValueError(f"'{type_name}' is not a recurrent cell")


def cell_shapes(graph: Graph, report: ValidationReport, node_id: str) -> str:
    """The sizes behind a cell's equations in this graph: ``x_t ∈ ℝ^8, h_t ∈ ℝ^32, …``."""
    node = graph.node(node_id)
    hidden = node.params["hidden_size"]
    x = report.shapes.inputs.get((node_id, "x"))
    width = "?" if x is None or x.width is None else str(x.width)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[node.type_name]
    parts = [f"x_t ∈ ℝ^{width}", f"h_t ∈ ℝ^{hidden}"]
    if node.type_name == "lstm":
        parts.append(f"c_t ∈ ℝ^{hidden}")
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
        "than a few dozen steps long. Watch it in the Gradient flow view; LSTM and GRU cells, "
        "clipping and shorter sequences help.",
    ),
    "look_ahead": (
        "No look-ahead",
        "A forward cell at step t has seen only steps 0…t: for tagging, where the next words "
        "matter, a bidirectional cell also reads the sequence backwards.",
    ),
}


def explain_graph(graph: Graph, report: ValidationReport | None = None) -> list[tuple[str, str]]:
    """(title, text) paragraphs about the whole network: its layout, then its limits."""
    report = report if report is not None else validate(graph)
    layout = classify(graph, report)
    if layout is None:
        return [("Not yet a network", "Fix the problems listed to see what this network is.")]
    paragraphs = [(layout.title, layout.explanation)]
    cells = [n for n in graph if n.type_name in CELL_TYPES]
    if not cells:
        return paragraphs
    paragraphs.append(LIMITS["sequential"])
    if any(n.type_name == "rnn" for n in cells):
        paragraphs.append(LIMITS["vanishing"])
    if layout.key in ("many_to_many_equal", "mixed") and not any(
        n.params.get("bidirectional") for n in cells
    ):
        paragraphs.append(LIMITS["look_ahead"])
    return paragraphs


def explain_node(graph: Graph, report: ValidationReport, node_id: str) -> list[tuple[str, str]]:
    """(formula, meaning) rows for a cell, with a last row of the shapes; [] for other nodes."""
    node = graph.node(node_id)
    if node.type_name not in CELL_TYPES:
        return []
    rows = [(e.formula, e.meaning) for e in cell_equations(node.type_name, node.params)]
    rows.append(("shapes", cell_shapes(graph, report, node_id)))
    return rows
