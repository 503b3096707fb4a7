"""What the generated ``forward`` is written with: :class:`Source` (its lines and the local
variable of every port), and the expressions of the nodes that read the same whole or per step
(Embedding, Dense, Concat) or that feed back (a Delay's start and teacher)."""

from __future__ import annotations

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import ExportError
from rnn_builder.export.torch_names import module_name
from rnn_builder.graph.nodes import SEQ

CELL_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
ACTIVATIONS = {
    "identity": "{}",
    "tanh": "torch.tanh({})",
    "relu": "torch.relu({})",
    "sigmoid": "torch.sigmoid({})",
    "softmax": "torch.softmax({}, dim=-1)",
}
# Names the generated forward uses itself; a node's local variable never takes one of them.
TAKEN = frozenset(
    """one_hot lookup step_mask axis_steps run_sequence last_step mean_over_time start_value
    keep_padded feedback cross_entropy mse binary_cross_entropy LOSSES prediction INPUTS TARGETS
    AXES Model F torch nn Tensor inputs targets lengths steps outputs self t batch losses
    axis_length loop_mask mask_t mask forced teacher dtype""".split()
)


class Source:
    """Lines of ``forward`` and the local variable of every port computed so far."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.graph = executor.graph
        self.report = executor.report
        self.lines: list[str] = []
        self.names: dict[tuple[str, str], str] = {}
        self.used: set[str] = set(TAKEN)
        self.step_refs: dict[tuple[str, str], str] = {}  # inside a loop: one step's value
        self.in_loop = False

    def emit(self, line: str, indent: int = 2) -> None:
        self.lines.append("    " * indent + line if line else "")

    def name(self, node_id: str, port: str) -> str:
        base = module_name(node_id).rstrip("_") or "value"
        candidate = base if port == "y" else f"{base}_{port}"
        while candidate in self.used:
            candidate += "_"
        self.used.add(candidate)
        self.names[(node_id, port)] = candidate
        return candidate

    def shape(self, key: tuple[str, str]):
        return self.report.shapes.outputs[key]

    def tokens(self, key: tuple[str, str]) -> bool:
        return self.shape(key).vocabulary is not None

    def source(self, node_id: str, port: str) -> tuple[str, str] | None:
        edges = self.graph.edges_into(node_id, port)
        return (edges[0].src_node, edges[0].src_port) if edges else None

    def ref(self, key: tuple[str, str]) -> str:
        """The value of a port here: a step's value inside a loop, else the whole value."""
        if key in self.step_refs:
            return self.step_refs[key]
        if self.in_loop and self.shape(key).kind == SEQ:
            return f"{self.names[key]}[t]"
        return self.names[key]

    def floats(self, key: tuple[str, str]) -> str:
        """A port's value as float vectors (token ids one-hot, as our ``ops.dense``)."""
        value = self.ref(key)
        return f"one_hot({value}, {self.shape(key).width}, dtype)" if self.tokens(key) else value

    def shape_text(self, key: tuple[str, str], in_loop: bool = False) -> str:
        shape = self.shape(key)
        if shape.kind == SEQ and not in_loop:
            return "(T, B)  token ids" if self.tokens(key) else f"(T, B, {shape.width})"
        return "(B,)  token ids" if self.tokens(key) else f"(B, {shape.width})"


def expression(src: Source, node, in_loop: bool) -> str:
    kind, ident = node.type_name, node.id
    module = f"self.{module_name(ident)}"
    if kind == "embedding":
        return f"lookup({module}, {src.ref(src.source(ident, 'tokens'))})"
    if kind == "dense":
        inner = f"{module}({src.floats(src.source(ident, 'x'))})"
        return ACTIVATIONS[node.params["activation"]].format(inner)
    if kind == "concat":
        a, b = src.floats(src.source(ident, "a")), src.floats(src.source(ident, "b"))
        return f"torch.cat([{a}, {b}], dim=-1)"
    if not in_loop:
        x_key = src.source(ident, "x")
        source_axis = src.report.port_axes.get(x_key)
        if kind == "last_step":
            return f'last_step({src.floats(x_key)}, lengths.get("{source_axis}"))'
        if kind == "mean_over_time":
            return f'mean_over_time({src.floats(x_key)}, lengths.get("{source_axis}"))'
        if kind == "repeat":
            axis = src.report.node_axes[ident]
            return f'{src.ref(x_key)}.unsqueeze(0).expand(axis_length["{axis}"], -1, -1)'
    raise ExportError(f"node '{node.name}' ({kind}) cannot be exported to PyTorch here")


def start_token(node) -> int | None:
    return node.params["start_token"] if node.params["initial"] == "start_token" else None


def teacher(src: Source, node) -> tuple[str, str] | None:
    """For a Delay tied to an Output: the line deciding teacher forcing, and the target as fed
    back (one-hot classes, or values), as ``Executor._teacher``."""
    output_id = src.executor.feedback_outputs.get(node.id)
    if output_id is None:
        return None
    output = src.graph.node(output_id)
    target = output.params["target"]
    width = src.report.shapes.inputs[(output_id, "x")].width
    if output.params["loss"] == "cross_entropy":
        fed = f'one_hot(targets["{target}"], {width}, dtype)'
    else:
        fed = f'targets["{target}"].to(dtype)'
    return f'forced = self.training and "{target}" in targets', fed
