"""A feedback loop through a Delay in the generated ``forward``: an explicit loop over steps,
cells as ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell`` whose state keeps still on padded steps,
each Delay giving the start value, then the target (teacher forcing, in training when the tied
target is given) or the previous step's output chosen greedily (``feedback``, as
``Executor._feedback``)."""

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
    collected: list[tuple[str, str]] = []  # (list name, step name)
    states: dict[str, list[str]] = {}
    teachers: dict[str, str] = {}
    for node_id in order:
        node = graph.node(node_id)
        step_name = src.name(node_id, "t")
        src.step_refs[(node_id, "y")] = step_name
        node_type = graph.node_type(node_id)
        if node_type.shifts_time:
            forced = teacher(src, node)
            if forced:
                src.emit(forced[0])
                teachers[node_id] = src.name(node_id, "teacher")
                src.emit(f"{teachers[node_id]} = {forced[1]} if forced else None")
        if node_type.cell is not None:
            ports = tuple(f"{s}_0" for s in node_type.cell.states)
            finals = tuple(f"{s}_n" for s in node_type.cell.states)
            names = []
            for port, final in zip(ports, finals, strict=True):
                state = src.source(node_id, port)
                name = src.name(node_id, final)
                names.append(name)
                width = src.shape((node_id, final)).width
                initial = (
                    src.ref(state)
                    if state
                    else f"next(self.parameters()).new_zeros(batch, {width})"
                )
                src.emit(f"{name} = {initial}")
            states[node_id] = names
        collected.append((src.name(node_id, "steps"), step_name))
    for list_name, _ in collected:
        src.emit(f"{list_name} = []")
    for node_id in order:  # what a Delay feeds back is the previous step's value
        source = src.source(node_id, "x") if graph.node_type(node_id).shifts_time else None
        if source is not None and source[0] in members:
            src.emit(f"{src.step_refs[source]} = None  # until the first step computes it")
    src.emit(f'for t in range(axis_length["{axis}"]):')
    src.in_loop = True
    src.emit("mask_t = None if loop_mask is None else loop_mask[t]", 3)
    for node_id in order:
        node = graph.node(node_id)
        step_name = src.step_refs[(node_id, "y")]
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
            src.emit(f"{step_name} = {initial(src, node)}", 4)
            if node_id in teachers:
                src.emit(f"elif {teachers[node_id]} is not None:", 3)
                src.emit(f"{step_name} = {teachers[node_id]}[t - 1]", 4)
            src.emit("else:", 3)
            src.emit(f"{step_name} = feedback({previous}, {loss!r})", 4)
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
            src.emit(f"{step_name} = {names[0]}", 3)
        else:
            src.emit(f"{step_name} = {step_expression(src, node)}", 3)
    for list_name, step_name in collected:
        src.emit(f"{list_name}.append({step_name})", 3)
    src.in_loop = False
    for node_id, (list_name, _) in zip(order, collected, strict=True):
        whole = src.name(node_id, "y")
        src.step_refs.pop((node_id, "y"))
        src.emit(f"{whole} = torch.stack({list_name})  # {src.shape_text((node_id, 'y'))}")
