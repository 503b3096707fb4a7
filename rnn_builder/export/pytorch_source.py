"""What the generated ``forward`` is written with: :class:`Source` (its lines and the local
variable of every port) and a Delay's teacher (the target it is forced to in training); each
node type's own lines come from its form (:mod:`.pytorch_forms`)."""

from __future__ import annotations

from rnn_builder.engine.executor import Executor
from rnn_builder.export.torch_names import module_name
from rnn_builder.graph.nodes import SEQ

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
