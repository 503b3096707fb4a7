"""The source of an exported ``model.py``: our graph as a readable ``nn.Module``.

Every node with weights is a submodule named after it (:mod:`.torch_names`); ``forward`` runs the
nodes in the executor's own order (``Executor.plan``), one or two lines each, with the shapes in
comments. Whole-sequence cells are ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``; a feedback loop through
a Delay is an explicit loop over ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``, teacher forced in
training when the tied target is given, greedy otherwise (as ``Executor._feedback``). The helpers
at the top (``torch_files/model_helpers.py``) carry our conventions: -1 token ids, padded steps
that keep a cell's state, losses over real steps only.

The module's ``forward(inputs, targets=None, lengths=None, steps=None)`` takes what our
``Batch`` holds, time-major, with each axis's sequence lengths instead of its mask.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ExportError
from ..executor import Executor
from ..nodes import SEQ
from .torch_names import check_module_names, module_name

HELPERS = Path(__file__).with_name("torch_files") / "model_helpers.py"
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


def layered_cells(executor: Executor) -> set[str]:
    """Cells that run whole sequences (``nn.LSTM``…), as opposed to those in feedback loops."""
    looped = {n for step in executor.plan() if not isinstance(step, str) for n in step.order}
    return {n.id for n in executor.graph if n.type_name in CELL_MODULES and n.id not in looped}


class _Source:
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


def model_source(executor: Executor, title: str, description: str) -> str:
    """The text of ``model.py`` for ``executor``'s graph (raises :class:`ExportError`)."""
    graph, report = executor.graph, executor.report
    check_module_names(n.id for n in graph)
    src = _Source(executor)
    layered = layered_cells(executor)
    inputs, targets, axes = _interface(executor)

    lines = [f'"""{title}: an RNN Builder project as a PyTorch module.', ""]
    if description:
        lines += [*_wrap(description), ""]
    lines += [
        "Generated by RNN Builder; the weights in weights.safetensors load into Model() with",
        "load_state_dict(strict=True). Time-major like RNN Builder: see Model.forward.",
        '"""',
        "",
    ]
    helpers = HELPERS.read_text(encoding="utf-8")
    head, _, body = helpers.partition("# --- begin helpers ---\n")
    imports = head[head.index("from __future__") :]
    lines.append(imports.rstrip() + "\n")
    lines.append(f"INPUTS = {_literal(inputs)}")
    lines.append(f"TARGETS = {_literal(targets)}")
    lines.append(f"AXES = {_literal(axes)}")
    lines.append(body.rstrip() + "\n\n")

    lines += [
        "class Model(nn.Module):",
        f'    """{title}, node for node as in RNN Builder."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
    ]
    for node in graph:
        declaration = _declaration(src, node, node.id in layered)
        if declaration:
            lines.append(f"        self.{module_name(node.id)} = {declaration}")
    lines.append("")

    src.emit("batch = " + _batch_expression(inputs))
    if report.parameter_shapes:
        src.emit("dtype = next(self.parameters()).dtype  # float32, unless the model was converted")
    else:
        src.emit("dtype = torch.float32")
    src.emit("axis_length: dict[str, int] = {}")
    for axis in report.axes.values():
        if axis.kind != "input":
            tied_names = tuple(t for t in targets if targets[t]["axis"] == axis.id)
            src.emit(
                f'axis_length["{axis.id}"] = axis_steps(steps, targets, "{axis.id}", '
                f"{tied_names!r}, {axis.default_steps})"
            )
    src.emit("outputs: dict[str, Tensor] = {}")
    src.emit("losses: list[Tensor] = []")
    for step in executor.plan():
        if isinstance(step, str):
            _node(src, graph.node(step))
        else:
            _loop(src, step.order, step.axis)
    src.emit("if losses:")
    src.emit('outputs["loss"] = torch.stack(losses).sum()', 3)
    src.emit("return outputs")

    lines += [
        "    def forward(",
        "        self,",
        "        inputs: dict[str, Tensor],",
        "        targets: dict[str, Tensor] | None = None,",
        "        lengths: dict[str, Tensor] | None = None,",
        "        steps: dict[str, int] | None = None,",
        "    ) -> dict[str, Tensor]:",
        *_forward_doc(inputs, targets, axes),
        "        targets = targets or {}",
        "        lengths = lengths or {}",
        "        steps = steps or {}",
        *src.lines,
        "",
        "    @staticmethod",
        "    def predictions(outputs: dict[str, Tensor]) -> dict[str, Tensor]:",
        '        """Scores as RNN Builder shows them: probabilities, or values."""',
        "        return {",
        '            spec["output"]: prediction(outputs[spec["output"]], spec["loss"])',
        "            for spec in TARGETS.values()",
        '            if spec["output"] in outputs',
        "        }",
        "",
    ]
    return "\n".join(lines)


