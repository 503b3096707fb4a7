"""What a node type is in the exported ``model.py``: its :class:`PytorchForm`, found through the
registry.

A node type names its form here by ``pytorch_name`` (as ``op_name`` names its operation), or a
plug-in returns its own from ``pytorch_form()``; the exporter asks :func:`form_of` and never
looks at a type's name. A type with no form is refused in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rnn_builder.errors import ExportError
from rnn_builder.export import pytorch_attention
from rnn_builder.export.pytorch_source import Source, python_text, teacher
from rnn_builder.export.torch_names import module_name, torch_tensor_name
from rnn_builder.graph.model import Graph, Node


@dataclass(frozen=True)
class PytorchForm:
    """How one node type is written in ``model.py`` (:class:`Source` holds its lines and the
    local variable of every port; ``src.ref`` / ``src.floats`` read an input's value, whole or,
    inside a feedback loop, one step).

    * ``module(src, node, layered)``: the expression building its submodule ``self.<id>``
      (None: it has none); ``layered`` is false for a cell inside a feedback loop.
    * ``forward(src, node)``: its lines over whole sequences, each output named by
      ``src.name(node.id, port)``. Without it, ``expression`` gives its output ``y``.
    * ``expression(src, node, in_loop)``: the value of its one output ``y`` — whole, or one
      step ``(B, d)`` inside a feedback loop.
    * ``step(src, node, x, states)``: a cell's one step inside a feedback loop, given its input
      ``x`` and its states' variables in the order of its ``CellSpec``: an expression whose
      value unpacks into the new states.
    * ``initial(src, node)``: for a type that shifts time, its value at step 0 (``(B, d)``).
    * ``tensor_name(tensor, layered)``: its tensor's name in the submodule's ``state_dict``.
    * ``helpers``: source text written once into ``model.py`` (functions or classes it uses).
    """

    module: Callable[[Source, Node, bool], str | None] = lambda src, node, layered: None
    forward: Callable[[Source, Node], None] | None = None
    expression: Callable[[Source, Node, bool], str] | None = None
    step: Callable[[Source, Node, str, list[str]], str] | None = None
    initial: Callable[[Source, Node], str] | None = None
    tensor_name: Callable[[str, bool], str] = lambda tensor, layered: tensor
    helpers: str = ""


def _form(node_type) -> PytorchForm | None:
    """A plug-in's own form, or the built-in one its type names; None when it has none."""
    form = node_type.pytorch_form() or globals().get(node_type.pytorch_name or "-")
    return form if isinstance(form, PytorchForm) else None


def form_of(graph: Graph, node: Node) -> PytorchForm:
    """The node's type's PyTorch form; :class:`ExportError` (one line) when it has none."""
    node_type = graph.node_type(node.id)
    form = _form(node_type)
    if form is None:
        raise ExportError(
            f"{graph.describe(node.id)} cannot be exported to PyTorch: its type "
            f"'{node_type.title}' has no PyTorch form yet"
        )
    return form


