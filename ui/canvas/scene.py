"""The scene: one item per node and wire of the open graph, and the mouse gestures that edit it.

The scene never edits the model directly. It follows the graph's events (keeping id → item maps)
and turns gestures into calls on the document, which pushes undo commands:

* drag from an output port to an input (or the other way round) to wire them; while dragging,
  ports that would accept the wire are lit and the others dimmed; dropping on a port that cannot
  take it is refused with the reason (the ``message`` signal);
* drag a wire's end off an input to re-plug it elsewhere, or drop it on empty canvas to delete it;
* drop a new wire (dragged from a port) on empty canvas to be offered the node types that can
  take it (``wire_dropped``; the window's quick-add box adds the one chosen, wired);
* drag nodes to move them (snapped to the grid; one drag is one undo step), notes with them;
* double-click a note to edit its text (``note_edited``: the edit is one undo step).

Notes are the project's, not the graph's: the scene follows the project's note events as it
follows the graph's.

After changes it re-validates the graph (once per batch of events) to relabel ports with their
inferred shapes and outline the nodes that have problems.

A wire running back (feedback through a Delay) passes under every node between its ends, so any
node moving may change its route. Such wires are re-routed once per batch of moves — after each
mouse move of a drag, after each undo step (Arrange moves every node), else on a 0-ms timer —
from the nodes' bottoms taken once for all of them: re-routing every one on each node's move
took 2-3.5 s a mouse move with 210 nodes and 30 Delays selected (now 0.03 s).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.card import card_size
from rnn_builder.graph.model import Edge, Node
from rnn_builder.graph.validation import ValidationReport, validate
from ui.canvas.edge_item import EdgeItem, wire_path
from ui.canvas.node_item import NodeItem
from ui.canvas.note_item import NoteItem
from ui.canvas.placement import clear_offset, room_above
from ui.canvas.port_item import PortItem
from ui.canvas.style import GRID_SIZE, NODE_WIDTH, SELECTION_COLOR
from ui.editor.commands import new_drag_id


class _WireDrag:
    """A wire being dragged: its fixed end, and the wire picked up to make it (if any)."""

    def __init__(self, anchor: PortItem, picked: Edge | None, item: QGraphicsPathItem) -> None:
        self.anchor = anchor
        self.picked = picked
        self.item = item
        self.reasons: dict[PortItem, str | None] = {}


class GraphScene(QGraphicsScene):
    validated = Signal(object)  # ValidationReport after changes
    message = Signal(str)  # a refusal or a hint, in words
    wire_dropped = Signal(str, str, bool, QPointF)  # from node, port, is an input; where
    note_edited = Signal(str, str)  # a note's id and the text typed into it

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.snap = True
        self.dragging_nodes = False
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self.note_items: dict[str, NoteItem] = {}
        self._edges_of: dict[str, set[Edge]] = {}
        self.report: ValidationReport | None = None
        self._wire: _WireDrag | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._press_notes: dict[str, tuple[float, float]] = {}
        self._subscriptions: list = []
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.timeout.connect(self._route_backwards)
        document.replaced.connect(self._rebuild)
        document.undo_stack.indexChanged.connect(self._undo_index_changed)
        self.note_edited.connect(self._note_edited)
        self._build()

    @property
    def graph(self):
        return self.document.graph

    # --- building -------------------------------------------------------------------------

    def _build(self) -> None:
        graph = self.graph
        self._subscriptions = [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.edge_added, self._on_edge_added),
            (graph.edge_removed, self._on_edge_removed),
            (graph.param_changed, self._on_node_changed),
            (graph.name_changed, self._on_node_changed),
            (graph.position_changed, self._on_position_changed),
        ]
        project = self.document.project
        self._subscriptions += [
            (project.note_added, self._on_note_added),
            (project.note_removed, self._on_note_removed),
            (project.note_changed, self._on_note_changed),
            (project.note_moved, self._on_note_moved),
        ]
        for event, callback in self._subscriptions:
            event.subscribe(callback)
        for node in graph:
            self._add_node_item(node)
        for edge in graph.edges:
            self._add_edge_item(edge)
        for note in project.notes:
            self._on_note_added(note)
        self._route_backwards()
        self.refresh()

    def detach(self) -> None:
        """Stop following the model (before the scene is dropped or rebuilt)."""
        for event, callback in self._subscriptions:
            event.unsubscribe(callback)
        self._subscriptions = []

    def _rebuild(self) -> None:
        self.detach()
        self._wire = None
        self.clear()
        self.node_items, self.edge_items, self._edges_of = {}, {}, {}
        self.note_items = {}
        self._build()

    # --- model events ---------------------------------------------------------------------

    def _add_node_item(self, node: Node) -> NodeItem:
        item = NodeItem(node, self.graph.registry.get(node.type_name))
        self.node_items[node.id] = item
        self._edges_of.setdefault(node.id, set())
        self.addItem(item)
        return item

    def _add_edge_item(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edge_items[edge] = item
        self._edges_of.setdefault(edge.src_node, set()).add(edge)
        self._edges_of.setdefault(edge.dst_node, set()).add(edge)
        self.addItem(item)
        self._route(item)

    def _on_node_added(self, node: Node) -> None:
        self._add_node_item(node)
        self.schedule_refresh()

    def _on_node_removed(self, node: Node) -> None:
        item = self.node_items.pop(node.id, None)
        self._edges_of.pop(node.id, None)
        if item is not None:
            self.removeItem(item)
        self.schedule_refresh()

    def _on_edge_added(self, edge: Edge) -> None:
        self._add_edge_item(edge)
        self.schedule_refresh()

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edge_items.pop(edge, None)
        for node_id in (edge.src_node, edge.dst_node):
            self._edges_of.get(node_id, set()).discard(edge)
        if item is not None:
            self.removeItem(item)
        self.schedule_refresh()

    def _on_node_changed(self, node_id: str, *_args) -> None:
        self.node_items[node_id].update_from_node(self.graph.node(node_id))
        self.schedule_refresh()

    def _on_position_changed(self, node_id: str, _old, new: tuple[float, float]) -> None:
        item = self.node_items[node_id]
        if (item.pos().x(), item.pos().y()) != new:
            item.setPos(*new)  # rerouting follows through itemChange

    def _on_note_added(self, note) -> None:
        item = NoteItem(note.id, note.text, note.position)
        self.note_items[note.id] = item
        self.addItem(item)

    def _on_note_removed(self, note) -> None:
        item = self.note_items.pop(note.id, None)
        if item is not None:
            self.removeItem(item)

    def _on_note_changed(self, note_id: str, _old: str, new: str) -> None:
        self.note_items[note_id].set_text(new)

    def _on_note_moved(self, note_id: str, _old, new: tuple[float, float]) -> None:
        item = self.note_items[note_id]
        if (item.pos().x(), item.pos().y()) != new:
            item.setPos(*new)

    def _note_edited(self, note_id: str, text: str) -> None:
        """Text typed into a note becomes the note's (one undo step), or is refused in words
        and the note shows its text again."""
        if note_id not in self.note_items:
            return
        try:
            self.document.set_note_text(note_id, text)
        except RNNBuilderError as error:
            self.message.emit(f"The note was not changed: {error}")
        self.note_items[note_id].set_text(self.document.project.note(note_id).text)

    # --- refreshing -----------------------------------------------------------------------

    def schedule_refresh(self) -> None:
        """Validate once after a batch of changes (a paste adds many nodes at once)."""
        self._refresh_timer.start(0)

    def _undo_index_changed(self, _index: int) -> None:
        self._route_if_pending()
        self._refresh_if_pending()

    def _refresh_if_pending(self) -> None:
        if self._refresh_timer.isActive():
            self._refresh_timer.stop()
            self.refresh()

    def refresh(self) -> None:
        """Re-validate, then relabel ports, colour wires and outline problem nodes."""
        self._refresh_timer.stop()
        report = validate(self.graph)
        self.report = report
        shapes = report.shapes
        for node_id, item in self.node_items.items():
            edges = self._edges_of.get(node_id, ())
            connected = {e.dst_port for e in edges if e.dst_node == node_id}
            connected |= {f"out:{e.src_port}" for e in edges if e.src_node == node_id}
            item.set_shapes(
                shapes.node_inputs(self.graph, node_id),
                shapes.node_outputs(self.graph, node_id),
                connected,
            )
            item.set_problems(report.problems_for(node_id))
        for edge, item in self.edge_items.items():
            shape = shapes.outputs.get((edge.src_node, edge.src_port))
            item.set_kind(shape.kind if shape is not None else None)
        self.validated.emit(report)

    # --- geometry -------------------------------------------------------------------------

    def _route(
        self, item: EdgeItem, bottoms: list[tuple[float, float, float]] | None = None
    ) -> None:
        """Lay ``item`` from its output to its input. A wire running back passes under the
        nodes between its ends: given ``bottoms`` (see :meth:`_node_bottoms`) it is routed
        under them now; without, it keeps the depth it had until the batch's re-route."""
        edge = item.edge
        src_node, dst_node = self.node_items.get(edge.src_node), self.node_items.get(edge.dst_node)
        if src_node is None or dst_node is None:
            return
        src = src_node.port(edge.src_port, is_input=False)
        dst = dst_node.port(edge.dst_port, is_input=True)
        if src is None or dst is None:
            return
        start, end = src.scene_anchor(), dst.scene_anchor()
        below = None
        if end.x() < start.x():
            if bottoms is None:
                below = item.below
                self._schedule_routes()
            else:
                below = self._lowest_between(end.x(), start.x(), bottoms)
        item.set_ends(start, end, below)

    def _node_bottoms(self) -> list[tuple[float, float, float]]:
        """Each node's left, right and bottom on the canvas."""
        return [
            (item.pos().x(), item.pos().x() + NODE_WIDTH, item.pos().y() + item.height)
            for item in self.node_items.values()
        ]

    @staticmethod
    def _lowest_between(
        left: float, right: float, bottoms: list[tuple[float, float, float]]
    ) -> float | None:
        """The bottom of the lowest node between ``left`` and ``right`` (a backward wire
        passes under it), or None when none is."""
        return max((b for x0, x1, b in bottoms if x0 < right and x1 > left), default=None)

    def _schedule_routes(self) -> None:
        self._route_timer.start(0)

    def _route_if_pending(self) -> None:
        if self._route_timer.isActive():
            self._route_backwards()

    def _route_backwards(self) -> None:
        """Route every wire that runs back under the nodes it passes (once per batch)."""
        self._route_timer.stop()
        backwards = [item for item in self.edge_items.values() if item.backwards]
        if not backwards:
            return
        bottoms = self._node_bottoms()
        for item in backwards:
            self._route(item, bottoms)

    def node_item_moved(self, item: NodeItem) -> None:
        for edge in self._edges_of.get(item.node_id, ()):
            edge_item = self.edge_items.get(edge)
            if edge_item is not None:
                self._route(edge_item)
        self._schedule_routes()  # a wire back may pass under it now

    def snapped(self, point: QPointF) -> QPointF:
        if not self.snap:
            return point
        return QPointF(
            round(point.x() / GRID_SIZE) * GRID_SIZE, round(point.y() / GRID_SIZE) * GRID_SIZE
        )

    def node_rects(self, ignore: frozenset[str] = frozenset()) -> list[QRectF]:
        """What each node covers: its card, and above a recurrent cell's its loop."""
        rects = []
        for node_id, item in self.node_items.items():
            if node_id in ignore:
                continue
            above = room_above(item.node_type)
            width = item.card_rect().width()
            rects.append(QRectF(item.pos().x(), item.pos().y() - above, width, item.height + above))
        return rects

    def _covered(self, node_type, x: float, y: float) -> QRectF:
        width, height = card_size(node_type)
        above = room_above(node_type)
        return QRectF(x, y - above, width, height + above)

    def free_spot(self, type_name: str, centre: QPointF) -> QPointF:
        """Where a new node of ``type_name`` wanted at ``centre`` goes: the nearest place on
        the grid where it covers no node (its top-left corner)."""
        node_type = self.graph.registry.get(type_name)
        width, height = card_size(node_type)
        wanted = self.snapped(QPointF(centre.x() - width / 2, centre.y() - height / 2))
        rect = self._covered(node_type, wanted.x(), wanted.y())
        return wanted + clear_offset(rect, self.node_rects())

    def free_offset(self, nodes: list[Node], offset: tuple[float, float]) -> tuple[float, float]:
        """``offset`` for copies of ``nodes``, lengthened until the copies cover no node."""
        group = QRectF()
        for node in nodes:
            node_type = self.graph.registry.get(node.type_name)
            group = group.united(self._covered(node_type, *node.position))
        moved = clear_offset(group.translated(*offset), self.node_rects())
        return offset[0] + moved.x(), offset[1] + moved.y()

    def items_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.node_items.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # --- selection ------------------------------------------------------------------------

    def selected_node_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.graph.nodes if n in chosen]  # in the model's order

    def selected_note_ids(self) -> list[str]:
        chosen = {i.note_id for i in self.selectedItems() if isinstance(i, NoteItem)}
        return [n.id for n in self.document.project.notes if n.id in chosen]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids, note_ids=()) -> None:
        """Select these nodes (and notes), and nothing else."""
        wanted, notes = set(node_ids), set(note_ids)
        self.clearSelection()
        for node_id, item in self.node_items.items():
            if node_id in wanted:
                item.setSelected(True)
        for note_id, item in self.note_items.items():
            if note_id in notes:
                item.setSelected(True)

    # --- wiring with the mouse ------------------------------------------------------------

    def port_at(self, point: QPointF) -> PortItem | None:
        for item in self.items(QRectF(point.x() - 6, point.y() - 6, 12, 12)):
            if isinstance(item, PortItem):
                return item
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.scenePos())
            if port is not None:
                self._start_wire(port)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_positions = {
                node_id: self.graph.node(node_id).position for node_id in self.selected_node_ids()
            }
            project = self.document.project
            self._press_notes = {
                note_id: project.note(note_id).position for note_id in self.selected_note_ids()
            }
            self.dragging_nodes = bool(self._press_positions or self._press_notes)

    def mouseMoveEvent(self, event) -> None:
        if self._wire is not None:
            self._drag_wire(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        self._route_if_pending()  # the wires back, under the dragged nodes in this frame

    def mouseReleaseEvent(self, event) -> None:
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self.dragging_nodes:
            self.dragging_nodes = False
            moves = {}
            for node_id, old in self._press_positions.items():
                item = self.node_items.get(node_id)
                if item is not None:
                    moves[node_id] = (old, (item.pos().x(), item.pos().y()))
            notes = {}
            for note_id, old in self._press_notes.items():
                note = self.note_items.get(note_id)
                if note is not None:
                    notes[note_id] = (old, (note.pos().x(), note.pos().y()))
            self._press_positions, self._press_notes = {}, {}
            self.document.move(moves, new_drag_id(), notes)

    def _start_wire(self, port: PortItem) -> None:
        picked = None
        anchor = port
        if port.is_input:
            feeding = self.graph.edges_into(port.node_id, port.name)
            if feeding:  # pick the wire up: it now hangs from its source
                picked = feeding[0]
                anchor = self.node_items[picked.src_node].port(picked.src_port, is_input=False)
                self.edge_items[picked].setVisible(False)
        item = QGraphicsPathItem()
        pen = QPen(SELECTION_COLOR, 2.2, Qt.PenStyle.DashLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        item.setPen(pen)
        item.setZValue(5)
        self.addItem(item)
        self._wire = _WireDrag(anchor, picked, item)
        self._light_ports()
        self._drag_wire(port.scene_anchor())

    @staticmethod
    def _candidate(anchor: PortItem, port: PortItem) -> Edge | None:
        if port.is_input == anchor.is_input:
            return None
        source, target = (anchor, port) if not anchor.is_input else (port, anchor)
        return Edge(source.node_id, source.name, target.node_id, target.name)

    def _light_ports(self) -> None:
        scratch = self.graph.copy()
        if self._wire.picked is not None:
            scratch.disconnect(self._wire.picked)
        for node_item in self.node_items.values():
            for port in (*node_item.inputs.values(), *node_item.outputs.values()):
                edge = self._candidate(self._wire.anchor, port)
                if edge is None:
                    continue
                try:
                    scratch.check_connect(*edge)
                    reason = None
                except RNNBuilderError as error:
                    reason = str(error)
                self._wire.reasons[port] = reason
                port.set_highlight("ok" if reason is None else "no")

    def _drag_wire(self, point: QPointF) -> None:
        anchor = self._wire.anchor.scene_anchor()
        path = (
            wire_path(anchor, point) if not self._wire.anchor.is_input else wire_path(point, anchor)
        )
        self._wire.item.setPath(path)

    def _finish_wire(self, point: QPointF) -> None:
        wire, self._wire = self._wire, None
        self.removeItem(wire.item)
        for port in wire.reasons:
            port.set_highlight(None)
        target = self.port_at(point)
        edge = self._candidate(wire.anchor, target) if target is not None else None
        replaces = [wire.picked] if wire.picked is not None else []
        if edge is not None and edge == wire.picked:
            self._show_edge(wire.picked)  # dropped back where it was
            return
        if edge is not None:
            reason = wire.reasons.get(target)
            if reason is None:
                try:
                    if not self.document.connect(edge, replaces):
                        self._show_edge(wire.picked)  # refused: the old wire stays
                    return
                except RNNBuilderError as error:
                    reason = str(error)
            self._show_edge(wire.picked)
            self.message.emit(f"Cannot wire this: {reason}")
            return
        if wire.picked is not None:  # dropped on empty canvas: the wire goes
            if self.document.disconnect([wire.picked]):
                self.message.emit("Wire removed")
            else:
                self._show_edge(wire.picked)
        elif target is None and not any(isinstance(i, NodeItem) for i in self.items(point)):
            anchor = wire.anchor  # a new wire let go on empty canvas: what could take it?
            self.wire_dropped.emit(anchor.node_id, anchor.name, anchor.is_input, point)

    def _show_edge(self, edge: Edge | None) -> None:
        if edge is not None and edge in self.edge_items:
            self.edge_items[edge].setVisible(True)