def _interface(executor: Executor) -> tuple[dict, dict, dict]:
    graph, report = executor.graph, executor.report
    inputs, targets, axes = {}, {}, {}
    for node in graph:
        if node.type_name == "sequence_input":
            vocabulary = node.params["vocabulary"]
            kind = "tokens" if vocabulary else "features"
            width = vocabulary or node.params["features"]
            inputs[node.id] = {"kind": kind, "width": width, "axis": node.id}
        elif node.type_name == "vector_input":
            inputs[node.id] = {"kind": "vector", "width": node.params["features"], "axis": None}
        elif node.type_name == "output":
            shape = report.shapes.inputs[(node.id, "x")]
            targets[node.params["target"]] = {
                "output": node.id,
                "loss": node.params["loss"],
                "width": shape.width,
                "axis": report.node_axes.get(node.id),
            }
    for axis in report.axes.values():
        axes[axis.id] = {"kind": axis.kind, "default_steps": axis.default_steps}
    return inputs, targets, axes


def _batch_expression(inputs: dict) -> str:
    for input_id, spec in inputs.items():
        return f'inputs["{input_id}"].shape[{1 if spec["axis"] else 0}]'
    raise ExportError("the graph has no input")


def _declaration(src: _Source, node, layered: bool) -> str | None:
    report = src.report
    if node.type_name == "embedding":
        return f"nn.Embedding({node.params['vocabulary']}, {node.params['dimension']})"
    if node.type_name == "dense":
        width = report.shapes.inputs[(node.id, "x")].width
        return f"nn.Linear({width}, {node.params['units']})"
    if node.type_name not in CELL_MODULES:
        return None
    width = report.shapes.inputs[(node.id, "x")].width
    hidden = node.params["hidden_size"]
    extra = ""
    if node.type_name == "rnn" and node.params.get("nonlinearity", "tanh") != "tanh":
        extra += f', nonlinearity="{node.params["nonlinearity"]}"'
    if layered:
        if node.params["bidirectional"]:
            extra += ", bidirectional=True"
        return f"nn.{CELL_MODULES[node.type_name]}({width}, {hidden}{extra})"
    if node.params["bidirectional"]:
        raise ExportError(
            f"cell '{node.name}' is bidirectional inside a feedback loop, which cannot run step "
            "by step in PyTorch: make it one-directional"
        )
    return f"nn.{CELL_MODULES[node.type_name]}Cell({width}, {hidden}{extra})"


def _node(src: _Source, node) -> None:
    """One node's lines in whole-sequence mode."""
    kind = node.type_name
    ident = node.id
    module = f"self.{module_name(ident)}"
    axis = src.report.node_axes.get(ident)
    if kind == "sequence_input":
        out = src.name(ident, "y")
        key = (ident, "y")
        convert = ".long()" if src.tokens(key) else ""
        src.emit(f'{out} = inputs["{ident}"]{convert}  # {src.shape_text(key)}')
        src.emit(f'axis_length["{ident}"] = {out}.shape[0]')
    elif kind == "vector_input":
        out = src.name(ident, "y")
        src.emit(f'{out} = inputs["{ident}"]  # {src.shape_text((ident, "y"))}')
    elif kind == "output":
        _output(src, node)
    elif kind == "delay":
        x = src.source(ident, "x")
        value = src.ref(x)
        forced = _teacher(src, node)
        out = src.name(ident, "y")
        if forced:
            src.emit(f"{forced[0]}")
            value = f"({forced[1]} if forced else {value})"
        start = _start(node)
        tokens = src.tokens(x)
        width = src.shape(x).width
        src.emit(
            f"{out} = torch.cat([start_value(batch, {width}, {start}, {tokens}, {value})[None], "
            f"{value}[:-1]])  # {src.shape_text((ident, 'y'))}"
        )
    elif kind in CELL_MODULES:
        x = src.floats(src.source(ident, "x"))
        states = []
        for port in ("h_0", "c_0") if kind == "lstm" else ("h_0",):
            state = src.source(ident, port)
            states.append(src.ref(state) if state else "None")
        names = [
            src.name(ident, p) for p in (("y", "h_n", "c_n") if kind == "lstm" else ("y", "h_n"))
        ]
        src.emit(
            f'{", ".join(names)} = run_sequence({module}, {x}, lengths.get("{axis}"), '
            f"{', '.join(states)})"
        )
        src.emit(
            f"# {names[0]}: {src.shape_text((ident, 'y'))}, {names[1]}: "
            f"{src.shape_text((ident, 'h_n'))}"
        )
    else:
        expression = _expression(src, node, in_loop=False)
        out = src.name(ident, "y")
        src.emit(f"{out} = {expression}  # {src.shape_text((ident, 'y'))}")


