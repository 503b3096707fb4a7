"""Pictures of a canvas: PNG (at twice the screen's resolution) and SVG."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from ui.canvas.style import canvas_colors


def scene_picture_rect(scene: QGraphicsScene, margin: float = 30.0) -> QRectF:
    return scene.itemsBoundingRect().adjusted(-margin, -margin, margin, margin)


def export_scene(scene: QGraphicsScene, path: str | Path, scale: float = 2.0) -> Path:
    """Write the scene's contents to ``path``: SVG for ``.svg``, otherwise PNG. Raises
    ``OSError`` with a message when the file cannot be written."""
    path = Path(path)
    source = scene_picture_rect(scene)
    if source.isEmpty():
        source = QRectF(0, 0, 100, 100)
    selected = scene.selectedItems()
    for item in selected:  # pictures show the network, not the selection
        item.setSelected(False)
    cached = [
        (item, item.cacheMode())
        for item in scene.items()
        if item.cacheMode() != QGraphicsItem.CacheMode.NoCache
    ]
    for item, _mode in cached:  # draw for real (vectors in SVG, full resolution in PNG)
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        if path.suffix.lower() == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(int(source.width()), int(source.height())))
            generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
            generator.setTitle("RNN Builder network")
            painter = QPainter(generator)
            painter.fillRect(
                QRectF(0, 0, source.width(), source.height()), canvas_colors()["background"]
            )
            scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
            painter.end()
            if not path.exists() or path.stat().st_size == 0:
                raise OSError(f"could not write '{path}'")
        else:
            size = QSize(int(source.width() * scale), int(source.height() * scale))
            image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(canvas_colors()["background"])
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            scene.render(
                painter,
                QRectF(0, 0, size.width(), size.height()),
                source,
                Qt.AspectRatioMode.KeepAspectRatio,
            )
            painter.end()
            if not image.save(str(path), "PNG"):
                raise OSError(f"could not write '{path}' (is the folder writable?)")
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
        for item in selected:
            item.setSelected(True)
    return path
