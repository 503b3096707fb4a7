"""The edits a project takes, each checked first and pushed as one undo step.

This is the one place that pushes undo commands. The methods below check an edit first (a wire
that cannot be made raises the core's named error, a parameter out of range raises
``InvalidParameterError``) and push a command only for what can be done, so a refused edit
leaves nothing on the undo stack.

A ``guard`` (set by the window) is asked before every edit that changes the network — not
before moving or renaming nodes, which training does not see; while training runs it offers to
stop it, and a refused edit is not made (the methods return False or None).

A mixin of :class:`~ui.editor.document.GraphDocument`, which provides ``graph``, ``project``,
``undo_stack``, ``guard`` and ``base()`` (and names ``connect`` and ``disconnect`` again, as
PySide needs: the document says why).
"""

from __future__ import annotations

from pathlib import PurePath

from rnn_builder.errors import (
    DataError,
    InvalidParameterError,
    InvalidSettingError,
    RNNBuilderError,
    UnknownPortError,
    WiringError,
)
from rnn_builder.files.data_options import OPTIONS, task_of_reference
from rnn_builder.files.project import MAX_NOTES, DatasetReference, Note
from rnn_builder.graph.arrange import arrange
from rnn_builder.graph.model import Edge, Node, node_id_problem
from rnn_builder.training.binding import DataCheck, ParamChange
from rnn_builder.training.tasks import check_data, fit_data, with_binding
from ui.editor.commands import (
    AddNodes,
    AddNotes,
    Connect,
    MoveNodes,
    RemoveItems,
    RemoveNotes,
    Rename,
    SetDataOption,
    SetDataset,
    SetNoteText,
    SetParam,
    SetProjectText,
    SetTraining,
    Steps,
    new_drag_id,
)