def _expression(src: _Source, node, in_loop: bool) -> str:
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


def _start(node) -> int | None:
    return node.params["start_token"] if node.params["initial"] == "start_token" else None


def _teacher(src: _Source, node) -> tuple[str, str] | None:
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


def _output(src: _Source, node) -> None:
    ident = node.id
    x_key = src.source(ident, "x")
    value = src.floats(x_key)
    target = node.params["target"]
    axis = src.report.node_axes.get(ident)
    src.emit(f'outputs["{ident}"] = {value}  # scores {src.shape_text(x_key)}')
    src.emit(f'if "{target}" in targets:')
    mask = "None"
    if axis:
        src.emit(f'mask = step_mask(lengths.get("{axis}"), axis_length["{axis}"])', 3)
        mask = "mask"
    src.emit(f'losses.append({node.params["loss"]}({value}, targets["{target}"], {mask}))', 3)


def _loop(src: _Source, order: list[str], axis: str) -> None:
    """A feedback loop, step by step: cells as ``…Cell`` modules, Delays fed back greedily or
    teacher forced."""
    graph = src.graph
    members = set(order)
    src.emit(f"# feedback loop over {', '.join(order)}, one step at a time")
    src.emit(f'loop_mask = step_mask(lengths.get("{axis}"), axis_length["{axis}"])')
    collected: list[tuple[str, str]] = []  # (list name, step name)
    states: dict[str, list[str]] = {}
    teachers: dict[str, str] = {}
    for node_id in order:
        node = graph.node(node_id)
        step_name = src.name(node_id, "t")
        src.step_refs[(node_id, "y")] = step_name
        if node.type_name == "delay":
            forced = _teacher(src, node)
            if forced:
                src.emit(forced[0])
                teachers[node_id] = src.name(node_id, "teacher")
                src.emit(f"{teachers[node_id]} = {forced[1]} if forced else None")
        if node.type_name in CELL_MODULES:
            hidden = node.params["hidden_size"]
            ports = ("h_0", "c_0") if node.type_name == "lstm" else ("h_0",)
            finals = ("h_n", "c_n") if node.type_name == "lstm" else ("h_n",)
            names = []
            for port, final in zip(ports, finals, strict=True):
                state = src.source(node_id, port)
                name = src.name(node_id, final)
                names.append(name)
                initial = (
                    src.ref(state)
                    if state
                    else f"next(self.parameters()).new_zeros(batch, {hidden})"
                )
                src.emit(f"{name} = {initial}")
            states[node_id] = names
        collected.append((src.name(node_id, "steps"), step_name))
    for list_name, _ in collected:
        src.emit(f"{list_name} = []")
    for node_id in order:  # what a Delay feeds back is the previous step's value
        source = src.source(node_id, "x") if graph.node(node_id).type_name == "delay" else None
        if source is not None and source[0] in members:
            src.emit(f"{src.step_refs[source]} = None  # until the first step computes it")
    src.emit(f'for t in range(axis_length["{axis}"]):')
    src.in_loop = True
    src.emit("mask_t = None if loop_mask is None else loop_mask[t]", 3)
    for node_id in order:
        node = graph.node(node_id)
        step_name = src.step_refs[(node_id, "y")]
        kind = node.type_name
        if kind == "delay":
            x = src.source(node_id, "x")
            previous = src.step_refs[x] if x[0] in members else f"{src.names[x]}[t - 1]"
            output_id = src.executor.feedback_outputs.get(node_id)
            loss = graph.node(output_id).params["loss"] if output_id else None
            start = _start(node)
            width = src.shape(x).width
            tokens = src.tokens(x)
            src.emit("if t == 0:", 3)
            src.emit(
                f"{step_name} = start_value(batch, {width}, {start}, {tokens}, "
                "next(self.parameters()))",
                4,
            )
            if node_id in teachers:
                src.emit(f"elif {teachers[node_id]} is not None:", 3)
                src.emit(f"{step_name} = {teachers[node_id]}[t - 1]", 4)
            src.emit("else:", 3)
            src.emit(f"{step_name} = feedback({previous}, {loss!r})", 4)
        elif kind in CELL_MODULES:
            x = src.floats(src.source(node_id, "x"))
            names = states[node_id]
            module = f"self.{module_name(node_id)}"
            if kind == "lstm":
                src.emit(f"h_new, c_new = {module}({x}, ({names[0]}, {names[1]}))", 3)
                src.emit(f"{names[1]} = keep_padded(c_new, {names[1]}, mask_t)", 3)
            else:
                src.emit(f"h_new = {module}({x}, {names[0]})", 3)
            src.emit(f"{names[0]} = keep_padded(h_new, {names[0]}, mask_t)", 3)
            src.emit(f"{step_name} = {names[0]}", 3)
        else:
            src.emit(f"{step_name} = {_expression(src, node, in_loop=True)}", 3)
    for list_name, step_name in collected:
        src.emit(f"{list_name}.append({step_name})", 3)
    src.in_loop = False
    for node_id, (list_name, _) in zip(order, collected, strict=True):
        whole = src.name(node_id, "y")
        src.step_refs.pop((node_id, "y"))
        src.emit(f"{whole} = torch.stack({list_name})  # {src.shape_text((node_id, 'y'))}")


