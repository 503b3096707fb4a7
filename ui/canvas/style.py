"""Colours and sizes of the canvas, in one place so that themes can change them."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from rnn_builder.graph.nodes import CATEGORIES

CATEGORY_COLORS = dict(
    zip(
        CATEGORIES,
        (
            QColor("#3f9b5b"),  # inputs: green
            QColor("#4f6fd6"),  # recurrent cells: blue
            QColor("#d98a2b"),  # layers: orange
            QColor("#2a9ca6"),  # time: teal
            QColor("#c9485b"),  # outputs: red
        ),
        strict=True,
    )
)
KIND_COLORS = {"seq": QColor("#4f6fd6"), "vec": QColor("#8a8f98"), None: QColor("#b0b4ba")}
ERROR_COLOR = QColor("#e0413a")
WARNING_COLOR = QColor("#e0a030")
SELECTION_COLOR = QColor("#f2c14e")

NODE_WIDTH = 176.0
HEADER_HEIGHT = 40.0
PORT_ROW_HEIGHT = 22.0
PORT_RADIUS = 5.5
CORNER_RADIUS = 7.0
GRID_SIZE = 20.0
TITLE_POINT_SIZE = 10.5
LABEL_POINT_SIZE = 9.5  # port labels and subtitles: 12.7 px at 100 % (they were 10.4)
# Below this zoom port labels would be under 8 px, about the smallest text people read on a
# screen without leaning in (they were 5-7 px on a fitted wide template): a node drawn smaller
# shows its title, large enough to read, and no port labels (its level of detail).
READABLE_ZOOM = 0.65
SMALLEST_TITLE_PX = 10.0  # a title at any zoom that draws one: what 8-px labels were not


def is_dark() -> bool:
    app = QApplication.instance()
    if app is None:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def canvas_colors() -> dict[str, QColor]:
    """Background, grid, node body and text colours for the current (light or dark) palette."""
    if is_dark():
        return {
            "background": QColor("#1f2226"),
            "grid_minor": QColor("#262a2f"),
            "grid_major": QColor("#2e3339"),
            "body": QColor("#2c3036"),
            "border": QColor("#4a5059"),
            "text": QColor("#e8eaed"),
            "muted": QColor("#a0a6ae"),
        }
    return {
        "background": QColor("#f4f5f7"),
        "grid_minor": QColor("#eaecef"),
        "grid_major": QColor("#dde0e4"),
        "body": QColor("#ffffff"),
        "border": QColor("#c4c9d0"),
        "text": QColor("#1d2025"),
        "muted": QColor("#6b7280"),
    }
