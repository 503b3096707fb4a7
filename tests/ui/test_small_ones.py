"""Issue 23's small ones, each as a person meets it: the inspector says why it refuses a name
or a value; gradient flow's words agree with its number; the sample's temperature shows what it
does; a project switch resets the sample and T; View → Theme shows the theme in use; the Hidden
state's Cell list and the probe's message are not cut off."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget

from .conftest import type_into


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()


def _inspect(window, qtbot, node: str):
    window.findChild(QDockWidget, "inspector_dock").raise_()
    window.scene.select_nodes([node])
    qtbot.waitUntil(lambda: window.inspector.node_id == node)
    return window.inspector


def test_the_inspector_refuses_a_name_another_node_has_and_says_why(window, qtbot):
    _active(window, qtbot)
    inspector = _inspect(window, qtbot, "embed")
    name = inspector.editors["name"]
    type_into(name, "reader")  # the LSTM's name
    graph = window.document.graph
    assert graph.node("embed").name == "embed" and name.text() == "embed"
    assert "already called 'reader'" in inspector.error.text()
    assert window.document.undo_stack.count() == 0


def test_the_inspector_says_why_a_value_is_refused(window, qtbot):
    _active(window, qtbot)
    inspector = _inspect(window, qtbot, "reader")
    size = inspector.editors["hidden_size"]
    type_into(size, "0")
    assert size.value() == 32 == window.document.graph.node("reader").params["hidden_size"]
    said = inspector.error.text()
    assert "must be at least 1, not 0" in said and "stays 32" in said


def test_the_training_panel_says_why_a_setting_is_refused(window, qtbot):
    _active(window, qtbot)
    dock = window.findChild(QDockWidget, "training_dock")
    dock.raise_()
    panel = window.live.panel
    batch = panel.editors["batch_size"]
    qtbot.waitUntil(lambda: not batch.visibleRegion().isEmpty())
    type_into(batch, "0")
    assert batch.value() == 32 and panel.setting_error.isVisible()
    assert "batch_size must be between 1 and 65536, not 0" in panel.setting_error.text()


def _click_tab(window, qtbot, title: str) -> None:
    from PySide6.QtWidgets import QTabBar

    for bar in window.findChildren(QTabBar):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                QTest.mouseClick(
                    bar,
                    Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier,
                    bar.tabRect(index).center(),
                )
                return
    raise AssertionError(f"no tab {title!r}")


def test_gradient_flow_words_agree_with_the_number(make_window, qtbot):
    """A 17-fold drop was described as flowing 'without vanishing' next to '0.057 ×'."""
    from types import SimpleNamespace

    import numpy as np

    window = make_window("many_to_many_equal")  # a tagger: a loss at every step
    norms = {"tagger": {"forward": list(np.geomspace(0.057, 1.0, 8))}}
    window.live.session.reports = [
        SimpleNamespace(state_grad_norms=norms, connectivity=norms, grad_norm=1.0)
    ]
    _click_tab(window, qtbot, "Gradient flow")
    view = window.live.gradients
    qtbot.waitUntil(lambda: "first step" in view.warning.text())
    said = view.warning.text()
    assert "18 times smaller at the first step than at the last" in said
    assert "less than the 1,000-fold drop this view calls vanishing" in said
    assert "without vanishing" not in said and "0.057 ×" not in said


def test_the_temperature_shows_what_the_sample_is_drawn_from(make_window, qtbot):
    """At T = 2.0 a trained arpeggio played the same notes 10 times in 10: the slider looked
    broken. The distribution the sample is drawn from, and its entropy, follow the slider."""
    window = make_window("one_to_many")  # the arpeggio
    _active(window, qtbot)
    window.findChild(QDockWidget, "training_dock").raise_()
    box = window.live.panel.sample_box
    qtbot.waitUntil(lambda: not box.sample_button.visibleRegion().isEmpty())
    qtbot.mouseClick(box.sample_button, Qt.MouseButton.LeftButton)
    view = box.drawn_view
    assert view.isVisible() and len(view.drawn) == 4  # an arpeggio's four notes
    assert "bits" in view.words.text() and len(view.bars.rows) == 6
    slider = box.temperature
    slider.setFocus()
    QTest.keyClick(slider, Qt.Key.Key_End)  # T = 2.00
    hot = (view.entropy(view.temperature), view.bars.rows[0][1])
    assert view.temperature == 2.0 and "T = 2.00" in view.words.text()
    QTest.keyClick(slider, Qt.Key.Key_Home)  # T = 0.05
    cold = (view.entropy(view.temperature), view.bars.rows[0][1])
    assert cold[0] < hot[0] and cold[1] > hot[1]  # sharper: less uncertain, a likelier top
    assert "T = 0.05" in view.words.text()


def test_another_project_starts_with_its_own_sample_text_and_t(make_window, qtbot):
    window = make_window("stacked_lstm")  # a language model: it samples text
    _active(window, qtbot)
    window.findChild(QDockWidget, "training_dock").raise_()
    box = window.live.panel.sample_box
    qtbot.waitUntil(lambda: not box.prime_text.visibleRegion().isEmpty())
    box.prime_text.setFocus()
    QTest.keyClicks(box.prime_text, "once upon ")
    qtbot.mouseClick(box.sample_button, Qt.MouseButton.LeftButton)
    assert box.sample_output.text().startswith("once upon ")
    type_into(window.steps, "9")
    assert window.steps.value() == 9
    window.choose_template = lambda: "stacked_lstm"  # the gallery, answered
    window.new_action.trigger()  # File → New from template: another project
    assert box.sample_output.text() == "" and box.prime_text.text() == ""
    assert not box.drawn_view.isVisible() and window.steps.value() == 5


def test_view_theme_ticks_the_theme_in_use(window, qtbot):
    from PySide6.QtCore import QPoint

    views = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    themes = next(a.menu() for a in views.actions() if a.text() == "&Theme")
    themes.popup(window.mapToGlobal(QPoint(20, 20)))  # as a person opens it
    qtbot.waitUntil(themes.isVisible)
    ticked = [a.text() for a in themes.actions() if a.isChecked()]
    assert ticked == ["System"]
    dark = next(a for a in themes.actions() if a.text() == "Dark")
    QTest.mouseClick(themes, Qt.MouseButton.LeftButton, pos=themes.actionGeometry(dark).center())
    try:
        assert [a.text() for a in themes.actions() if a.isChecked()] == ["Dark"]
    finally:
        window.apply_theme("system")
    assert [a.text() for a in themes.actions() if a.isChecked()] == ["System"]


def test_the_hidden_states_cell_list_is_as_wide_as_the_names_it_holds(make_window, qtbot):
    """It kept the width of the first project's names: 'encoder' showed as 'encode'."""
    window = make_window("many_to_one")  # its cell: 'reader'
    _click_tab(window, qtbot, "Hidden state")
    cells = window.live.hidden.cell
    qtbot.waitUntil(lambda: not cells.visibleRegion().isEmpty())
    window.choose_template = lambda: "many_to_many_unequal"  # 'encoder', 'decoder'
    window.new_action.trigger()
    names = [cells.itemText(i) for i in range(cells.count())]
    assert "encoder" in names
    widest = max(cells.fontMetrics().horizontalAdvance(n) for n in names)
    qtbot.waitUntil(lambda: cells.width() >= widest + 24)  # the text and the arrow
    flow = window.live.gradients.cell
    assert flow.sizeHint().width() >= widest + 24


def test_a_bad_chord_is_said_whole_in_the_toolbar(make_window, qtbot):
    window = make_window("one_to_many")  # the arpeggio reads a chord
    _active(window, qtbot)
    box = window.live.probe_box  # the stepping toolbar's
    box.edit.setFocus()
    QTest.keyClicks(box.edit, "H minor")
    QTest.keyClick(box.edit, Qt.Key.Key_Return)
    import html

    shown = html.unescape(box.message.text())
    assert "'A minor' or 'F# major'" in shown and "…" not in shown
    qtbot.waitUntil(lambda: box.message.width() >= box.message.sizeHint().width())
    assert not box.message.visibleRegion().isEmpty()
