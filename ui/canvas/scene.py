"""The scene: one item per node and wire of a graph model, kept in step by the model's events.

The scene never edits the model. It subscribes to the graph's events, keeps an id → item map,
and after every change re-validates the graph to relabel ports with their inferred shapes and
to outline nodes that have problems.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtWidgets import QGraphicsScene

from rnn_builder.graph import Edge, Graph, Node
from rnn_builder.validation import ValidationReport, validate

from .edge_item import EdgeItem
from .node_item import NodeItem


class GraphScene(QGraphicsScene):
    validated = Signal(object)  # ValidationReport after every change

    def __init__(self, graph: Graph, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self.report: ValidationReport | None = None
        self._subscriptions = [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.edge_added, self._on_edge_added),
            (graph.edge_removed, self._on_edge_removed),
            (graph.param_changed, self._on_param_changed),
            (graph.position_changed, self._on_position_changed),
            (graph.name_changed, self._on_name_changed),
        ]
        for event, callback in self._subscriptions:
            event.subscribe(callback)
        for node in graph:
            self._on_node_added(node, refresh=False)
        for edge in graph.edges:
            self._on_edge_added(edge, refresh=False)
        self.refresh()

    def detach(self) -> None:
        """Stop following the model (before the scene is dropped)."""
        for event, callback in self._subscriptions:
            event.unsubscribe(callback)

    def items_bounds(self) -> QRectF:
        return self.itemsBoundingRect()

    # --- model events -----------------------------------------------------------------------

    def _on_node_added(self, node: Node, refresh: bool = True) -> None:
        item = NodeItem(node, self.graph.registry.get(node.type_name))
        self.node_items[node.id] = item
        self.addItem(item)
        if refresh:
            self.refresh()

    def _on_node_removed(self, node: Node) -> None:
        item = self.node_items.pop(node.id, None)
        if item is not None:
            self.removeItem(item)
        self.refresh()

    def _on_edge_added(self, edge: Edge, refresh: bool = True) -> None:
        item = EdgeItem(edge)
        self.edge_items[edge] = item
        self.addItem(item)
        self._route(item)
        if refresh:
            self.refresh()

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edge_items.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        self.refresh()

    def _on_param_changed(self, node_id: str, name: str, old: object, new: object) -> None:
        self.node_items[node_id].update_from_node(self.graph.node(node_id))
        self.refresh()

    def _on_name_changed(self, node_id: str, old: str, new: str) -> None:
        self.node_items[node_id].update_from_node(self.graph.node(node_id))
        self.refresh()

    def _on_position_changed(self, node_id: str, old: object, new: tuple[float, float]) -> None:
        item = self.node_items[node_id]
        item.setPos(*new)
        for edge in self.graph.edges_touching(node_id):
            self._route(self.edge_items[edge])

    # --- drawing ----------------------------------------------------------------------------

    def _route(self, item: EdgeItem) -> None:
        edge = item.edge
        src = self.node_items[edge.src_node].port(edge.src_port, is_input=False)
        dst = self.node_items[edge.dst_node].port(edge.dst_port, is_input=True)
        if src is not None and dst is not None:
            item.set_ends(src.scene_anchor(), dst.scene_anchor())

    def refresh(self) -> None:
        """Re-validate, then relabel ports, colour wires and outline problem nodes."""
        report = validate(self.graph)
        self.report = report
        shapes = report.shapes
        for node_id, item in self.node_items.items():
            connected = {e.dst_port for e in self.graph.edges_into(node_id)}
            connected |= {f"out:{e.src_port}" for e in self.graph.edges_out_of(node_id)}
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
