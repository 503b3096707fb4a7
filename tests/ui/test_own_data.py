"""Data bound to a graph in the editor (issue 21), driven as a person drives it: a network built
from scratch from the palette and wired with the mouse, data chosen in the Training panel or in
the data view, the mismatch shown in the Problems panel before Start, fitted in one undo step,
and trained to the end.

Training and reading wait on conditions (``qtbot.waitUntil``), never on sleeps.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

import ui.training.data_reading
from rnn_builder.engine.threads import one_thread
from rnn_builder.files import data_readers
from ui.editor.problems import FIT_TEXT

from .conftest import drag, port_point, type_into
from .test_editor import drop_from_palette

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TIMEOUT = 120_000  # ms: generous for a slow machine; every wait ends on a condition
CTRL = Qt.KeyboardModifier.ControlModifier


def _click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName() or button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _choose_in_list(qtbot, combo, data) -> None:
    """Open a combo box's list and click the entry holding ``data``."""
    index = next(i for i in range(combo.count()) if combo.itemData(i) == data)
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(view.model().index(index, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _problems(window) -> list[tuple[str, str]]:
    panel = window.problems
    items = [panel.topLevelItem(i) for i in range(panel.topLevelItemCount())]
    return [(item.text(1), item.text(2)) for item in items]


def _train_to_the_end(qtbot, window, epochs: int) -> None:
    panel = window.live.panel
    type_into(panel.editors["epochs"], epochs)
    runs = len(window.document.runs)
    _click(qtbot, panel.run_controls.start_button)
    qtbot.waitUntil(
        lambda: not window.live.session.running and len(window.document.runs) == runs + 1,
        timeout=TIMEOUT,
    )
    assert window.document.runs[-1].stopped == "finished"
    assert not window.errors, window.errors
    assert "failed" not in panel.run_controls.progress.format()


def _blank_project(window, qtbot) -> None:
    """A new project from a template, every node deleted as a person would: Ctrl+A, Delete."""
    window.new_project("one_to_one")
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_A, CTRL)
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert len(window.document.graph) == 0


def _build_from_scratch(window, qtbot) -> list[str]:
    """A blank project, then Vector input → Repeat → LSTM → Dense → Output dragged from the
    palette and wired with the mouse."""
    _blank_project(window, qtbot)
    chain = ["vector_input", "repeat", "lstm", "dense", "output"]
    for k, type_name in enumerate(chain):
        drop_from_palette(window, type_name, QPointF(40 + 200 * k, 200))
    ids = [f"{type_name}_1" for type_name in chain]
    assert set(window.document.graph.nodes) == set(ids)
    QTest.keyClick(window.view, Qt.Key.Key_F)  # fit: every port in sight
    for source, target in itertools.pairwise(ids):
        drag(
            window.view,
            port_point(window, source, "y", False),
            port_point(window, target, "x", True),
        )
    assert len(window.document.graph.edges) == 4
    qtbot.waitUntil(lambda: window.scene.report is not None and window.scene.report.ok)
    return ids


# --- the story, on a built-in task ---------------------------------------------------


def test_a_graph_built_from_scratch_is_bound_fitted_and_trained_on_a_built_in_task(
    make_window, qtbot
):
    window = make_window("one_to_one")
    vector, repeat, _lstm, dense, output = _build_from_scratch(window, qtbot)
    graph, stack = window.document.graph, window.document.undo_stack
    _choose_in_list(qtbot, window.live.panel.source, ("builtin", "arpeggio"))
    # the binding found is the project's, and the mismatch shows before Start, on its nodes
    assert window.document.project.dataset.binding == {"chord": vector, "notes": output}
    problems = _problems(window)
    assert window.problems.empty_text == ""
    assert any("15 features" in text and node == vector for text, node in problems), problems
    assert any("24 classes" in text and node == output for text, node in problems), problems
    assert window.scene.node_items[vector].problems  # the red outline and its tooltip
    assert "15 features" in window.scene.node_items[vector].toolTip()
    assert "the data does not fit: 2 problems" in window.layout_label.text()
    before = (graph.node(vector).params["features"], graph.node(dense).params["units"])
    steps = stack.count()
    # Fit, from the problem's own button: one undo step
    button = window.problems.fit_buttons[0]
    assert button.text() == FIT_TEXT
    _click(qtbot, button)
    fitted = {(vector, "features"): 15, (dense, "units"): 24, (repeat, "steps"): 4}
    assert {k: graph.node(k[0]).params[k[1]] for k in fitted} == fitted
    assert stack.count() == steps + 1 and stack.undoText() == "Fit the graph to the data"
    assert _problems(window) == [] and "No problems" in window.problems.empty_text
    assert not window.scene.node_items[vector].problems
    assert "does not fit" not in window.layout_label.text()
    window.undo_action.trigger()
    assert (graph.node(vector).params["features"], graph.node(dense).params["units"]) == before
    assert len(_problems(window)) == 2
    window.redo_action.trigger()
    assert {k: graph.node(k[0]).params[k[1]] for k in fitted} == fitted
    assert _problems(window) == []
    _train_to_the_end(qtbot, window, epochs=2)


# --- the same with a person's own file, through the data view --------------------------------


def _open_data_view(window, qtbot, path):
    """The Training panel's "Your own file…", a file chosen, read to the end."""
    window.choose_data_path = lambda kind: str(path)
    _choose_in_list(qtbot, window.live.panel.source, ("file", ""))
    view = window.live.data_view
    assert view.isVisible()
    qtbot.waitUntil(lambda: view.state in ("read", "failed"), timeout=TIMEOUT)
    return view


def test_an_own_file_is_seen_used_fitted_and_trained_from_the_data_view(make_window, qtbot):
    window = make_window("many_to_one")  # Sentence sentiment: a vocabulary of 40
    graph, stack = window.document.graph, window.document.undo_stack
    view = _open_data_view(window, qtbot, EXAMPLES / "reviews.csv")
    assert view.state == "read", view.error.text()
    assert view.kind == "labelled" and "detected: labelled text" in view.guess_label.text()
    assert view.preview_model.rowCount() == 50
    assert view.preview_model.horizontalHeaderItem(0).text() == "review"
    assert view.preview_model.verticalHeaderItem(0).text() == "2"  # its line in the file
    assert view.option_widgets["text_column"].currentText() == "review"
    assert view.option_widgets["label_column"].currentText() == "sentiment"
    summary = view.summary_box.label.text()
    assert "4,000</b> examples" in summary and "vocabulary: <b>44</b>" in summary
    assert "unknown tokens in validation" in summary and "Sentence sentiment" in summary
    assert "text → words, label → sentiment; 1 to fit" in summary
    assert set(view.summary_box.classes_chart.labels) == {"negative", "positive"}
    assert sum(view.summary_box.lengths_chart.counts) == 3200  # the training part's lengths
    assert window.document.project.dataset.kind == "builtin"  # nothing changed by looking
    # Use, then Fit: each one undo step
    steps = stack.count()
    _click(qtbot, view.use_button)
    dataset = window.document.project.dataset
    assert (dataset.kind, dataset.name) == ("labelled", str(EXAMPLES / "reviews.csv"))
    assert dataset.binding == {"text": "words", "label": "sentiment"}
    assert len(dataset.options["vocabulary"]) == 44 and "classes" in dataset.options
    assert stack.count() == steps + 1 and stack.undoText() == "Train on reviews.csv"
    ((text, node),) = _problems(window)
    assert "a vocabulary of 44" in text and node == "words"
    assert view.status.text() == "This is the project's data."
    _click(qtbot, view.fit_button)
    assert graph.node("words").params["vocabulary"] == 44
    assert graph.node("embed").params["vocabulary"] == 44
    assert stack.count() == steps + 2 and _problems(window) == []
    assert "it fits as it is" in view.summary_box.label.text()
    assert "Feeds: text → words, label → sentiment" in window.live.panel.binding_note.text()
    _close(qtbot, view)
    _train_to_the_end(qtbot, window, epochs=2)


def test_fit_from_the_data_view_uses_the_file_and_fits_in_one_step(make_window, qtbot):
    window = make_window("many_to_one")
    graph, stack = window.document.graph, window.document.undo_stack
    window.choose_data_path = lambda kind: str(EXAMPLES / "reviews.csv")
    window.live.train_menu.data_view_action.trigger()  # Train → Your data…
    view = window.live.data_view
    _click(qtbot, view.choose_button)
    qtbot.waitUntil(lambda: view.state == "read", timeout=TIMEOUT)
    _click(qtbot, view.fit_button)
    assert window.document.project.dataset.kind == "labelled"
    assert graph.node("words").params["vocabulary"] == 44
    assert stack.count() == 1 and stack.undoText() == "Train on reviews.csv and fit the graph"
    window.undo_action.trigger()
    assert window.document.project.dataset.kind == "builtin"
    assert graph.node("words").params["vocabulary"] == 40
    window.redo_action.trigger()
    assert window.document.project.dataset.kind == "labelled"
    assert graph.node("words").params["vocabulary"] == 44
    _close(qtbot, view)


def _close(qtbot, view) -> None:
    _click(qtbot, view.close_button)
    qtbot.waitUntil(lambda: not view.isVisible())


# --- the old error goes with the data it was about ----------------------------------------------


def test_switching_the_data_clears_the_old_error_from_the_problems_and_the_status_bar(
    make_window, qtbot
):
    window = make_window("many_to_one")
    panel = window.live.panel
    _choose_in_list(qtbot, panel.source, ("builtin", "arpeggio"))
    problems = _problems(window)
    assert any("vector ('chord')" in text and node == "words" for text, node in problems)
    _click(qtbot, panel.run_controls.start_button)  # refused before a process starts, in words
    assert not window.live.session.running
    message = window.errors[-1][1]
    assert "chord" in message and window.statusBar().currentMessage() == message
    assert "chord" in panel.run_controls.metrics.text()
    _choose_in_list(qtbot, panel.source, ("builtin", "sentiment"))
    assert _problems(window) == [] and "data fits" in window.problems.empty_text
    assert window.statusBar().currentMessage() == ""
    metrics = panel.run_controls.metrics.text()
    assert "chord" not in metrics and metrics == "Not trained yet."


# --- binding from the inspector -------------------------------------------------------------


def test_the_inspector_binds_a_field_to_another_input_in_one_undo_step(make_window, qtbot):
    window = make_window("many_to_one")
    document, stack = window.document, window.document.undo_stack
    drop_from_palette(window, "sequence_input", QPointF(40, 420))
    other = "sequence_input_1"
    assert window.inspector.node_id == other
    combo = window.inspector.data_field
    assert [combo.itemText(i) for i in range(combo.count())] == ["— none —", "words"]
    assert combo.currentText() == "— none —"
    steps = stack.count()
    _choose_in_list(qtbot, combo, "words")
    assert document.project.dataset.binding["words"] == other
    assert stack.count() == steps + 1
    # the template's input is fed by nothing now: said on it
    problems = _problems(window)
    assert any(node == "words" and "No field" in text for text, node in problems), problems
    assert window.inspector.data_field.currentText() == "words"
    window.undo_action.trigger()
    assert document.data_check().binding.inputs == {"words": "words"}
    assert window.inspector.data_field.currentText() == "— none —"


# --- a bad file, and a long read cancelled ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("text,label\ngood,yes\nbad,no\nugly,no,extra\n", ", line 4: 3 fields where the header"),
        (b"text,label\ngood,yes\n\x00\x01\x02,no\n", ", line 3: holds binary data"),
        ("text,label\ngood,yes\ncaf\xe9,no\n".encode("latin-1"), ", line 3: is not UTF-8 text"),
        ("", ": is empty"),
        ("text,label\n", ": needs at least two rows"),  # a header only
        (  # past the rows the view shows first: said by the whole read
            "text,label\n" + "good day,yes\nbad day,no\n" * 40 + "odd day,maybe\n",
            ", line 82: column 'label': the label 'maybe' has one example",
        ),
    ],
)
def test_a_bad_file_says_its_line_and_changes_nothing(make_window, qtbot, tmp_path, content, said):
    window = make_window("many_to_one")
    before = window.document.project.dataset.copy()
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    view = _open_data_view(window, qtbot, path)
    assert view.state == "failed"
    assert view.error.isVisible() and f"'{path}'{said}" in view.error.text()
    assert "\n" not in view.error.text()  # one line
    assert not view.use_button.isEnabled() and not view.fit_button.isEnabled()
    assert window.document.project.dataset == before
    assert not window.document.undo_stack.canUndo()


