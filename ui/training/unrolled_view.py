"""The unrolled view: the network as it runs, drawn from the core's unrolled DAG.

Each copy of a node is a box in the column of its time step; rows are the network's layers,
inputs at the bottom; a bidirectional cell has a forward and a reverse row. State edges run
along a row from step t-1 to t (backwards for the reverse direction), delay edges from t-1 to t
across rows, data edges up a column; a vector node appears once, in a column after the steps it
reads. Copies of one node carry the same weights, marked by a badge with the node's weight count.

Layout: each time axis is a block of columns and each vector node a single column; blocks are
placed left to right by the longest path through their dependencies. The boxes, bands and
wires it places are drawn by :mod:`ui.training.unrolled_items`.

Behind the copies, the plan that runs them (:mod:`rnn_builder.graph.plan`): each segment a
labelled band around its copies — a whole-sequence segment (one node's copies in one call) a
filled band along its row, a step loop (nodes tied through a Delay, run step by step) a frame
in the Delay edges' colour around its rows — so that what is drawn is what runs. While
stepping, the band of the segment being walked is outlined.

An input read whole at every step (``PortSpec.whole_axis``: an attention's memory) is drawn as
thin, faint wires from every step of it to each copy that reads it; once a walk has computed
a copy, the opacity of each of its wires is the weight that copy gave that step (its
``alignment``), so the encoder steps each decoder step looked at stand out.

The project's notes are drawn on the folded side, left of the first step: each beside the row
of the node it sits nearest on the canvas, with a faint line to that row, so that what a
teacher wrote about a node stays beside its copies.
"""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSimpleTextItem

from rnn_builder.graph.model import Graph
from rnn_builder.graph.unroll import UnrolledGraph, UnrolledKey
from ui.canvas.note_item import NOTE_WIDTH, NoteCard
from ui.canvas.style import CATEGORY_COLORS, canvas_colors, text_scale
from ui.training.unrolled_items import (
    EDGE_COLORS,
    RIGHT_COLOR,
    WRONG_COLOR,
    ArrowItem,
    CopyItem,
    SegmentBand,
    box_size,
    spread,
)

COLUMN, ROW = 132.0, 74.0
# A whole-axis input's wires (every memory step to every copy that reads it: hundreds) before
# they have weights: faint enough that the other wires still read through them.
MEMORY_OPACITY = 0.25
# The most steps of a data axis the view draws and steps through (T): every step is a copy of
# each per-step node on screen. The data, training and the command line take sequences up to
# the core's limit, rnn_builder.graph.nodes.MAX_STEPS, through the same resolver
# (unroll.axis_lengths).
DRAWN_STEPS = 200


