"""A feedback loop through a Delay in the generated ``forward``: an explicit loop over steps,
cells as ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell`` whose state keeps still on padded steps,
each Delay giving the start value, then the target (teacher forcing, in training when the tied
target is given) or the previous step's output chosen greedily (``feedback``, as
``Executor._feedback``).

Written as::

    current = {"lag": None}  # this step's values (a Delay reads the last step's)
    history = {"lag": [], "decoder": [], "head": []}  # every step's
    for t in range(axis_length["lag"]):
        ...
        current["decoder"] = values["decoder.h_n"]
        history["decoder"].append(current["decoder"])
    values["decoder"] = torch.stack(history["decoder"])

A cell's state is its ``values["<id>.h_n"]`` entry, updated every step, so it is the final
state after the loop; its new state comes in the plain locals ``h_new`` (``c_new``), which no
node can shadow (see :mod:`.pytorch_source`).
"""

from __future__ import annotations

from rnn_builder.errors import ExportError
from rnn_builder.export.pytorch_forms import form_of, step_expression
from rnn_builder.export.pytorch_source import Source, teacher


def emit_loop(src: Source, order: list[str], axis: str) -> None:
    """A feedback loop, step by step: cells as ``…Cell`` modules, Delays fed back greedily or
    teacher forced."""
    graph = src.graph
    members = set(order)
    src.emit(f"# feedback loop over {', '.join(order)}, one step at a time")
    src.emit(f'loop_mask = step_mask(lengths.get("{axis}"), axis_length["{axis}"])')
    states: dict[str, list[str]] = {}
    teachers: dict[str, str] = {}
    # each member's one value a step: its first output (a cell's y, an attention's context)
    port = {node_id: graph.node_type(node_id).outputs[0].name for node_id in order}
    for node_id in order:
        src.step_refs[(node_id, port[node_id])] = src.current(node_id)
        node_type = graph.node_type(node_id)
        if node_type.shifts_time:
            forced = teacher(src, graph.node(node_id))
            if forced:
                if not teachers:
                    src.emit("teacher: dict[str, Tensor | None] = {}")
                src.emit(forced[0])
                teachers[node_id] = f'teacher["{node_id}"]'
                src.emit(f"{teachers[node_id]} = {forced[1]} if forced else None")
        if node_type.cell is not None:
            names = []
            for state in node_type.cell.states:
                given = src.source(node_id, f"{state}_0")
                name = src.name(node_id, f"{state}_n")
                names.append(name)
                width = src.shape((node_id, f"{state}_n")).width
                initial = (
                    src.ref(given)
                    if given
                    else f"next(self.parameters()).new_zeros(batch, {width})"
                )
                src.emit(f"{name} = {initial}")
            states[node_id] = names
    fed_back = [  # what a Delay feeds back is the previous step's value
        source[0]
        for node_id in order
        if graph.node_type(node_id).shifts_time
        and (source := src.source(node_id, "x")) is not None
        and source[0] in members
    ]
    waiting = ", ".join(f'"{node_id}": None' for node_id in dict.fromkeys(fed_back))
    src.emit("# this step's values (a Delay reads the last step's), and every step's")
    src.emit(f"current: dict[str, Tensor | None] = {{{waiting}}}")
    lists = ", ".join(f'"{node_id}": []' for node_id in order)
    src.emit(f"history: dict[str, list[Tensor]] = {{{lists}}}")
    src.emit(f'for t in range(axis_length["{axis}"]):')
    src.in_loop = True
    src.emit("mask_t = None if loop_mask is None else loop_mask[t]", 3)
    for node_id in order:
        node = graph.node(node_id)
        step_value = src.current(node_id)
        node_type = graph.node_type(node_id)
        if node_type.shifts_time:
            x = src.source(node_id, "x")
            previous = src.step_refs[x] if x[0] in members else f"{src.names[x]}[t - 1]"
            output_id = src.executor.feedback_outputs.get(node_id)
            loss = graph.node(output_id).params["loss"] if output_id else None
            initial = form_of(graph, node).initial
            if initial is None:
                raise ExportError(
                    f"{graph.describe(node_id)} shifts time, but its type's PyTorch form gives "
                    "no initial value"
                )
            src.emit("if t == 0:", 3)
            src.emit(f"{step_value} = {initial(src, node)}", 4)
            if node_id in teachers:
                src.emit(f"elif {teachers[node_id]} is not None:", 3)
                src.emit(f"{step_value} = {teachers[node_id]}[t - 1]", 4)
            src.emit("else:", 3)
            src.emit(f"{step_value} = feedback({previous}, {loss!r})", 4)
        elif node_type.cell is not None:
            step = form_of(graph, node).step
            if step is None:
                raise ExportError(
                    f"{graph.describe(node_id)} is a cell whose type's PyTorch form has no step, "
                    "so it cannot run inside a feedback loop"
                )
            x = src.floats(src.source(node_id, "x"))
            names = states[node_id]
            new = [f"{s}_new" for s in node_type.cell.states]
            src.emit(f"{', '.join(new)} = {step(src, node, x, names)}", 3)
            for name, value in reversed(list(zip(names, new, strict=True))):
                src.emit(f"{name} = keep_padded({value}, {name}, mask_t)", 3)
            src.emit(f"{step_value} = {names[0]}", 3)
        else:
            src.emit(f"{step_value} = {step_expression(src, node)}", 3)
    for node_id in order:
        src.emit(f'history["{node_id}"].append({src.current(node_id)})', 3)
    src.in_loop = False
    for node_id in order:
        key = (node_id, port[node_id])
        whole = src.name(*key)
        src.step_refs.pop(key)
        src.emit(f'{whole} = torch.stack(history["{node_id}"])  # {src.shape_text(key)}')
