"""Text on the canvas can be read: port labels of a readable size at 100 %, and where Fit to
view zooms out so far that they could not be, the nodes draw their titles alone, large enough
to read (issue 23: Fit used to stop at a readable zoom and leave the outputs a pan away)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from rnn_builder.files.templates import template_names
from ui.canvas.style import LABEL_POINT_SIZE, READABLE_ZOOM


def _label_size_px(view) -> float:
    """The port labels' font size in pixels on screen (a font's size: the em, not a glyph)."""
    return LABEL_POINT_SIZE * view.logicalDpiY() / 72 * view.zoom()


def test_port_labels_are_readable_at_100_percent(window):
    window.view.set_zoom(1.0)
    assert _label_size_px(window.view) >= 12.0


@pytest.mark.parametrize("template", template_names())
def test_every_template_fits_whole_and_readable_in_a_small_window(make_window, qtbot, template):
    window = make_window(template)
    window.resize(900, 600)  # a laptop-sized window: wide templates no longer fit at 65 %
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F)  # Fit to view
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    for item in window.scene.node_items.values():
        assert shown.contains(item.mapRectToScene(item.card_rect()))
    window.view.viewport().grab()  # paint
    zoom = window.view.zoom()
    for item in window.scene.node_items.values():
        if zoom >= READABLE_ZOOM:
            assert item.drawn_detail == "full" and _label_size_px(window.view) >= 8.0
        else:  # labels would be too small: the title alone, and readable
            assert item.drawn_detail == "titles" and item.title_pixels(zoom) >= 9.0