class UnrolledScene(QGraphicsScene):
    nodes_selected = Signal(object)  # set of folded node ids whose copies are selected

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.copies: dict[UnrolledKey, CopyItem] = {}
        self.edge_items: list[QGraphicsPathItem] = []
        # the wires of inputs read whole, by the copy that reads them: (memory step, wire)
        self.memory_edges: dict[UnrolledKey, list[tuple[UnrolledKey, QGraphicsPathItem]]] = {}
        self.unrolled: UnrolledGraph | None = None
        self.annotations: dict[UnrolledKey, QGraphicsSimpleTextItem] = {}
        self.bands: list[SegmentBand] = []  # the plan's segments, in the order they run
        self.note_cards: list[NoteCard] = []  # the project's notes, on the folded side
        self.direction_labels: list[QGraphicsSimpleTextItem] = []  # a bidirectional cell's
        self.truths: dict[UnrolledKey, QGraphicsSimpleTextItem] = {}  # true labels, stepping
        self.notes_of = lambda: []  # the notes to draw (the window gives the project's)
        self._syncing = False
        self.selectionChanged.connect(self._selection_changed)

    def show_unrolled(
        self, graph: Graph, unrolled: UnrolledGraph | None, problem: str = ""
    ) -> None:
        self._syncing = True
        self.clear()
        self.copies, self.edge_items, self.annotations, self.bands = {}, [], {}, []
        self.note_cards, self.direction_labels, self.truths = [], [], {}
        self.unrolled = unrolled
        self._syncing = False
        self.memory_edges = {}
        if unrolled is None:
            note = QGraphicsSimpleTextItem(problem or "Nothing to unroll.")
            note.setBrush(QBrush(canvas_colors()["text"]))
            self.addItem(note)
            return
        positions = layout(graph, unrolled)
        sharing = unrolled.sharing
        for key, (x, y) in positions.items():
            node = graph.node(key.node)
            color = CATEGORY_COLORS[graph.node_type(key.node).category]
            shared = ""
            tip = f"<b>{node.name}</b> ({graph.node_type(key.node).title})"
            tip += "" if key.t is None else f" at step {key.t}"
            if key.node in sharing:
                share = sharing[key.node]
                shared = "W"
                tip += (
                    f"<br>shares its {share.parameters:,} weights with the other "
                    f"{share.copies * share.directions - 1} copies"
                    if share.copies > 1
                    else f"<br>{share.parameters:,} weights"
                )
            item = CopyItem(key, node.name, color, shared)
            item.base_tip = tip
            item.setToolTip(tip)
            item.setPos(x, y)
            self.addItem(item)
            self.copies[key] = item
        for u, v, data in self._add_memory_edges(graph, unrolled.dag.edges(data=True)):
            self._add_edge(self.copies[u], self.copies[v], data["kind"])
        width, height = box_size()
        for segment in unrolled.plan:
            around = QRectF()
            for key in segment.copies:
                around = around.united(QRectF(self.copies[key].pos(), QSizeF(width, height)))
            band = SegmentBand(segment, segment.label(graph), around)
            self.addItem(band)
            self.bands.append(band)
        self._label_directions(graph)
        self._draw_notes(graph)

    def _label_directions(self, graph: Graph) -> None:
        """A bidirectional cell's two rows say which way each reads, at their right end:
        "→ forward" and "← reverse", in their state edges' colours."""
        ends: dict[tuple[str, str], CopyItem] = {}
        for key, item in self.copies.items():
            if key.direction in ("forward", "reverse") and key.t is not None:
                known = ends.get((key.node, key.direction))
                if known is None or item.x() > known.x():
                    ends[(key.node, key.direction)] = item
        nodes_with_both = {n for n, d in ends if d == "reverse"}
        width, height = box_size()
        for (node_id, direction), item in ends.items():
            if node_id not in nodes_with_both:
                continue
            name = graph.node(node_id).name
            label = QGraphicsSimpleTextItem(
                f"→ {name} forward" if direction == "forward" else f"← {name} reverse"
            )
            font = QFont(label.font())
            font.setPointSizeF(8.5 * text_scale())
            font.setBold(True)
            label.setFont(font)
            label.setBrush(QBrush(EDGE_COLORS["state" if direction == "forward" else "reverse"]))
            label.setPos(
                item.x() + width + 14, item.y() + (height - label.boundingRect().height()) / 2
            )
            self.addItem(label)
            self.direction_labels.append(label)

    def _draw_notes(self, graph: Graph) -> None:
        """Each note left of the first step, beside the row of the node nearest it on the
        canvas (stacked downwards where two would meet), a faint line to that row."""
        notes = list(self.notes_of())
        if not notes or not self.copies:
            return
        left = min(item.x() for item in self.copies.values()) - NOTE_WIDTH - 70
        rows: dict[str, CopyItem] = {}
        for key, item in self.copies.items():  # each node's first copy, leftmost
            if key.node not in rows or item.x() < rows[key.node].x():
                rows[key.node] = item
        placed_bottom = -1e18
        ordered = []
        for note in notes:
            near = note.nearest_node(graph, rows)
            ordered.append((rows[near].y(), note, rows[near]))
        for y, note, row in sorted(ordered, key=lambda entry: entry[0]):
            card = NoteCard(note.id, note.text)
            top = max(y, placed_bottom + 12)
            card.setPos(left, top)
            self.addItem(card)
            self.note_cards.append(card)
            placed_bottom = top + card.card().height()
            line = QGraphicsPathItem()
            path = QPainterPath(QPointF(left + NOTE_WIDTH, top + 18))
            path.lineTo(QPointF(row.x() - 6, row.y() + row.height / 2))
            line.setPath(path)
            pen = QPen(canvas_colors()["muted"], 1.0, Qt.PenStyle.DotLine)
            line.setPen(pen)
            line.setZValue(-1)
            self.addItem(line)

    def _add_edge(self, source: CopyItem, target: CopyItem, kind: str) -> None:
        """A wire from ``source`` to ``target`` with an arrowhead where it arrives. A state
        edge of the reverse direction runs right to left in a colour of its own, as strong
        as the forward one's; a data edge up a column that passes other rows (into or out of
        a bidirectional cell's second row) goes round them, through the gap beside the
        column, instead of under their boxes."""
        a, b = source.pos(), target.pos()
        width, height = source.width, source.height
        path = QPainterPath()
        reverse = kind == "state" and b.x() < a.x()
        if reverse:  # reverse direction: right to left
            start = QPointF(a.x(), a.y() + height / 2)
            end = QPointF(b.x() + width, b.y() + height / 2)
            path.moveTo(start)
            middle = (start.x() + end.x()) / 2
            path.cubicTo(QPointF(middle, start.y()), QPointF(middle, end.y()), end)
        elif abs(a.x() - b.x()) < 1:  # same column: up (or down) the column
            up = b.y() < a.y()
            start = QPointF(a.x() + width / 2, a.y() if up else a.y() + height)
            end = QPointF(b.x() + width / 2, b.y() + height if up else b.y())
            path.moveTo(start)
            if abs(a.y() - b.y()) > ROW * spread() * 1.5:  # rows between: round them
                right = "reverse" in (source.key.direction, target.key.direction)
                side = (a.x() + width + 9) if right else (a.x() - 9)
                shift = QPointF(width * (0.3 if right else -0.3), 0)
                step = -12.0 if up else 12.0
                path.moveTo(start + shift)
                path.cubicTo(
                    start + shift + QPointF(0, step),
                    QPointF(side, start.y() + step),
                    QPointF(side, start.y() + 3 * step),
                )
                path.lineTo(QPointF(side, end.y() - 3 * step))
                path.cubicTo(
                    QPointF(side, end.y() - step),
                    end + shift - QPointF(0, step),
                    end + shift,
                )
            else:
                path.lineTo(end)
        else:
            start = QPointF(a.x() + width, a.y() + height / 2)
            end = QPointF(b.x(), b.y() + height / 2)
            path.moveTo(start)
            middle = (start.x() + end.x()) / 2
            path.cubicTo(QPointF(middle, start.y()), QPointF(middle, end.y()), end)
        color = EDGE_COLORS["reverse" if reverse else kind]
        pen = QPen(color, 2.0 if kind == "state" else 1.3)
        if kind == "delay":
            pen.setStyle(Qt.PenStyle.DashLine)
        item = ArrowItem(path, pen, 7.0 if kind == "state" else 6.0)
        item.ends = (source.key, target.key)
        item.kind = "reverse" if reverse else kind
        item.setZValue(-1)
        item.setToolTip(
            {
                "data": "data at one step",
                "state": "the cell's state, step to step"
                + (" (reverse direction: from step t+1 to t)" if reverse else ""),
                "delay": "through the Delay: step t-1 to step t",
            }[kind]
        )
        self.addItem(item)
        self.edge_items.append(item)

    def _add_memory_edges(self, graph: Graph, edges) -> list:
        """Draw the wires into ports read whole (``PortSpec.whole_axis``); the other edges
        are given back, for ``_add_edge``."""
        others = []
        for u, v, data in edges:
            if data["dst_port"] in graph.node_type(v.node).whole_axis_ports():
                self._add_memory_edge(u, v)
            else:
                others.append((u, v, data))
        return others

    def _add_memory_edge(self, u: UnrolledKey, v: UnrolledKey) -> None:
        """A thin wire in the reader's colour from a step of a sequence read whole to a copy
        that reads it: up out of the step's top (not through its row's next boxes), into the
        reader's side."""
        source, target = self.copies[u], self.copies[v]
        box = source.boundingRect().adjusted(4, 4, -4, -4)  # the copy's box (its size)
        start = source.pos() + QPointF(box.width() / 2, 0)
        end = target.pos() + QPointF(0, box.height() / 2)
        rise = max(abs(start.y() - end.y()) * 0.6, box.height())
        path = QPainterPath(start)
        path.cubicTo(
            QPointF(start.x(), start.y() - rise), QPointF(end.x() - COLUMN / 2, end.y()), end
        )
        item = QGraphicsPathItem(path)
        item.setPen(QPen(target.color.darker(115), 1.0))
        item.setOpacity(MEMORY_OPACITY)
        item.setZValue(-1.5)  # under the other wires
        item.setToolTip("read whole: every step of the memory, at each step of the reader")
        self.addItem(item)
        self.edge_items.append(item)
        self.memory_edges.setdefault(v, []).append((u, item))

    def show_alignments(self, alignments: dict, computed) -> None:
        """Give the wires into each copy in ``computed`` the weight that copy gave each step it
        read (``alignments``: by node, ``(T_reader, T_memory)``) as their opacity; the other
        copies' stay faint."""
        for target, wires in self.memory_edges.items():
            weights = alignments.get(target.node)
            known = weights is not None and target in computed and target.t < len(weights)
            for source, item in wires:
                if known and source.t is not None and source.t < weights.shape[1]:
                    weight = float(weights[target.t, source.t])
                    item.setOpacity(min(max(weight, 0.0), 1.0))
                    tip = f"weight {weight:.3f}: step {target.t} looked at step {source.t}"
                else:
                    item.setOpacity(MEMORY_OPACITY)
                    tip = "read whole: every step of the memory, at each step of the reader"
                if item.toolTip() != tip:
                    item.setToolTip(tip)

    # --- selection, both ways --------------------------------------------------------------

    def _selection_changed(self) -> None:
        if self._syncing:
            return
        chosen = {item.key.node for item in self.selectedItems() if isinstance(item, CopyItem)}
        self.nodes_selected.emit(chosen)

    def select_nodes(self, node_ids) -> None:
        wanted = set(node_ids)
        self._syncing = True
        try:
            for key, item in self.copies.items():
                item.setSelected(key.node in wanted)
        finally:
            self._syncing = False

    def light(self, keys, computed=None) -> None:
        """Highlight the copies of one step (for stepping); with ``computed``, the copies not
        in it are drawn faded (not computed yet)."""
        wanted = set(keys)
        for key, item in self.copies.items():
            item.set_lit(key in wanted, computed is not None and key not in computed)
        for band in self.bands:
            band.set_current(not band.copies.isdisjoint(wanted))

    def annotate(
        self, key: UnrolledKey, text: str, truth: str = "", right: bool | None = None
    ) -> None:
        """A line of text over a copy (an output's prediction at its step), and with
        ``truth`` the true label on a line above it (green when the prediction is ``right``,
        red when not)."""
        item = self.copies.get(key)
        if item is None:
            return
        label = self._label(self.annotations, key, bold=True)
        label.setText(text)
        # above the copy, and above its segment's band with the band's own label
        top = min([item.y(), *(band.rect.top() for band in self.bands if key in band.copies)])
        line = label.boundingRect().height()
        label.setPos(item.x() + (item.width - label.boundingRect().width()) / 2, top - line - 2)
        if not truth:
            old = self.truths.pop(key, None)
            if old is not None:
                self.removeItem(old)
            return
        shown = self._label(self.truths, key, bold=False)
        shown.setText(truth)
        if right is not None:
            shown.setBrush(QBrush(RIGHT_COLOR if right else WRONG_COLOR))
        shown.setPos(item.x() + (item.width - shown.boundingRect().width()) / 2, label.y() - line)

    def _label(self, labels: dict, key: UnrolledKey, bold: bool) -> QGraphicsSimpleTextItem:
        label = labels.get(key)
        if label is None:
            label = QGraphicsSimpleTextItem()
            font = QFont(label.font())
            font.setPointSizeF(8.0 * text_scale())
            font.setBold(bold)
            label.setFont(font)
            label.setBrush(QBrush(canvas_colors()["text"]))
            self.addItem(label)
            labels[key] = label
        return label

    def show_reads(self, reads: dict[UnrolledKey, str]) -> None:
        """Each input copy shows what it reads of the example being stepped (nothing, when
        ``reads`` is empty)."""
        for key, item in self.copies.items():
            item.set_reads(reads.get(key, ""))

    def clear_annotations(self) -> None:
        """Take the predictions and true labels off (what the inputs read stays: see
        :meth:`show_reads`)."""
        for label in [*self.annotations.values(), *self.truths.values()]:
            self.removeItem(label)
        self.annotations = {}
        self.truths = {}


