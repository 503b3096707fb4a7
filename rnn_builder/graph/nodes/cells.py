"""Recurrent cells as graph nodes: Elman RNN, LSTM and GRU, optionally bidirectional.

The numerics live in ``rnn_builder.engine.cells``; here are the ports, parameters and shapes. Shapes
and parameter names follow ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` with one layer and
``batch_first``: a cell of hidden size H with G gate blocks (1, 4, 3) has ``weight_ih (G·H,
input_size)``, ``weight_hh (G·H, H)``, ``bias_ih (G·H)``, ``bias_hh (G·H)``, and the same with
the suffix ``_reverse`` for the backward direction of a bidirectional cell.

Bidirectional cells produce ``y`` of width 2H (forward then reverse at each step) and states
``h_n`` / ``c_n`` of width 2H (forward final state, then reverse final state); ``h_0`` / ``c_0``
are then 2H wide too, forward half first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnn_builder.graph.nodes.base import (
    CELLS,
    SEQ,
    VEC,
    CellSpec,
    CheckProblem,
    Equation,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
    seq,
    vec,
)

HIDDEN_SIZE = ParamSpec(
    "hidden_size",
    "int",
    32,
    "Hidden size",
    "Number of units in the hidden state.",
    minimum=1,
    maximum=8192,
)
BIDIRECTIONAL = ParamSpec(
    "bidirectional",
    "bool",
    False,
    "Bidirectional",
    "Also read the sequence backwards and join both readings at every step (sees the future, "
    "so it cannot generate).",
)
INIT = ParamSpec(
    "init",
    "choice",
    "pytorch",
    "Initialisation",
    "pytorch: uniform in ±1/√H; xavier: Glorot uniform; orthogonal: orthogonal recurrent "
    "weights (helps gradients survive long sequences).",
    choices=("pytorch", "xavier", "orthogonal"),
)

X_PORT = PortSpec("x", frozenset({SEQ}), "input sequence")
Y_PORT = PortSpec("y", frozenset({SEQ}), "hidden state at every step")
H0_PORT = PortSpec(
    "h_0", frozenset({VEC}), "initial hidden state (zeros if unwired)", False, "initial_state"
)
HN_PORT = PortSpec("h_n", frozenset({VEC}), "hidden state after the last step", role="final_state")
C0_PORT = PortSpec(
    "c_0", frozenset({VEC}), "initial cell state (zeros if unwired)", False, "initial_state"
)
CN_PORT = PortSpec("c_n", frozenset({VEC}), "cell state after the last step", role="final_state")


class RecurrentCell(NodeType):
    """Common shape rules of the three cells."""

    op_name = "CellOp"

    category = CELLS
    inputs: tuple[PortSpec, ...] = (X_PORT, H0_PORT)
    outputs: tuple[PortSpec, ...] = (Y_PORT, HN_PORT)
    recurrent = True
    has_weights = True
    cell: CellSpec  # every cell type sets its own

    @property
    def gates(self) -> int:
        return self.cell.gate_count

    # The class in ``engine.cells`` that runs one direction of this cell, built with
    # ``kernel_options(params)``; named rather than imported, as ``op_name`` names the
    # operation, so that node types sit below the engine. A plug-in cell returns its own
    # kernel object from ``kernel`` instead.
    kernel_name: str = ""

    def kernel(self, params: Mapping[str, Any]):
        """A plug-in's kernel object (None: the class ``kernel_name`` names)."""
        return None

    def kernel_options(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of the ``kernel_name`` class for these parameters."""
        return {}

    def subtitle(self, node: NodeInfo) -> str:
        text = f"{self.title} · {node.params['hidden_size']}"
        return text + (" · bidirectional" if node.params["bidirectional"] else "")

    def state_width(self, node: NodeInfo) -> int:
        hidden = node.params["hidden_size"]
        return 2 * hidden if node.params["bidirectional"] else hidden

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        width = self.state_width(node)
        shapes = {"y": seq(width)}
        for port in self.outputs:
            if port.role == "final_state":
                shapes[port.name] = vec(width)
        return shapes

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        problems = []
        width = self.state_width(node)
        for port in self.inputs:
            shape = inputs.get(port.name)
            if port.role != "initial_state" or shape is None or shape.width is None:
                continue
            if shape.kind != VEC:
                continue  # a wrong kind is reported as such; its width says nothing more
            if shape.width != width:
                doubled = (
                    " (twice the hidden size, as it is bidirectional)"
                    if (node.params["bidirectional"])
                    else ""
                )
                problems.append(
                    CheckProblem(
                        "width_mismatch",
                        f"{self.title} '{node.name}' keeps a state of {width} units{doubled}, "
                        f"but its {port.name} receives {shape.label()}: the initial state must "
                        f"be {width} wide (a Dense layer of {width} units can map it).",
                        port.name,
                    )
                )
        return problems

    def directions(self, node: NodeInfo) -> tuple[str, ...]:
        return ("forward", "reverse") if node.params["bidirectional"] else ("",)

    def is_step_local(self, node: NodeInfo) -> bool:
        return not node.params["bidirectional"]

    def parameter_shapes(self, node, inputs):
        x = inputs.get("x")
        d_in = x.width if x is not None and x.width is not None else 0
        hidden = node.params["hidden_size"]
        rows = self.gates * hidden
        shapes = {}
        for suffix in ("", "_reverse") if node.params["bidirectional"] else ("",):
            shapes[f"weight_ih{suffix}"] = (rows, d_in)
            shapes[f"weight_hh{suffix}"] = (rows, hidden)
            shapes[f"bias_ih{suffix}"] = (rows,)
            shapes[f"bias_hh{suffix}"] = (rows,)
        return shapes


class RNNCell(RecurrentCell):
    type_name = "rnn"
    title = "RNN"
    description = "Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)."
    params = (
        HIDDEN_SIZE,
        ParamSpec(
            "nonlinearity",
            "choice",
            "tanh",
            "Nonlinearity",
            "tanh (classic) or relu.",
            choices=("tanh", "relu"),
        ),
        BIDIRECTIONAL,
        INIT,
    )
    cell = CellSpec(gates=("h",), fades=True)

    kernel_name = "ElmanCell"
    onnx_name = "RNN"
    pytorch_name = "RNN"

    def kernel_options(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"nonlinearity": params.get("nonlinearity", "tanh")}

    def equations(self, params: Mapping[str, Any]) -> list[Equation]:
        f = params.get("nonlinearity", "tanh")
        return [
            Equation(
                f"h_t = {f}(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)",
                "the new hidden state mixes this input with the previous state",
            )
        ]


class LSTMCell(RecurrentCell):
    type_name = "lstm"
    title = "LSTM"
    description = "Long short-term memory: gated cell state that carries information far."
    inputs = (X_PORT, H0_PORT, C0_PORT)
    outputs = (Y_PORT, HN_PORT, CN_PORT)
    params = (
        HIDDEN_SIZE,
        BIDIRECTIONAL,
        INIT,
        ParamSpec(
            "forget_bias",
            "float",
            1.0,
            "Forget-gate bias",
            "Added to the forget gate's bias at initialisation; 1 keeps memories by default "
            "(0 is PyTorch's initialisation).",
            minimum=-10.0,
            maximum=10.0,
        ),
    )
    cell = CellSpec(gates=("i", "f", "g", "o"), states=("h", "c"))

    kernel_name = "LSTMCell"
    onnx_name = "LSTM"
    pytorch_name = "LSTM"

    def equations(self, params: Mapping[str, Any]) -> list[Equation]:
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


class GRUCell(RecurrentCell):
    type_name = "gru"
    title = "GRU"
    description = "Gated recurrent unit: an LSTM's gating with a single state."
    params = (HIDDEN_SIZE, BIDIRECTIONAL, INIT)
    cell = CellSpec(gates=("r", "z", "n"))

    kernel_name = "GRUCell"
    onnx_name = "GRU"
    pytorch_name = "GRU"

    def equations(self, params: Mapping[str, Any]) -> list[Equation]:
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
                "n_t = tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_(t−1) + b_hn))",
                "new candidate state. This is PyTorch's GRU: the reset gate multiplies "
                "W_hn·h_(t−1) + b_hn. Cho et al. (2014) and Goodfellow et al. (eq. 10.46) reset "
                "the state first, W_hn·(r_t ⊙ h_(t−1)): another function, so weights of that "
                "form do not carry over",
            ),
            Equation(
                "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1)", "the hidden state: a blend of old and new"
            ),
        ]