def _literal(table: dict) -> str:
    """A table of plain values as Python source, one entry a line."""
    if not table:
        return "{}"
    entries = "".join(f"    {json.dumps(key)}: {_python(value)},\n" for key, value in table.items())
    return "{\n" + entries + "}"


def _python(value) -> str:
    return (
        json.dumps(value).replace("null", "None").replace("true", "True").replace("false", "False")
    )


def _wrap(text: str, width: int = 92) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _forward_doc(inputs: dict, targets: dict, axes: dict) -> list[str]:
    doc = ['        """Run the network on one batch, time-major (T steps, B examples).', ""]
    doc.append("        Inputs:")
    for input_id, spec in inputs.items():
        if spec["kind"] == "tokens":
            what = f"token ids (T, B), 0 to {spec['width'] - 1}, -1 for padding"
        elif spec["kind"] == "features":
            what = f"features (T, B, {spec['width']})"
        else:
            what = f"a vector (B, {spec['width']})"
        doc.append(f'            inputs["{input_id}"]: {what}')
    for name, spec in targets.items():
        if spec["loss"] == "cross_entropy":
            what = "class numbers " + ("(T, B)" if spec["axis"] else "(B,)") + ", -1 to ignore"
        else:
            what = "values " + ("(T, B, " if spec["axis"] else "(B, ") + f"{spec['width']})"
        doc.append(f'            targets["{name}"] (optional): {what}')
    for axis_id in axes:
        doc.append(
            f'            lengths["{axis_id}"] (optional): (B,) real steps on axis {axis_id}'
        )
    for axis_id, spec in axes.items():
        if spec["kind"] != "input":
            doc.append(
                f'            steps["{axis_id}"] (optional): its length when no target sets it '
                f"(default {spec['default_steps']})"
            )
    doc.append("")
    doc.append("        Outputs:")
    for spec in targets.values():
        shape = "(T, B, " if spec["axis"] else "(B, "
        doc.append(
            f'            "{spec["output"]}": scores {shape}{spec["width"]}), before '
            "softmax/sigmoid"
        )
    doc.append('            "loss": the summed losses, when targets are given')
    doc.append('        """')
    return doc