def layout(graph: Graph, unrolled: UnrolledGraph) -> dict[UnrolledKey, tuple[float, float]]:
    """Scene positions of every copy: time in columns, layers in rows (inputs at the bottom)."""
    report = unrolled.report
    axes = report.node_axes
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}

    def block(node_id: str) -> str:
        return f"axis:{axes[node_id]}" if node_id in axes else f"node:{node_id}"

    blocks = nx.DiGraph()
    blocks.add_nodes_from(block(n) for n in graph.nodes)
    for edge in graph.edges:
        a, b = block(edge.src_node), block(edge.dst_node)
        if a != b:
            blocks.add_edge(a, b)
    width = {b: (unrolled.steps[b[5:]] if b.startswith("axis:") else 1) for b in blocks}
    condensed = nx.condensation(blocks)
    start: dict[str, int] = {}
    end_of_component: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        members = condensed.nodes[component]["members"]
        first = max((end_of_component[p] for p in condensed.predecessors(component)), default=0)
        column = first
        # a time axis first, then the vector nodes that read it (a cycle through h_0 is drawn
        # as a wire going back)
        for member in sorted(members, key=lambda m: (not m.startswith("axis:"), m)):
            start[member] = column
            column += width[member]
        end_of_component[component] = column
    rows: dict[tuple[str, str], int] = {}
    ranked = sorted(graph, key=lambda n: (n.position[0], n.position[1], order[n.id]))
    row = 0
    for node in ranked:
        directions = graph.node_type(node.id).directions(node.info()) if node.id in axes else ("",)
        for direction in directions:
            rows[(node.id, direction)] = row
            row += 1
    positions = {}
    for key in unrolled.schedule:
        column = start[block(key.node)] + (key.t or 0)
        grow = spread()
        positions[key] = (column * COLUMN * grow, -rows[(key.node, key.direction)] * ROW * grow)
    return positions
