"""Colours and sizes of the canvas, in one place so that themes can change them."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from rnn_builder.graph.card import HEADER_HEIGHT as HEADER_HEIGHT
from rnn_builder.graph.card import NODE_WIDTH as NODE_WIDTH
from rnn_builder.graph.card import PORT_ROW_HEIGHT as PORT_ROW_HEIGHT
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

# A card's width, header and port rows are the core's (rnn_builder.graph.card): Arrange lays
# cards out without Qt, and the canvas draws them that size.
PORT_RADIUS = 5.5
CORNER_RADIUS = 7.0
LOOP_HEIGHT = 24.0  # a recurrent cell's loop above its card (within arrange's 40-px row gap)
GRID_SIZE = 20.0
TITLE_POINT_SIZE = 10.5
LABEL_POINT_SIZE = 9.5  # port labels and subtitles: 12.7 px at 100 % (they were 10.4)
# Below this zoom port labels would be under 8 px, about the smallest text people read on a
# screen without leaning in (they were 5-7 px on a fitted wide template): a node drawn smaller
# shows its title, large enough to read, and no port labels (its level of detail).
READABLE_ZOOM = 0.65
SMALLEST_TITLE_PX = 10.0  # a title at any zoom that draws one: what 8-px labels were not
TEXT_SIZES = (1.0, 1.25, 1.5, 2.0)  # View → Text size: for a projector, the back of the room
_text = {"scale": 1.0}


def text_scale() -> float:
    """View → Text size as a factor (1.0: 100 %): how much larger than on a desk every view
    draws its text. The graph views take it as their zoom and as the smallest text they draw
    (``READABLE_ZOOM`` and ``SMALLEST_TITLE_PX`` scaled by it: on a projector, port labels give
    way to titles sooner, and titles stay larger)."""
    return _text["scale"]


def set_text_scale(scale: float) -> None:
    _text["scale"] = float(scale)


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
