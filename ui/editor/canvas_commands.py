"""Editing the graph on the canvas: adding a node (dropped from the palette, placed in free
space, or chosen in the quick-add box at the cursor — wired to the wire that was dropped, when
a wire opened it), arranging, deleting, selecting all, and copy, cut, paste and duplicate
through the clipboard.

A mixin of :class:`~ui.main_window.MainWindow`, which provides ``document``, ``scene``, ``view``,
``unrolled_action`` and ``show_error``.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.project import NOTE_MIDDLE, NOTE_WIDTH
from rnn_builder.graph.card import port_y
from ui.canvas.note_item import NEW_NOTE_TEXT
from ui.canvas.quick_add import Choice, QuickAdd
from ui.canvas.style import CATEGORY_COLORS, GRID_SIZE, NODE_WIDTH
from ui.editor import clipboard

NOTE_CHOICE = "note"  # the quick-add box's key for a note (no node type has it)


class CanvasCommands:
    def _make_quick_add(self) -> None:
        self.quick_add = QuickAdd(self.view.viewport())
        self._quick_add_for: tuple = ()  # what the open box adds: (where, wire or None)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self.view.quick_add_requested.connect(self.open_quick_add)
        self.view.quick_add_enabled = True
        self.scene.wire_dropped.connect(self._wire_dropped)

    def node_choices(self, keys=None) -> list[Choice]:
        """The node types the quick-add box offers (those in ``keys``, if given), and a note
        (when no wire is to be taken)."""
        choices = [
            Choice(t.type_name, t.title, t.description, CATEGORY_COLORS.get(t.category))
            for t in self.document.graph.registry
            if keys is None or t.type_name in keys
        ]
        if keys is None:
            choices.append(Choice(NOTE_CHOICE, "Note", "text on the canvas, to explain"))
        return choices

    def open_quick_add(self, where: QPointF, text: str = "") -> None:
        """The search box at ``where`` (scene), starting with ``text``: Enter adds the node
        chosen there."""
        if self.unrolled_action.isChecked():
            return
        self._quick_add_for = (where, None)
        self.quick_add.open(self.view.mapFromScene(where), text, self.node_choices())

    def _wire_dropped(self, node_id: str, port: str, is_input: bool, where: QPointF) -> None:
        """A new wire let go on empty canvas: the types that can take it, to add one wired."""
        keys = self.document.wiring_choices(node_id, port, is_input)
        name = self.document.graph.node(node_id).name
        if not keys:
            self.statusBar().showMessage(f"No node can be wired to {name}.{port}", 6000)
            return
        heading = f"Feed {name}.{port} from…" if is_input else f"Wire {name}.{port} into…"
        self._quick_add_for = (where, (node_id, port, is_input))
        self.quick_add.open(self.view.mapFromScene(where), "", self.node_choices(keys), heading)

    def _quick_add_chosen(self, type_name: str) -> None:
        where, wire = self._quick_add_for
        self._quick_add_for = ()
        if type_name == NOTE_CHOICE:
            self.add_note(where)
            return
        if wire is None:
            spot = self.scene.free_spot(type_name, where)  # centred there, over no node
            self._add(type_name, (spot.x(), spot.y()))
            return
        node_id, port, is_input = wire
        ports = self.document.wiring_choices(node_id, port, is_input)
        node_type = self.document.graph.registry.get(type_name)
        rows = [p.name for p in node_type.outputs] + [p.name for p in node_type.inputs]
        row = rows.index(ports[type_name], len(node_type.outputs) if not is_input else 0)
        # the new node's port where the wire was let go
        corner = self.scene.snapped(
            QPointF(where.x() - (NODE_WIDTH if is_input else 0.0), where.y() - port_y(row))
        )
        try:
            new_id = self.document.add_wired_node(
                type_name, (corner.x(), corner.y()), node_id, port, is_input
            )
        except RNNBuilderError as error:
            self.show_error("Cannot add the node", str(error))
            return
        if new_id is not None:
            self.scene.select_nodes([new_id])

    def _drop_node(self, type_name: str, position: QPointF) -> None:
        snapped = self.scene.snapped(position)
        self._add(type_name, (snapped.x(), snapped.y()))

    def _add_in_view(self, type_name: str) -> None:
        """From the palette without a drag: near the view's centre, in free space."""
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        spot = self.scene.free_spot(type_name, centre)
        self._add(type_name, (spot.x(), spot.y()))

    def _add(self, type_name: str, position: tuple[float, float]) -> None:
        try:
            node_id = self.document.add_node(type_name, position)
        except RNNBuilderError as error:
            self.show_error("Cannot add the node", str(error))
            return
        if node_id is None:
            return
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        self.scene.select_nodes([node_id])

    def add_note(self, where: QPointF | None = None) -> None:
        """A note at ``where`` (scene; the view's centre by default), its text selected to be
        typed over: adding it is one undo step, what is typed another."""
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        if where is None:
            where = self.view.mapToScene(self.view.viewport().rect().center())
        corner = self.scene.snapped(where - QPointF(*NOTE_MIDDLE))
        try:
            note_id = self.document.add_note((corner.x(), corner.y()), NEW_NOTE_TEXT)
        except RNNBuilderError as error:
            self.show_error("Cannot add the note", str(error))
            return
        item = self.scene.note_items.get(note_id) if note_id else None
        if item is not None:
            self.scene.clearSelection()
            item.setSelected(True)
            self.view.setFocus()
            item.start_editing(select_all=True)

    def arrange(self) -> None:
        """Lay the graph out (one undo step) and show all of it."""
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        if self.document.arrange():
            self.view.fit_to_contents()

    def delete_selection(self) -> None:
        if self.unrolled_action.isChecked():
            return
        self.document.remove(
            self.scene.selected_node_ids(),
            self.scene.selected_edges(),
            self.scene.selected_note_ids(),
        )

    def select_all(self) -> None:
        self.scene.select_nodes(self.document.graph.nodes)

    def copy(self) -> None:
        node_ids, notes = self._selection()
        if node_ids or notes:
            clipboard.put(clipboard.selection_as_json(self.document.graph, node_ids, notes))

    def _selection(self) -> tuple[list[str], list]:
        """The selected nodes' ids and notes."""
        project = self.document.project
        return self.scene.selected_node_ids(), [
            project.note(note_id) for note_id in self.scene.selected_note_ids()
        ]

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self, offset: tuple[float, float] = (40.0, 40.0)) -> None:
        self._paste_json(clipboard.text(), offset)

    def duplicate(self) -> None:
        """Copies of the selection beside it (to the right, or the nearest free place)."""
        node_ids, notes = self._selection()
        if node_ids or notes:
            text = clipboard.selection_as_json(self.document.graph, node_ids, notes)
            lefts = [self.document.graph.node(n).position[0] for n in node_ids]
            rights = [self.scene.node_items[n].pos().x() + NODE_WIDTH for n in node_ids]
            lefts += [note.position[0] for note in notes]
            rights += [note.position[0] + NOTE_WIDTH for note in notes]
            self._paste_json(text, (max(rights) - min(lefts) + GRID_SIZE * 2, 0.0), "Duplicate")

    def _paste_json(self, raw: str, offset: tuple[float, float], text: str = "Paste") -> None:
        try:
            selection = clipboard.selection_from_json(raw)
            if selection is None:
                return  # not ours: nothing to paste
            nodes, edges, notes = selection
            offset = self.scene.free_offset(nodes, offset)  # never on top of nodes
            new_ids, new_notes = self.document.paste(nodes, edges, offset, text, notes)
        except (ValueError, KeyError, TypeError, RNNBuilderError) as error:
            self.show_error("Cannot paste", f"The clipboard does not hold nodes that fit: {error}")
            return
        self.scene.select_nodes(new_ids, new_notes)
