"""Text on the canvas can be read: port labels of a readable size at 100 %, and Fit to view
never zooms out so far that they cannot (it leaves the rest to a pan instead)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from rnn_builder.files.templates import template_names
from ui.canvas.style import LABEL_POINT_SIZE, READABLE_ZOOM

SMALLEST_READABLE_PX = 8.0


def _label_size_px(view) -> float:
    """The port labels' font size in pixels on screen (a font's size: the em, not a glyph)."""
    return LABEL_POINT_SIZE * view.logicalDpiY() / 72 * view.zoom()


def test_port_labels_are_readable_at_100_percent(window):
    window.view.set_zoom(1.0)
    assert _label_size_px(window.view) >= 12.0


@pytest.mark.parametrize("template", template_names())
def test_every_template_opens_and_fits_at_a_readable_zoom(make_window, qtbot, template):
    window = make_window(template)
    window.resize(900, 600)  # a laptop-sized window: wide templates no longer fit
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F)  # Fit to view
    assert window.view.zoom() >= READABLE_ZOOM - 1e-9
    assert _label_size_px(window.view) >= SMALLEST_READABLE_PX
    # what is shown is the graph's start: its input nodes are in view
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    inputs = [
        item
        for node_id, item in window.scene.node_items.items()
        if window.document.graph.node(node_id).type_name in ("sequence_input", "vector_input")
    ]
    assert any(shown.intersects(item.sceneBoundingRect()) for item in inputs)
