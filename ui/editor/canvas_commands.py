"""Editing the graph on the canvas: adding a node (dropped from the palette, or placed in free
space), deleting, selecting all, and copy, cut, paste and duplicate through the clipboard.

A mixin of :class:`~ui.main_window.MainWindow`, which provides ``document``, ``scene``, ``view``,
``unrolled_action`` and ``show_error``.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF

from rnn_builder.errors import RNNBuilderError
from ui.canvas.placement import node_size
from ui.canvas.style import GRID_SIZE, NODE_WIDTH
from ui.editor import clipboard


class CanvasCommands:
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

    def arrange(self) -> None:
        """Lay the graph out (one undo step) and show all of it."""
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        graph = self.document.graph
        if self.document.arrange(lambda node_id: node_size(graph.node_type(node_id))):
            self.view.fit_to_contents()

    def delete_selection(self) -> None:
        if self.unrolled_action.isChecked():
            return
        self.document.remove(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        self.scene.select_nodes(self.document.graph.nodes)

    def copy(self) -> None:
        node_ids = self.scene.selected_node_ids()
        if node_ids:
            clipboard.put(clipboard.selection_as_json(self.document.graph, node_ids))

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self, offset: tuple[float, float] = (40.0, 40.0)) -> None:
        self._paste_json(clipboard.text(), offset)

    def duplicate(self) -> None:
        """Copies of the selection beside it (to the right, or the nearest free place)."""
        node_ids = self.scene.selected_node_ids()
        if node_ids:
            text = clipboard.selection_as_json(self.document.graph, node_ids)
            left = min(self.document.graph.node(n).position[0] for n in node_ids)
            right = max(self.scene.node_items[n].pos().x() + NODE_WIDTH for n in node_ids)
            self._paste_json(text, (right - left + GRID_SIZE * 2, 0.0), "Duplicate")

    def _paste_json(self, raw: str, offset: tuple[float, float], text: str = "Paste") -> None:
        try:
            selection = clipboard.selection_from_json(raw)
            if selection is None:
                return  # not ours: nothing to paste
            offset = self.scene.free_offset(selection[0], offset)  # never on top of nodes
            new_ids = self.document.paste(*selection, offset, text)
        except (ValueError, KeyError, TypeError, RNNBuilderError) as error:
            self.show_error("Cannot paste", f"The clipboard does not hold nodes that fit: {error}")
            return
        self.scene.select_nodes(new_ids)