def torch_spellings(graph: Graph, ours: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each of our tensor names (``<node id>.<tensor>``) as the exported ``state_dict`` may
    hold it, in a whole-sequence module or in a feedback loop, as its type's form names it
    (left out for a type with no form: it was never exported)."""
    spellings = {}
    for name in ours:
        node_id, _, tensor = name.partition(".")
        form = _form(graph.node_type(node_id))
        if form is None:
            continue
        spellings[name] = tuple(
            dict.fromkeys(
                f"{module_name(node_id)}.{form.tensor_name(tensor, layered)}"
                for layered in (True, False)
            )
        )
    return spellings


def write_node(src: Source, node: Node) -> None:
    """One node's lines in whole-sequence mode."""
    form = form_of(src.graph, node)
    if form.forward is not None:
        form.forward(src, node)
        return
    if form.expression is None:
        raise ExportError(f"{src.graph.describe(node.id)} has a PyTorch form that writes nothing")
    value = form.expression(src, node, False)
    out = src.name(node.id, "y")
    src.emit(f"{out} = {value}  # {src.shape_text((node.id, 'y'))}")


def step_expression(src: Source, node: Node) -> str:
    """One step of a node inside a feedback loop (not a cell, not a Delay)."""
    form = form_of(src.graph, node)
    if form.expression is None:
        raise ExportError(
            f"{src.graph.describe(node.id)} cannot be exported to PyTorch inside a feedback loop"
        )
    return form.expression(src, node, True)


# --- inputs and outputs ------------------------------------------------------------------------


def _sequence_input(src: Source, node: Node) -> None:
    out, key = src.name(node.id, "y"), (node.id, "y")
    convert = ".long()" if src.tokens(key) else ""
    src.emit(f'{out} = inputs["{node.id}"]{convert}  # {src.shape_text(key)}')
    src.emit(f'axis_length["{node.id}"] = {out}.shape[0]')


def _vector_input(src: Source, node: Node) -> None:
    out = src.name(node.id, "y")
    src.emit(f'{out} = inputs["{node.id}"]  # {src.shape_text((node.id, "y"))}')


def _output(src: Source, node: Node) -> None:
    ident = node.id
    x_key = src.source(ident, "x")
    value = src.floats(x_key)
    target = python_text(node.params["target"])
    axis = src.report.node_axes.get(ident)
    src.emit(f'outputs["{ident}"] = {value}  # scores {src.shape_text(x_key)}')
    src.emit(f"if {target} in targets:")
    mask = "None"
    if axis:
        src.emit(f'mask = step_mask(lengths.get("{axis}"), axis_length["{axis}"])', 3)
        mask = "mask"
    src.emit(f"losses.append({node.params['loss']}({value}, targets[{target}], {mask}))", 3)


SEQUENCE_INPUT = PytorchForm(forward=_sequence_input)
VECTOR_INPUT = PytorchForm(forward=_vector_input)
OUTPUT = PytorchForm(forward=_output)


# --- layers --------------------------------------------------------------------------------------

ACTIVATIONS = {
    "identity": "{}",
    "tanh": "torch.tanh({})",
    "relu": "torch.relu({})",
    "sigmoid": "torch.sigmoid({})",
    "softmax": "torch.softmax({}, dim=-1)",
}


def _self(node: Node) -> str:
    return f"self.{module_name(node.id)}"


def _width(src: Source, node: Node, port: str = "x") -> int:
    return src.report.shapes.inputs[(node.id, port)].width


EMBEDDING = PytorchForm(
    module=lambda src, node, layered: (
        f"nn.Embedding({node.params['vocabulary']}, {node.params['dimension']})"
    ),
    expression=lambda src, node, in_loop: (
        f"lookup({_self(node)}, {src.ref(src.source(node.id, 'tokens'))})"
    ),
)
DENSE = PytorchForm(
    module=lambda src, node, layered: f"nn.Linear({_width(src, node)}, {node.params['units']})",
    expression=lambda src, node, in_loop: ACTIVATIONS[node.params["activation"]].format(
        f"{_self(node)}({src.floats(src.source(node.id, 'x'))})"
    ),
)
CONCAT = PytorchForm(
    expression=lambda src, node, in_loop: (
        f"torch.cat([{src.floats(src.source(node.id, 'a'))}, "
        f"{src.floats(src.source(node.id, 'b'))}], dim=-1)"
    )
)


# --- time ----------------------------------------------------------------------------------------


def _whole_only(write: Callable[[Source, Node, tuple[str, str]], str]):
    """An expression over whole sequences only (a reducer or a Repeat never runs per step)."""

    def expression(src: Source, node: Node, in_loop: bool) -> str:
        if in_loop:
            raise ExportError(f"node '{node.name}' cannot be exported to PyTorch here")
        return write(src, node, src.source(node.id, "x"))

    return expression


def _source_axis(src: Source, key: tuple[str, str]) -> str | None:
    return src.report.port_axes.get(key)


LAST_STEP = PytorchForm(
    expression=_whole_only(
        lambda src, node, x: f'last_step({src.floats(x)}, lengths.get("{_source_axis(src, x)}"))'
    )
)
MEAN_OVER_TIME = PytorchForm(
    expression=_whole_only(
        lambda src, node, x: (
            f'mean_over_time({src.floats(x)}, lengths.get("{_source_axis(src, x)}"))'
        )
    )
)
REPEAT = PytorchForm(
    expression=_whole_only(
        lambda src, node, x: (
            f"{src.ref(x)}.unsqueeze(0).expand("
            f'axis_length["{src.report.node_axes[node.id]}"], -1, -1)'
        )
    )
)


def start_token(node: Node) -> int | None:
    return node.params["start_token"] if node.params["initial"] == "start_token" else None


def _delay_initial(src: Source, node: Node) -> str:
    x = src.source(node.id, "x")
    return (
        f"start_value(batch, {src.shape(x).width}, {start_token(node)}, {src.tokens(x)}, "
        "next(self.parameters()))"
    )


def _delay(src: Source, node: Node) -> None:
    """A Delay over whole sequences: the start value, then the input one step later."""
    ident = node.id
    x = src.source(ident, "x")
    value = src.ref(x)
    forced = teacher(src, node)
    out = src.name(ident, "y")
    if forced:
        src.emit(f"{forced[0]}")
        value = f"({forced[1]} if forced else {value})"
    start, tokens, width = start_token(node), src.tokens(x), src.shape(x).width
    src.emit(
        f"{out} = torch.cat([start_value(batch, {width}, {start}, {tokens}, {value})[None], "
        f"{value}[:-1]])  # {src.shape_text((ident, 'y'))}"
    )


DELAY = PytorchForm(forward=_delay, initial=_delay_initial)


# --- recurrent cells -----------------------------------------------------------------------------


def _cell(torch_class: str) -> PytorchForm:
    """``nn.RNN`` / ``LSTM`` / ``GRU`` over whole sequences, ``…Cell`` in a feedback loop."""

    def module(src: Source, node: Node, layered: bool) -> str:
        hidden = node.params["hidden_size"]
        extra = ""
        if node.params.get("nonlinearity", "tanh") != "tanh":
            extra += f', nonlinearity="{node.params["nonlinearity"]}"'
        if layered:
            if node.params["bidirectional"]:
                extra += ", bidirectional=True"
            return f"nn.{torch_class}({_width(src, node)}, {hidden}{extra})"
        if node.params["bidirectional"]:
            raise ExportError(
                f"cell '{node.name}' is bidirectional inside a feedback loop, which cannot run "
                "step by step in PyTorch: make it one-directional"
            )
        return f"nn.{torch_class}Cell({_width(src, node)}, {hidden}{extra})"

    def forward(src: Source, node: Node) -> None:
        ident = node.id
        states = src.graph.node_type(ident).cell.states
        x = src.floats(src.source(ident, "x"))
        initial = []
        for state in states:
            given = src.source(ident, f"{state}_0")
            initial.append(src.ref(given) if given else "None")
        names = [src.name(ident, p) for p in ("y", *(f"{s}_n" for s in states))]
        axis = src.report.node_axes.get(ident)
        src.emit(
            f'{", ".join(names)} = run_sequence({_self(node)}, {x}, lengths.get("{axis}"), '
            f"{', '.join(initial)})"
        )
        src.emit(
            f"# {ident}: {src.shape_text((ident, 'y'))}, {ident}.h_n: "
            f"{src.shape_text((ident, 'h_n'))}"
        )

    def step(src: Source, node: Node, x: str, states: list[str]) -> str:
        together = states[0] if len(states) == 1 else f"({', '.join(states)})"
        return f"{_self(node)}({x}, {together})"

    return PytorchForm(module=module, forward=forward, step=step, tensor_name=torch_tensor_name)


RNN = _cell("RNN")
LSTM = _cell("LSTM")
GRU = _cell("GRU")


# --- attention -----------------------------------------------------------------------------------

ATTENTION = PytorchForm(
    module=pytorch_attention.module,
    forward=pytorch_attention.forward,
    expression=pytorch_attention.expression,
    helpers=pytorch_attention.helpers(),
)
