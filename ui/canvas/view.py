"""The view onto the canvas: a dotted grid, zoom with the wheel around the cursor, pan by
dragging the background, and fit-to-contents."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

from .scene import GraphScene
from .style import GRID_SIZE, canvas_colors

MIN_ZOOM, MAX_ZOOM = 0.2, 3.0


class GraphView(QGraphicsView):
    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-20000, -20000, 40000, 40000))

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = min(MAX_ZOOM, max(MIN_ZOOM, factor))
        current = self.zoom()
        if current > 0:
            self.scale(factor / current, factor / current)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom() * math.pow(1.15, steps))
        event.accept()

    def fit_to_contents(self, margin: float = 40.0) -> None:
        scene = self.scene()
        bounds = scene.itemsBoundingRect() if scene is not None else QRectF()
        if bounds.isEmpty():
            return
        self.fitInView(
            bounds.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )
        if self.zoom() > 1.25:  # do not blow a small graph up
            self.set_zoom(1.25)
        self.centerOn(bounds.center())

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        colors = canvas_colors()
        painter.fillRect(rect, colors["background"])
        if self.zoom() < 0.35:
            return
        left = math.floor(rect.left() / GRID_SIZE) * GRID_SIZE
        top = math.floor(rect.top() / GRID_SIZE) * GRID_SIZE
        minor = QPen(colors["grid_major"], 1.6)
        minor.setCosmetic(True)
        painter.setPen(minor)
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += GRID_SIZE
            y += GRID_SIZE
        painter.drawPoints(points)