class _HeldRead(data_readers.ReadWatch):
    """A read that stops after its first block until it is cancelled: a file large enough to
    take a while, whatever the machine's speed."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()

    def progress(self, done: int, total: int) -> None:
        super().progress(done, total)
        assert self.released.wait(TIMEOUT / 1000), "the read was never cancelled"

    def cancel(self) -> None:
        super().cancel()
        self.released.set()


def test_a_large_file_shows_its_progress_and_its_read_can_be_cancelled(
    make_window, qtbot, tmp_path, monkeypatch
):
    window = make_window("many_to_one")
    before = window.document.project.dataset.copy()
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("text,label\n")
        stream.writelines(f"review number {i} was fine,{'ab'[i % 2]}\n" for i in range(120_000))
    assert path.stat().st_size > 3 * data_readers.BLOCK
    monkeypatch.setattr(ui.training.data_reading, "ReadWatch", _HeldRead)
    window.choose_data_path = lambda kind: str(path)
    window.live.train_menu.data_view_action.trigger()
    view = window.live.data_view
    _click(qtbot, view.choose_button)
    assert view.state == "reading" and view.preview_model.rowCount() == 50
    qtbot.waitUntil(lambda: view.progress.value() > 0)  # one block of several read
    assert view.progress.isVisible() and "of" in view.progress.format()
    assert view.progress.value() < 1000
    _click(qtbot, view.cancel_button)
    assert view.state == "cancelled" and "cancelled" in view.status.text()
    assert not view.progress.isVisible() and not view.use_button.isEnabled()
    one_thread("data-view").submit(lambda: None).result(TIMEOUT / 1000)  # the reader let go
    assert window.document.project.dataset == before
    assert not window.document.undo_stack.canUndo()
    # read again, unheld: it reads to the end
    monkeypatch.setattr(ui.training.data_reading, "ReadWatch", data_readers.ReadWatch)
    view.read()
    qtbot.waitUntil(lambda: view.state == "read", timeout=TIMEOUT)
    assert "120,000</b> examples" in view.summary_box.label.text()
    _close(qtbot, view)


# --- the options, and the other ways to fit ---------------------------------------------------


def test_options_chosen_in_the_data_view_are_read_with_and_kept(make_window, qtbot):
    window = make_window("many_to_one")
    view = _open_data_view(window, qtbot, EXAMPLES / "reviews.csv")
    words = view.summary.vocabulary
    _choose_in_list(qtbot, view.option_widgets["tokens"], "characters")
    qtbot.waitUntil(lambda: view.state == "read" and view.summary.vocabulary != words)
    assert view.summary.vocabulary < words  # letters, not words
    type_into(view.option_widgets["validation"], "0.5")  # and Enter: no button pressed
    qtbot.waitUntil(lambda: view.state == "read" and view.summary.validation == 2000)
    _click(qtbot, view.use_button)
    options = window.document.project.dataset.options
    assert options["tokens"] == "characters" and options["validation"] == 0.5
    assert len(options["vocabulary"]) == view.summary.vocabulary
    _close(qtbot, view)
    # opened again on the project's file: read with the options it was used with
    window.live.train_menu.data_view_action.trigger()
    assert view.option_widgets["tokens"].currentData() == "characters"
    qtbot.waitUntil(lambda: view.state == "read", timeout=TIMEOUT)
    assert view.status.text() == "This is the project's data."
    _close(qtbot, view)


def test_fit_from_a_problems_context_menu_and_from_the_train_menu(make_window, qtbot):
    window = make_window("many_to_one")
    graph, stack = window.document.graph, window.document.undo_stack
    window.document.set_param("scores", "units", 3)  # the task has 2 classes
    qtbot.waitUntil(lambda: len(_problems(window)) == 1)
    menu = window.problems.context_menu(window.problems.topLevelItem(0))
    assert [a.text() for a in menu.actions()] == ["Go to the node", FIT_TEXT]
    steps = stack.count()
    menu.actions()[1].trigger()
    assert graph.node("scores").params["units"] == 2 and stack.count() == steps + 1
    assert _problems(window) == []
    assert window.statusBar().currentMessage() == "Fitted the graph to the data: scores.units = 2"
    window.undo_action.trigger()
    assert graph.node("scores").params["units"] == 3
    window.live.train_menu.fit_data_action.trigger()  # Train → Fit graph to data
    assert graph.node("scores").params["units"] == 2 and stack.count() == steps + 1
    window.live.train_menu.fit_data_action.trigger()  # nothing left to fit: no step
    assert stack.count() == steps + 1
    assert "fits the data already" in window.statusBar().currentMessage()


@pytest.mark.parametrize(
    ("template", "file", "kind"),
    [
        ("bidirectional_tagger", "pos_tags.conll", "tagged"),
        ("encoder_decoder_feedback", "english_spanish.tsv", "pairs"),
        ("adding_problem", "shapes.csv", "sequences"),
    ],
)
def test_every_kind_of_own_file_is_read_fitted_and_trained_from_the_data_view(
    make_window, qtbot, template, file, kind
):
    """The data view reads each kind of file (guessed from the file), fits the template that
    fits it in one step, and the network trains on it."""
    window = make_window(template)
    view = _open_data_view(window, qtbot, EXAMPLES / file)
    assert view.state == "read", view.error.text()
    assert view.kind == kind
    _click(qtbot, view.fit_button)
    assert window.document.project.dataset.kind == kind
    assert _problems(window) == [], _problems(window)
    _close(qtbot, view)
    _train_to_the_end(qtbot, window, epochs=1)