class DocumentEdits:
    # the last wiring_choices asked and its answer, until the graph's next edit
    _wiring_choices: tuple | None = None

    def allowed(self, command) -> bool:
        """Whether an edit may go ahead now (the guard is asked for what changes the network)."""
        harmless = MoveNodes | Rename | SetProjectText | AddNotes | RemoveNotes | SetNoteText
        if isinstance(command, harmless) or self.guard is None:  # the network stays as it is
            return True
        return bool(self.guard())

    def push(self, command) -> bool:
        """The one place edits enter the model; False when the guard refused it."""
        if not self.allowed(command):
            return False
        self.undo_stack.push(command)
        return True

    def undo(self) -> bool:
        stack = self.undo_stack
        if not stack.canUndo() or not self.allowed(stack.command(stack.index() - 1)):
            return False
        stack.undo()
        return True

    def redo(self) -> bool:
        stack = self.undo_stack
        if not stack.canRedo() or not self.allowed(stack.command(stack.index())):
            return False
        stack.redo()
        return True

    def add_node(self, type_name: str, position: tuple[float, float]) -> str | None:
        """Add a node; its id, or None when the edit was refused."""
        node_type = self.graph.registry.get(type_name)
        node_id = self.graph.new_node_id(type_name)
        node = Node(node_id, type_name, node_id, node_type.default_params(), position)
        if self.push(AddNodes(self.graph, [node], [], f"Add {node_type.title}")):
            return node_id
        return None

    def wiring_choices(self, node_id: str, port: str, is_input: bool) -> dict[str, str]:
        """The node types a new node of which could be wired to ``node_id.port`` (an output:
        from it into the new node; an input: from the new node into it), each with the port
        of the new node the wire would take (its first that can): type name -> port.

        The answer is kept until the graph's next edit: one quick-add gesture asks three
        times (the wire let go, the type chosen, the node added)."""
        key = (self.graph, self.graph.revision, node_id, port, is_input)
        if self._wiring_choices is None or self._wiring_choices[0] != key:
            self._wiring_choices = (key, self._find_wiring_choices(node_id, port, is_input))
        return dict(self._wiring_choices[1])

    def _find_wiring_choices(self, node_id: str, port: str, is_input: bool) -> dict[str, str]:
        # One scratch copy with a trial node of every type, none wired: a trial node cannot
        # change what another's wire would meet. A copy per type took 64 ms at 490 nodes.
        scratch = self.graph.copy()
        trials = [(t, scratch.add_node(t.type_name).id) for t in self.graph.registry]
        found = {}
        for node_type, new in trials:
            ports = node_type.outputs if is_input else node_type.inputs
            for spec in ports:
                try:
                    if is_input:
                        scratch.check_connect(new, spec.name, node_id, port)
                    else:
                        scratch.check_connect(node_id, port, new, spec.name)
                except RNNBuilderError:
                    continue
                found[node_type.type_name] = spec.name
                break
        return found

    def add_wired_node(
        self, type_name: str, position: tuple[float, float], node_id: str, port: str, is_input: bool
    ) -> str | None:
        """Add a node wired to ``node_id.port`` (see :meth:`wiring_choices`) as one undo step;
        its id, or None when the edit was refused. Raises the core's error when no port of
        the type can take the wire."""
        ports = self.wiring_choices(node_id, port, is_input)
        node_type = self.graph.registry.get(type_name)
        if type_name not in ports:
            raise WiringError(
                f"no port of a {node_type.title} can be wired to "
                f"{self.graph.describe(node_id)}'s {port}"
            )
        new_id = self.graph.new_node_id(type_name)
        node = Node(new_id, type_name, new_id, node_type.default_params(), position)
        edge = (
            Edge(new_id, ports[type_name], node_id, port)
            if is_input
            else Edge(node_id, port, new_id, ports[type_name])
        )
        text = f"Add {node_type.title} wired to {self.graph.node(node_id).name}"
        return new_id if self.push(AddNodes(self.graph, [node], [edge], text)) else None

    def connect(self, edge: Edge, replaces: list[Edge] = ()) -> bool:
        """Make a wire (refused with the core's named error before anything is pushed)."""
        scratch = self.graph.copy()
        for old in replaces:
            scratch.disconnect(old)
        scratch.check_connect(*edge)
        return self.push(Connect(self.graph, Edge(*edge), list(replaces)))

    def disconnect(self, edges: list[Edge]) -> bool:
        return bool(edges) and self.push(RemoveItems(self.graph, [], list(edges), "Remove wire"))

    def remove(self, node_ids: list[str], edges: list[Edge] = (), note_ids: list[str] = ()) -> bool:
        """Delete nodes (with their wires), wires and notes, as one undo step."""
        if not node_ids and not edges and not note_ids:
            return False
        count = len(node_ids)
        text = f"Delete {count} node{'s' if count != 1 else ''}" if count else "Delete wires"
        if not node_ids and not edges:
            return self.push(RemoveNotes(self.project, list(note_ids)))
        command = RemoveItems(self.graph, list(node_ids), list(edges), text)
        if note_ids:
            notes = RemoveNotes(self.project, list(note_ids))
            command = Steps(f"{text} and {notes.text()[len('Delete ') :]}", [command, notes])
        return self.push(command)

    def add_note(self, position: tuple[float, float], text: str = "") -> str | None:
        """Put a note on the canvas (one undo step); its id, or None when refused."""
        note = Note(self.project.new_note_id(), Note.checked_text(text), position)
        return note.id if self.push(AddNotes(self.project, [note])) else None

    def set_note_text(self, note_id: str, text: str) -> bool:
        """A note's new text as one undo step (text a note cannot hold raises
        ``InvalidSettingError`` before anything is pushed)."""
        return self._push_change(SetNoteText(self.project, note_id, text))

    def set_param(self, node_id: str, name: str, value) -> bool:
        value = self._checked_param(node_id, name, value)
        node = self.graph.node(node_id)
        if node.params[name] == value and type(node.params[name]) is type(value):
            return True
        return self.push(SetParam(self.graph, node_id, name, value))

    def _checked_param(self, node_id: str, name: str, value):
        node = self.graph.node(node_id)
        spec = self.graph.node_type(node_id).param_spec(name)
        if spec is None:
            raise InvalidParameterError(f"{node.name} has no parameter '{name}'")
        try:
            value = spec.coerce(value)
        except ValueError as error:
            raise InvalidParameterError(f"{spec.label}: {error}") from None
        problem = spec.range_problem(value)
        if problem is not None:
            raise InvalidParameterError(f"{self.graph.describe(node_id)}: {problem}")
        return value

    def set_training(self, name: str, value) -> bool:
        """Change a training setting as one undo step (a value it cannot take raises the
        core's ``InvalidSettingError`` before anything is pushed); False when refused."""
        return self._push_change(SetTraining(self.project, name, value))

    def set_dataset(self, reference: DatasetReference | None) -> bool:
        """Train on other data, as one undo step, with the binding found for the graph kept in
        the reference (the fields it names itself stay); a reference that cannot be raises
        ``InvalidSettingError`` before anything is pushed. False when refused."""
        if reference is not None:
            reference = with_binding(self.project, reference, self.base())
        return self._push_change(SetDataset(self.project, reference))

    def set_data_option(self, name: str, value) -> bool:
        """One option of the project's data (a built-in task's ``steps``, a generated set's
        size) as one undo step, checked by the data options' table (a value it cannot take
        raises ``InvalidSettingError`` in its words before anything is pushed). Setting what
        the data reads already (its default, when the option is not given) is no step."""
        reference = self.project.dataset
        if reference is None:
            raise InvalidSettingError("choose the data first: it has no options yet")
        task = task_of_reference(reference.kind, reference.name)
        table = OPTIONS.get(task or "", {})
        if name in table and name not in reference.options and value == table[name].default:
            return True
        return self._push_change(SetDataOption(self.project, name, value))

    def data_check(self) -> DataCheck | None:
        """What does not fit between the project's data and its graph (no file is read);
        None when there is no data, or the graph has problems of its own."""
        return check_data(self.project, self.base())

    def fit_to_data(self, reference: DatasetReference | None = None) -> list[ParamChange] | None:
        """Fit the graph to the project's data — or to ``reference``, which it then trains on —
        as one undo step: the binding, and the parameters that fit (an input's vocabulary or
        width, an Embedding's vocabulary, the last layer's units, the Output's loss, a
        decoder's steps). Returns the changes ([] when it fits already: no step), None when
        the guard refused; raises ``DataError`` in words when there is nothing to fit to, or
        a value the graph cannot take, before anything is pushed."""
        base = self.base()
        if reference is not None:
            reference = with_binding(self.project, reference, base)
        fitted, changes = fit_data(self.project, base, reference)
        commands = []
        if fitted != self.project.dataset:
            commands.append(SetDataset(self.project, fitted))
        for change in changes:
            try:
                value = self._checked_param(change.node, change.name, change.value)
            except InvalidParameterError as error:
                raise DataError(f"the graph cannot be fitted to this data: {error}") from None
            commands.append(SetParam(self.graph, change.node, change.name, value))
        if not commands:
            return []
        text = "Fit the graph to the data"
        if reference is not None and self.project.dataset != fitted:
            text = f"Train on {PurePath(reference.name).name or reference.name} and fit the graph"
        return changes if self.push(Steps(text, commands)) else None

    def bind_field(self, field: str, node_id: str) -> bool:
        """Feed ``node_id`` from the data's ``field`` (an input field to an input node, a
        target to an Output) as one undo step; the field that fed the node before moves to
        the node ``field`` leaves (they swap), so no node takes two. Raises ``DataError``
        in words when the field or the node cannot be bound; False when refused."""
        check = self.data_check()
        reference = self.project.dataset
        if check is None or check.spec is None or reference is None:
            raise DataError("the data's fields are not known yet: fix the graph, or read the file")
        spec, graph = check.spec, self.graph
        if field in spec.inputs:
            nodes, role = {n.id for n in graph.inputs()}, "an input node"
        elif field in spec.targets:
            nodes, role = {n.id for n in graph.outputs()}, "an Output"
        else:
            raise DataError(f"the data has no field '{field}'")
        if node_id not in nodes:
            raise DataError(f"'{field}' can only feed {role}, not {graph.describe(node_id)}")
        binding = {**reference.binding, **check.binding.as_dict()}
        left = binding.get(field)
        displaced = next((f for f, n in binding.items() if n == node_id and f != field), None)
        binding[field] = node_id
        if displaced is not None:
            if left is not None:
                binding[displaced] = left
            else:
                del binding[displaced]
        bound = DatasetReference(reference.kind, reference.name, reference.options, binding)
        text = f"Feed {graph.node(node_id).name} from '{field}'"
        return self._push_change(SetDataset(self.project, bound, text))

    def set_project_text(self, name: str, text: str) -> bool:
        """Set the project's ``title`` or ``description`` as one undo step (text a project
        file could not hold raises ``InvalidSettingError`` before anything is pushed)."""
        return self._push_change(SetProjectText(self.project, name, text))

    def _push_change(self, command) -> bool:
        """Push a command that sets ``new`` in place of ``old``; setting the value it holds
        is no undo step (True: nothing to refuse)."""
        if command.new == command.old and type(command.new) is type(command.old):
            return True
        return self.push(command)

    def rename(self, node_id: str, name: str) -> None:
        """Show a node by another name (one undo step). What the core refuses — a name another
        node has, text a name cannot be (``Graph.check_rename``) — raises its
        ``InvalidParameterError`` before anything is pushed."""
        name = self.graph.check_rename(node_id, name)
        if self.graph.node(node_id).name != name:
            self.push(Rename(self.graph, node_id, name))

    def move(
        self,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        drag: int,
        note_moves: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    ) -> None:
        """Nodes and notes moved by one drag (``drag``: moves of one drag are one step)."""
        moves = {n: (old, new) for n, (old, new) in moves.items() if old != new}
        notes = {n: (old, new) for n, (old, new) in (note_moves or {}).items() if old != new}
        if moves or notes:
            self.push(MoveNodes(self.graph, moves, drag, project=self.project, note_moves=notes))

    def arrange(self) -> bool:
        """Lay the graph out left to right (``graph.arrange``: inputs left, outputs right, no
        node over another) as one undo step; False when every node is in place already."""
        positions = arrange(self.graph)
        moves = {
            node_id: (self.graph.node(node_id).position, position)
            for node_id, position in positions.items()
            if self.graph.node(node_id).position != position
        }
        notes = {}  # a note goes with the node it is nearest, as far as that node goes
        for note in self.project.notes:
            near = note.nearest_node(self.graph)
            if near in moves:
                (old_x, old_y), (new_x, new_y) = moves[near]
                x, y = note.position
                notes[note.id] = (note.position, (x + new_x - old_x, y + new_y - old_y))
        if not moves:
            return False
        return self.push(
            MoveNodes(
                self.graph, moves, new_drag_id(), "Arrange", project=self.project, note_moves=notes
            )
        )

    def paste(
        self,
        nodes: list[Node],
        edges: list[Edge],
        offset: tuple[float, float],
        text: str = "Paste",
        notes: list[Note] = (),
    ) -> tuple[list[str], list[str]]:
        """Add copies of ``nodes`` with fresh ids, their wires among themselves, and copies of
        ``notes`` with new ids, all moved by ``offset``, as one undo step; returns the new node
        and note ids. A copy whose id is taken, or that the core refuses
        (``graph.node_id_problem``: text from elsewhere), gets a fresh one; a copy keeps its
        own name unless another node has it (names are unique: ``Graph.check_rename``), and
        is named after its id otherwise. Anything else the graph would refuse (an unknown
        type, a name, a port) raises before the edit, in words, so that the undo command never
        fails halfway."""
        graph = self.graph
        taken = set(graph.nodes)
        names = {node.name for node in graph}
        renamed: dict[str, str] = {}
        copies = []
        for node in nodes:
            new_id = node.id
            own_name = node.name != node.id and node.name not in names
            if (
                new_id in taken
                or (not own_name and new_id in names)
                or node_id_problem(new_id, graph.registry.get(node.type_name))
            ):
                stem = str(node.id).rstrip("0123456789").rstrip("_") or node.type_name
                new_id = graph.new_node_id(stem, taken | names)
            name = node.name if own_name else new_id
            taken.add(new_id)
            names.add(name)
            renamed[node.id] = new_id
            position = (node.position[0] + offset[0], node.position[1] + offset[1])
            copy = Node(new_id, node.type_name, name, dict(node.params), position)
            copies.append(graph.checked_node(copy))
        types = {copy.id: graph.registry.get(copy.type_name) for copy in copies}
        wires = list(
            dict.fromkeys(
                Edge(renamed[e.src_node], e.src_port, renamed[e.dst_node], e.dst_port)
                for e in edges
                if e.src_node in renamed and e.dst_node in renamed
            )
        )
        for wire in wires:
            if types[wire.src_node].output_port(wire.src_port) is None:
                raise UnknownPortError(f"{wire.src_node} has no output port '{wire.src_port}'")
            if types[wire.dst_node].input_port(wire.dst_port) is None:
                raise UnknownPortError(f"{wire.dst_node} has no input port '{wire.dst_port}'")
        if len(self.project.notes) + len(notes) > MAX_NOTES:
            raise InvalidSettingError(f"a canvas holds at most {MAX_NOTES:,} notes")
        note_copies: list[Note] = []
        for note in notes:
            new_id = self.project.new_note_id(n.id for n in note_copies)
            position = (note.position[0] + offset[0], note.position[1] + offset[1])
            note_copies.append(Note(new_id, note.text, Note.checked_position(position)))
        steps = [AddNodes(self.graph, copies, wires, text)] if copies else []
        steps += [AddNotes(self.project, note_copies, text)] if note_copies else []
        if steps and self.push(steps[0] if len(steps) == 1 else Steps(text, steps)):
            return [c.id for c in copies], [n.id for n in note_copies]
        return [], []
