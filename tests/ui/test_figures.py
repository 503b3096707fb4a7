"""Every plot and heatmap can be exported as PNG or SVG (issue 24 §3): each view's Export…
button, clicked, asks where (the dialog answered here, as in ``test_file_menu.py``) and writes
the view's plots as they are laid out — not its controls."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QToolButton

from ui.training import figures
from ui.training.figures import export_widgets

from .test_live import TRAINING_TIMEOUT

VIEWS = {  # dock, view attribute
    "loss": ("loss_dock", "plots"),
    "gradient_flow": ("gradient_dock", "gradients"),
    "hidden_state": ("hidden_dock", "hidden"),
}


def _laid_out(view) -> bool:
    plots = view.figure_widgets()
    places = [QRect(p.mapTo(view, QPoint(0, 0)), p.size()) for p in plots]
    return (
        bool(plots)
        and all(p.isVisible() for p in plots)
        and all(place.left() >= 0 and place.right() < view.width() for place in places)
        and not any(a.intersects(b) for i, a in enumerate(places) for b in places[i + 1 :])
    )


@pytest.fixture
def trained(make_window, qtbot):
    window = make_window("many_to_one")
    assert window.live.session.start(max_steps=30)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    return window


@pytest.mark.parametrize("name", list(VIEWS))
def test_each_view_exports_its_plots_as_png_and_svg(trained, qtbot, tmp_path, monkeypatch, name):
    window = trained
    dock_name, attribute = VIEWS[name]
    view = getattr(window.live, attribute)
    window.live.docks[dock_name].raise_()
    window.fit_bottom_docks()
    if name == "hidden_state":
        qtbot.waitUntil(lambda: view.layout_widget is not None and not view.stale)
    else:
        qtbot.waitUntil(lambda: view.built)
    # and laid out, as a person sees it before reaching for the button: on a loaded machine the
    # raise and the docks' new height are still being laid out when `built` turns true (the
    # plots at Qt's default 640×480, or overlapping mid-resize)
    qtbot.waitUntil(lambda: _laid_out(view))
    asked = []
    answers = iter([str(tmp_path / f"{name}"), str(tmp_path / f"{name}.svg")])

    def save_file(_parent, title, start, filters, *_rest):
        asked.append((title, start, filters))
        return next(answers), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_file)
    drawn = []  # the plots' sizes as they were drawn: a late layout may resize them after

    def spy(root, widgets, path, title):
        drawn.append([w.size() for w in widgets if w is not None])
        return export_widgets(root, widgets, path, title)

    monkeypatch.setattr(figures, "export_widgets", spy)
    button = view.findChild(QToolButton, "export_figure")
    assert button is not None and button.isVisibleTo(window)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked[0][1].endswith(f"_{name}.png") and "SVG" in asked[0][2]
    picture = QImage(str(tmp_path / f"{name}.png"))
    assert not picture.isNull()
    plots = drawn[0]
    assert len(plots) == len(view.figure_widgets())
    assert picture.height() == 2 * max(p.height() for p in plots)  # the plots, at 2×
    assert picture.width() >= 2 * sum(p.width() for p in plots) - 4
    assert picture.width() < 2 * view.width()  # not the controls beside them
    colours = {
        picture.pixel(x, y)
        for x in range(0, picture.width(), 7)
        for y in range(0, picture.height(), 7)
    }
    assert len(colours) > 20  # something is drawn, not a blank

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    svg = (tmp_path / f"{name}.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<path" in svg or "<polyline" in svg  # axes and curves as vectors
    if name != "loss":  # a heatmap is an image inside it, as on screen
        assert "<image" in svg
    assert window.errors == []
