"""Figures for slides: every plot and heatmap exported as PNG or SVG (issue 24 §3).

Each view that draws (the loss plots, the gradient flow, the hidden state) has an *Export…*
button beside its controls; it writes the view's plots — not its controls, lists or scroll
bars — as they are laid out on screen, side by side: PNG at twice the screen's resolution, SVG
with the curves, axes and text as vectors (a heatmap is an image inside it, as it is on
screen). The file dialog starts beside the project, named after it and the view.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QFileDialog, QToolButton, QWidget

PNG_SCALE = 2.0


def export_widgets(root: QWidget, widgets: list[QWidget], path: str | Path, title: str) -> Path:
    """Draw ``widgets`` (children of ``root``) as they sit in it into ``path``: SVG for
    ``.svg``, PNG otherwise. Raises ``OSError`` when the file cannot be written, or when there
    is nothing to draw yet."""
    path = Path(path)
    shown = [w for w in widgets if w is not None and w.width() > 0 and w.height() > 0]
    if not shown:
        raise OSError("there is nothing drawn to export yet")
    places = [QRect(w.mapTo(root, QPoint(0, 0)), w.size()) for w in shown]
    bounds = places[0]
    for place in places[1:]:
        bounds = bounds.united(place)
    background = QApplication.palette().color(QPalette.ColorRole.Window)
    size = bounds.size()

    def draw(painter: QPainter) -> None:
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), background)
        for widget, place in zip(shown, places, strict=True):
            # QWidget's render (the widget as on screen), not QGraphicsView's (its scene)
            QWidget.render(widget, painter, place.topLeft() - bounds.topLeft())

    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRect(QPoint(0, 0), size))
        generator.setTitle(title)
        painter = QPainter(generator)
        draw(painter)
        painter.end()
        if not path.exists() or path.stat().st_size == 0:
            raise OSError(f"could not write '{path}'")
        return path
    image = QImage(
        QSize(round(size.width() * PNG_SCALE), round(size.height() * PNG_SCALE)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.fill(background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(PNG_SCALE, PNG_SCALE)
    draw(painter)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write '{path}' (is the folder writable?)")
    return path


class ExportsFigure:
    """A view whose plots can be exported: it says which widgets are its figure
    (:meth:`figure_widgets`) and what the figure is called (``figure_name``, for the file and
    the SVG's title); :meth:`export_button` is the button to put beside its controls."""

    figure_name = "figure"
    figure_title = "Figure"

    def figure_widgets(self) -> list[QWidget]:
        raise NotImplementedError

    def export_button(self) -> QToolButton:
        button = QToolButton()
        button.setText("Export…")
        button.setObjectName("export_figure")
        button.setToolTip(f"Save the {self.figure_title.lower()} as a picture (PNG or SVG)")
        button.clicked.connect(lambda: self.export_figure())
        return button

    def export_figure(self, path: str | Path | None = None) -> Path | None:
        """Ask where (unless ``path`` is given) and write the figure; say what happened in the
        window's status bar."""
        build = getattr(self, "build", None)
        if build is not None:
            build()  # a view never shown yet draws first
        window = self.window()
        if path is None:
            start = ""
            suggest = getattr(window, "suggested_path", None)
            if suggest is not None:
                start = str(suggest(f"_{self.figure_name}.png"))
            path, _ = QFileDialog.getSaveFileName(
                self,
                f"Export the {self.figure_title.lower()}",
                start,
                "PNG image (*.png);;SVG (*.svg)",
            )
            if not path:
                return None
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_name(path.name + ".png")
        try:
            written = export_widgets(self, self.figure_widgets(), path, self.figure_title)
        except OSError as error:
            if hasattr(window, "show_error"):
                window.show_error("Cannot export the figure", str(error))
            return None
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Exported {written}", 4000)
        return written
