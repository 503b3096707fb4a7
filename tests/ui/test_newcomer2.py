"""What a newcomer meets (issue 15), the rest: Sample answers where the user looks and starts
from the user's chord or text; plots and texts that name the right metric and can be read;
probabilities that do not pass for confidence; and a start that imports no plotting.

Waits end on conditions (``qtbot.waitUntil``), never on fixed sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QDockWidget

from rnn_builder.training.tasks import music

ROOT = Path(__file__).resolve().parents[2]


def _dock(window, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def _in_front(window, name: str) -> bool:
    """Whether a dock can be seen (a tab behind another stays "visible" to Qt)."""
    return not _dock(window, name).visibleRegion().isEmpty()


# --- 7. Sample -------------------------------------------------------------------------------


def test_sample_from_the_menu_shows_its_result_and_brings_the_panel_forward(make_window, qtbot):
    window = make_window("one_to_many")
    _dock(window, "inspector_dock").raise_()  # the training tab is behind the inspector
    qtbot.waitUntil(lambda: not _in_front(window, "training_dock"))
    window.live.train_menu.sample_action.trigger()
    qtbot.waitUntil(lambda: _in_front(window, "training_dock"))
    notes = window.live.panel.sample_box.sample_output.text()
    assert len(notes.split()) == 4, notes
    status = window.statusBar().currentMessage()
    assert notes in status and "untrained" in status, status
    panel_box = window.live.panel.sample_box
    assert not panel_box.visibleRegion().isEmpty()  # scrolled to, not below the fold
    assert not window.errors


def test_music_samples_the_chord_the_user_picks(make_window, qtbot, monkeypatch):
    window = make_window("one_to_many")
    panel = window.live.panel
    box = panel.sample_box
    choice = box.prime_choice
    assert choice.isVisibleTo(panel) and not box.prime_text.isVisibleTo(panel)
    chords = [choice.itemText(i) for i in range(choice.count())]
    assert len(chords) == 36 and "A minor" in chords and "F# diminished" in chords
    assert choice.currentText() == "C major"  # what `sample` uses without --prime
    encoded = []
    encode = music.Arpeggio.encode

    def spy(self, text, options):
        encoded.append(text)
        return encode(self, text, options)

    monkeypatch.setattr(music.Arpeggio, "encode", spy)
    choice.setCurrentText("A minor")
    qtbot.mouseClick(box.sample_button, Qt.MouseButton.LeftButton)
    assert encoded == ["A minor"]
    assert box.sample_output.text()
    # how the notes were drawn is said beside them (each on its own, not from the one before)
    assert "independently of the notes drawn before it" in box.sample_note.text()
    assert box.sample_note.isVisibleTo(panel)


def test_a_language_model_samples_after_the_users_text(make_window, qtbot):
    window = make_window("stacked_lstm")
    panel = window.live.panel
    box = panel.sample_box
    assert box.prime_text.isVisibleTo(panel) and not box.prime_choice.isVisibleTo(panel)
    assert box.prime_text.placeholderText() == "the "
    qtbot.keyClicks(box.prime_text, "humpty ")
    qtbot.mouseClick(box.sample_button, Qt.MouseButton.LeftButton)
    text = box.sample_output.text()
    assert text.startswith("humpty ") and len(text) > len("humpty "), text


# --- 8. plots and texts ----------------------------------------------------------------------


def test_loss_axis_labels_never_share_a_place(make_window, qtbot):
    window = make_window("forecast")
    plots = window.live.plots
    _dock(window, "loss_dock").raise_()
    qtbot.waitUntil(lambda: plots.built)
    box = plots.loss_plot.getViewBox()
    axis = plots.loss_plot.getAxis("left")
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    height = box.height()
    # losses over less than a decade (0.7 to 0.95: 0.9, 0.8, 0.7 were drawn over each other),
    # over a few decades, and over many
    for low, high in ((0.7, 0.95), (0.701, 0.72), (0.02, 0.9), (1e-6, 2.0)):
        plots.loss_plot.setYRange(np.log10(low), np.log10(high), padding=0)
        qtbot.waitUntil(lambda: axis._tickLevels is not None)
        shown_low, shown_high = box.viewRange()[1]
        ticks = axis._tickLevels[0]
        assert 2 <= len(ticks) <= 6, (low, high, ticks)
        rows = sorted(height * (shown_high - v) / (shown_high - shown_low) for v, _t in ticks)
        gaps = np.diff(rows)
        assert np.all(gaps > metrics.height()), (low, high, ticks, gaps)


def test_a_regression_names_its_loss_and_shows_no_accuracy_from_the_start(make_window, qtbot):
    window = make_window("many_to_one")
    plots = window.live.plots
    _dock(window, "loss_dock").raise_()
    qtbot.waitUntil(lambda: plots.built and plots.metric_plot.isVisible())
    assert plots.metric_plot.getPlotItem().titleLabel.text == "Validation accuracy"
    window.new_project("forecast")  # a regression: mean squared error, no accuracy
    assert not plots.metric_plot.isVisible()
    assert "accuracy" not in plots.metric_plot.getPlotItem().titleLabel.text or (
        not plots.metric_plot.isVisible()
    )
    assert plots.loss_plot.getPlotItem().titleLabel.text == "Loss (mean squared error)"
    window.new_project("many_to_many_equal")
    assert plots.metric_plot.isVisible()
    assert plots.metric_plot.getPlotItem().titleLabel.text == "Validation token accuracy"


def test_run_names_are_not_cut_off(make_window, qtbot):
    window = make_window("stacked_lstm")  # two cells: a long name
    _dock(window, "loss_dock").raise_()
    for _ in range(2):
        runs = len(window.document.runs)
        qtbot.mouseClick(window.live.panel.run_controls.batch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda runs=runs: (
                not window.live.session.running and len(window.document.runs) == runs + 1
            ),
            timeout=60_000,
        )
    listing = window.live.plots.runs
    assert listing.count() == 2
    metrics = listing.fontMetrics()
    for i in range(listing.count()):
        item = listing.item(i)
        assert item.text().startswith(f"run {i + 1}: LSTM 64, LSTM 64 · ")
        # what can be seen of it: a row wider than the list runs off its edge
        rect = listing.visualItemRect(item).intersected(listing.viewport().rect())
        indicator = rect.height() if rect.height() < 2 * metrics.height() else metrics.height()
        width = rect.width() - indicator - 8  # the check box and its margins
        needed = metrics.boundingRect(
            QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, item.text()
        )
        assert needed.width() <= width and needed.height() <= rect.height(), (
            item.text(),
            rect,
            needed,
        )


def test_the_hidden_state_heatmap_has_room_at_start(make_window, qtbot):
    window = make_window("many_to_one")
    assert (window.width(), window.height()) == (1360, 840)
    hidden = window.live.hidden
    _dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: hidden.images.get("h") is not None)
    # one heatmap whole, its units readable (the docks grow once its tab is in front)
    qtbot.waitUntil(lambda: hidden.scroll.viewport().height() >= hidden.ROW_HEIGHT)


def test_a_prediction_says_its_p_is_not_a_calibrated_confidence(make_window, qtbot):
    window = make_window("many_to_one")
    live = window.live
    _dock(window, "hidden_dock").raise_()
    box = live.hidden.probe_box
    box.edit.setFocus()
    qtbot.keyClicks(box.edit, "bad")
    with qtbot.waitSignal(live.probe.changed):
        qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    prediction = live.probe.prediction
    assert "sure" not in prediction and "(p = " in prediction, prediction
    assert "not a calibrated confidence" in box.message.text()
    for shown in (box, live.probe_box):  # the toolbar's box says it in its tooltip
        assert "not a calibrated confidence" in shown.message.toolTip()
    # a regression's numbers need no such note
    window.new_project("forecast")
    live.probe_box.edit.setText("112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118")
    with qtbot.waitSignal(live.probe.changed):
        live.probe_box.edit.returnPressed.emit()
    assert live.probe.prediction and "calibrated" not in live.probe_box.message.toolTip()


# --- 9. a start that imports no plotting -----------------------------------------------------


def test_start_up_imports_no_plotting_and_no_training_stack(tmp_path):
    """The window painted to a picture, as ``main.py --screenshot`` does, with Python's own
    import log: nothing of pyqtgraph (0.26 s of the imports), torch or the exporters."""
    picture = tmp_path / "start.png"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "main.py"), "--screenshot", str(picture)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert picture.stat().st_size > 10_000
    imported = {
        line.split("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "ui.main_window" in imported  # the log is the app's
    for module in ("pyqtgraph", "torch", "onnx", "onnxruntime", "rnn_builder.export"):
        assert module not in imported, module


def test_the_plots_are_made_when_their_tab_first_comes_to_the_front(make_window, qtbot):
    window = make_window("many_to_one")
    live = window.live
    assert not live.plots.built and not live.gradients.built
    assert live.hidden.layout_widget is None
    _dock(window, "loss_dock").raise_()
    qtbot.waitUntil(lambda: live.plots.built and live.plots.loss_plot.isVisible())
    assert not live.gradients.built
    _dock(window, "gradient_dock").raise_()
    qtbot.waitUntil(lambda: live.gradients.built)
    assert "Train to see" in live.gradients.warning.text()
    _dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: live.hidden.layout_widget is not None)
    assert live.hidden.scroll.widget() is live.hidden.layout_widget
