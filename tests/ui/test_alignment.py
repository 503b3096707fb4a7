"""The Alignment view and the attention's wires in the unrolled view (issue 25), driven as a
person drives them: a Luong encoder-decoder dragged together from the palette and wired with
the mouse, bound to the reversal task in the Training panel, fitted, trained and looked at;
the weight of a cell under the mouse; the rows filling as stepping advances; the probe box's
own input; the view redrawn while the network trains; and the memory's wires as bright as
the alignment weighed them.

Every wait is on a condition (``qtbot.waitUntil``), never on a sleep or the machine's speed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget

from rnn_builder import validate
from rnn_builder.engine.stepping import Stepper
from rnn_builder.files.templates import new_project
from rnn_builder.graph.unroll import UnrolledKey
from rnn_builder.training.tasks import reversal
from ui.editor.problems import FIT_TEXT
from ui.training.alignment import NOT_YET, Computed, forward_pass, picture
from ui.training.unrolled_view import MEMORY_OPACITY

from .conftest import click, drag, port_point, title_point, type_into
from .test_editor import drop_from_palette
from .test_own_data import (
    EXAMPLES,
    _blank_project,
    _choose_in_list,
    _click,
    _close,
    _open_data_view,
    _problems,
    _train_to_the_end,
)

CTRL = Qt.KeyboardModifier.ControlModifier
TIMEOUT = 120_000  # ms: generous for a slow machine; every wait ends on a condition
LETTERS = reversal.LETTERS


def _dock(window, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def _open_alignment(qtbot, window):
    """Bring the Alignment tab to the front and wait for its drawing."""
    view = window.live.alignment
    _dock(window, "alignment_dock").raise_()
    qtbot.waitUntil(lambda: not _dock(window, "alignment_dock").visibleRegion().isEmpty())
    qtbot.waitUntil(lambda: view.shown is not None and not view.busy, timeout=TIMEOUT)
    return view


def _drawn(qtbot, view, before: int) -> None:
    """Wait until a pass asked for after ``before`` passes is drawn."""
    qtbot.waitUntil(lambda: view.passes > before and not view.busy, timeout=TIMEOUT)


def _expected(window, example: dict, weights=None) -> Computed:
    """The pass the view must show, computed here afresh."""
    document = window.document
    if weights is None:
        weights = document.weights_if_they_fit()
    return forward_pass(document.graph, weights, document.project.training.seed, example)


# --- built with the mouse, trained, looked at ------------------------------------------------

LUONG = [  # (type, where on the canvas)
    ("sequence_input", (0, 300)),
    ("embedding", (200, 300)),
    ("gru", (400, 300)),  # the encoder: gru_1
    ("delay", (400, 40)),
    ("gru", (600, 120)),  # the decoder: gru_2
    ("attention", (800, 300)),
    ("concat", (1000, 120)),
    ("dense", (1200, 120)),  # combine: dense_1
    ("dense", (1400, 120)),  # the letters' scores: dense_2
    ("output", (1600, 120)),
]
WIRES = [  # as rnn_builder/files/templates.py wires "Translation with attention"
    ("sequence_input_1", "y", "embedding_1", "tokens"),
    ("embedding_1", "y", "gru_1", "x"),
    ("gru_1", "h_n", "gru_2", "h_0"),
    ("delay_1", "y", "gru_2", "x"),
    ("gru_2", "y", "attention_1", "query"),
    ("gru_1", "y", "attention_1", "memory"),
    ("attention_1", "context", "concat_1", "a"),
    ("gru_2", "y", "concat_1", "b"),
    ("concat_1", "y", "dense_1", "x"),
    ("dense_1", "y", "dense_2", "x"),
    ("dense_2", "y", "output_1", "x"),
    ("dense_2", "y", "delay_1", "x"),
]


def _choose_text(qtbot, combo, text: str) -> None:
    """Open a combo box's list and click the entry that says ``text``."""
    index = combo.findText(text)
    assert index >= 0, text
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(view.model().index(index, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _edit(qtbot, window, node_id: str, name: str, value) -> None:
    """Select a node by clicking its title and set one parameter in the inspector."""
    click(window.view, title_point(window, node_id))
    assert window.inspector.node_id == node_id
    editor = window.inspector.editors[name]
    if isinstance(value, bool):
        if editor.isChecked() != value:  # (Space: a click on the box's middle misses its tick)
            editor.setFocus()
            qtbot.keyClick(editor, Qt.Key.Key_Space)
    elif isinstance(value, str):
        _choose_text(qtbot, editor, value)
    else:
        type_into(editor, value)
    assert window.document.graph.node(node_id).params[name] == value


def test_the_luong_graph_built_with_the_mouse_trains_and_shows_its_alignment(make_window, qtbot):
    window = make_window("one_to_one")
    _blank_project(window, qtbot)
    for type_name, (x, y) in LUONG:
        drop_from_palette(window, type_name, QPointF(x, y))
    graph = window.document.graph
    assert sorted(graph.nodes) == sorted(
        [
            "sequence_input_1",
            "embedding_1",
            "gru_1",
            "gru_2",
            "delay_1",
            "attention_1",
            "concat_1",
            "dense_1",
            "dense_2",
            "output_1",
        ]
    )
    _dock(window, "inspector_dock").raise_()
    QTest.keyClick(window.view, Qt.Key.Key_F)  # fit: every port in sight
    _edit(qtbot, window, "sequence_input_1", "vocabulary", 26)  # letters, not numbers
    _edit(qtbot, window, "embedding_1", "vocabulary", 26)
    _edit(qtbot, window, "gru_1", "bidirectional", True)
    _edit(qtbot, window, "gru_2", "hidden_size", 64)  # the encoder's two directions' h_n
    _edit(qtbot, window, "attention_1", "score", "general")  # Luong's
    QTest.keyClick(window.view, Qt.Key.Key_F)
    for source, source_port, target, target_port in WIRES:
        drag(
            window.view,
            port_point(window, source, source_port, False),
            port_point(window, target, target_port, True),
        )
    assert len(graph.edges) == len(WIRES)
    assert {(e.src_node, e.src_port, e.dst_node, e.dst_port) for e in graph.edges} == set(WIRES)
    # the reversal task, chosen in the Training panel; its sizes fitted from the problem
    _dock(window, "training_dock").raise_()
    _choose_in_list(qtbot, window.live.panel.source, ("builtin", "reversal"))
    window.findChild(QDockWidget, "problems_dock").raise_()
    qtbot.waitUntil(lambda: bool(window.problems.fit_buttons))
    button = window.problems.fit_buttons[0]
    assert button.text() == FIT_TEXT
    _click(qtbot, button)
    qtbot.waitUntil(lambda: _problems(window) == [])
    assert graph.node("dense_2").params["units"] == len(reversal.CLASS_NAMES)
    assert graph.node("delay_1").params["start_token"] == reversal.START
    # briefly: a few hundred examples (the task's options, as `edit --data-option` sets them)
    reference = window.document.project.dataset
    options = {**reference.options, "train": 256, "validation": 16, "longest": 12}
    window.document.set_dataset(dataclasses.replace(reference, options=options))
    _dock(window, "training_dock").raise_()
    _train_to_the_end(qtbot, window, epochs=1)

    view = _open_alignment(qtbot, window)
    assert view.node.currentData() == "attention_1"
    example = window.live.context.example(view.example.value())
    letters = [LETTERS[i] for i in example["sequence_input_1"]]  # (keyed by the node it feeds)
    shown = view.shown
    # a row per step of the target (the letters backwards and <end>), a column per letter read
    assert shown.weights.shape == (len(letters) + 1, len(letters))
    assert shown.read == letters
    expected = _expected(window, example)
    chosen = expected.predictions["output_1"].argmax(-1)
    assert shown.written == [reversal.CLASS_NAMES[c] for c in chosen]
    np.testing.assert_allclose(shown.weights, expected.alignments["attention_1"])
    np.testing.assert_allclose(shown.weights.sum(axis=1), 1.0)
    # the axes say the words: every letter read across, every letter written down
    plot = view.plot.getPlotItem()
    for axis, words in (("bottom", letters), ("left", shown.written)):
        ticks = plot.getAxis(axis)._tickLevels[0]  # what pyqtgraph was given to draw
        stride = int(ticks[1][0] - ticks[0][0]) if len(ticks) > 1 else 1
        assert ticks == [(float(t), words[t]) for t in range(0, len(words), stride)], axis
    assert "read</b> " + "".join(letters) in view.summary.text()


# --- the weight of a cell under the mouse ---------------------------------------------------


def _type_probe(qtbot, box, text: str) -> None:
    box.edit.setFocus()
    box.edit.clear()
    qtbot.keyClicks(box.edit, text)
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)


def test_hovering_a_cell_says_its_weight(make_window, qtbot):
    window = make_window("translation_attention")
    view = _open_alignment(qtbot, window)
    before = view.passes
    _type_probe(qtbot, view.probe_box, "attention")
    _drawn(qtbot, view, before)
    shown = view.shown
    assert shown.read == list("attention")
    plot = view.plot
    box = plot.getPlotItem().getViewBox()
    for row, column in [(0, 8), (3, 2), (shown.weights.shape[0] - 1, 0)]:
        point = plot.mapFromScene(box.mapViewToScene(QPointF(column, row)))
        QTest.mouseMove(plot.viewport(), point)
        qtbot.waitUntil(lambda row=row, column=column: f"(step {row})" in view.hover.text())
        weight = f"{shown.weights[row, column]:.3f}"
        text = view.hover.text()
        assert f"<b>{weight}</b>" in text, text
        assert f"writing <b>{shown.written[row]}</b> (step {row})" in text
        assert f"on <b>{'attention'[column]}</b> (step {column})" in text
        assert view.image.toolTip() == text  # and as the cell's tip


# --- stepping fills the rows ---------------------------------------------------------------


def test_rows_fill_in_as_stepping_advances_and_empty_as_it_goes_back(make_window, qtbot):
    window = make_window("translation_attention")
    view = _open_alignment(qtbot, window)
    live = window.live
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window, Qt.Key.Key_Right, CTRL)  # Step ▶
    stepper = live.stepper
    assert stepper is not None and view.walk is stepper
    example = live.context.example(live.example.value())
    expected = _expected(window, example).alignments["attend"]
    length = len(example["letters"])
    rows = expected.shape[0]
    assert view.shown.weights.shape == (rows, length)
    assert view.shown.computed == 0 and np.isnan(view.shown.weights).all()
    assert view.shown.written == [NOT_YET] * rows
    assert not view.example.isEnabled()  # the walk's example is shown
    seen = []
    while not stepper.done:
        QTest.keyClick(window, Qt.Key.Key_Right, CTRL)
        computed = view.shown.computed
        seen.append(computed)
        done = np.isfinite(view.shown.weights).all(axis=1)
        assert done.sum() == computed and done[:computed].all()  # row by row, from the top
        np.testing.assert_allclose(view.shown.weights[:computed], expected[:computed])
        if computed:  # (its record is made at the attention's first step)
            walked = stepper.alignments["attend"][:computed, 0]
            np.testing.assert_allclose(view.shown.weights[:computed], walked)
        assert NOT_YET not in view.shown.written[:computed]
        assert view.shown.written[computed:] == [NOT_YET] * (rows - computed)
    assert seen[-1] == rows and sorted(seen) == seen and set(range(rows + 1)) <= {0, *seen}
    assert f"stepping: {rows} of {rows} rows computed" in view.summary.text()
    # back one step: the last row computed is empty again (Ctrl+Left)
    position = stepper.position
    while view.shown.computed == rows:
        QTest.keyClick(window, Qt.Key.Key_Left, CTRL)
    assert stepper.position < position and view.shown.computed == rows - 1
    assert np.isnan(view.shown.weights[rows - 1]).all()
    # Reset: the view goes back to its own pass
    before = view.passes
    live.reset_action.trigger()
    assert view.walk is None
    _drawn(qtbot, view, before)
    assert view.shown.computed == rows and view.example.isEnabled()


# --- the probe box's input -----------------------------------------------------------------


def test_the_view_runs_on_the_probe_box_input_and_goes_back_when_it_is_cleared(make_window, qtbot):
    window = make_window("translation_attention")
    view = _open_alignment(qtbot, window)
    validation = view.shown.read
    before = view.passes
    _type_probe(qtbot, view.probe_box, "hello world")  # spaces are not letters: left out
    _drawn(qtbot, view, before)
    assert view.shown.read == list("helloworld")
    assert not view.example.isEnabled()
    # what the stepping toolbar's box says too, as one probe
    assert window.live.probe_box.edit.text() == "hello world"
    expected = _expected(window, window.live.context.typed.example)
    rows = view.shown.weights.shape[0]
    np.testing.assert_allclose(view.shown.weights, expected.alignments["attend"][:rows])
    assert "read</b> helloworld" in view.summary.text()
    # a bad input keeps the picture and says why in red
    before = view.passes
    _type_probe(qtbot, view.probe_box, "h3llo")
    assert "a to z" in view.probe_box.message.text() and view.shown.read == list("helloworld")
    # cleared: back to the validation example
    view.probe_box.edit.clear()
    _drawn(qtbot, view, before)
    assert view.shown.read == validation and view.example.isEnabled()


def test_the_words_of_your_own_file_label_both_axes(make_window, qtbot):
    """Sentence pairs read from a file: the words read across (its source vocabulary), the
    words written down (its target vocabulary), not their ids."""
    window = make_window("translation_attention")
    data = _open_data_view(window, qtbot, EXAMPLES / "english_spanish.tsv")
    assert data.state == "read", data.error.text()
    _click(qtbot, data.fit_button)
    _close(qtbot, data)
    assert _problems(window) == []
    view = _open_alignment(qtbot, window)
    before = view.passes
    _type_probe(qtbot, view.probe_box, "the white flower")
    _drawn(qtbot, view, before)
    assert view.shown.read == ["the", "white", "flower"]
    spanish = window.document.project.dataset.options["target_vocabulary"]
    assert view.shown.written and set(view.shown.written) <= set(spanish)
    assert "read</b> the white flower" in view.summary.text()


def test_a_typed_input_is_written_until_its_end_mark():
    """Free running (no target), the rows end where the decoder wrote <end>, as ``predict``
    reads it; with a target, every step of the target is a row."""
    project = new_project("translation_attention")
    graph = project.graph
    steps, letters = 41, [0, 1, 2]  # "abc"
    prediction = np.zeros((steps, len(reversal.CLASS_NAMES)))
    prediction[:, 5] = 1.0
    prediction[[0, 1, 2], [2, 1, 0]] = 2.0  # c b a
    prediction[3, reversal.END] = 2.0  # <end>
    alignment = np.full((steps, len(letters)), 1 / 3)
    computed = Computed(
        {"attend": alignment},
        {"attend": frozenset(range(steps))},
        {"reversed": prediction},
        {"letters": np.array(letters)},
        {},
        dict(validate(graph).node_axes),
    )
    names = reversal.CLASS_NAMES
    shown = picture(computed, graph, "attend", lambda i: LETTERS[i], lambda i: names[i])
    assert shown.written == ["c", "b", "a", "<end>"] and shown.read == ["a", "b", "c"]
    assert shown.weights.shape == (4, 3)
    assert "wrote</b> cba &lt;end&gt;" in shown.summary
    with_target = dataclasses.replace(computed, targets={"reversed": np.arange(steps) % 26})
    shown = picture(with_target, graph, "attend", lambda i: LETTERS[i], lambda i: names[i])
    assert shown.weights.shape == (steps, 3)
    assert "the target" in shown.summary  # it wrote something else: said in red


# --- redrawn while the network trains ---------------------------------------------------------


def test_the_alignment_follows_the_weights_while_training(make_window, qtbot):
    window = make_window("translation_attention")
    window.document.set_training("epochs", 500)  # still running when the weights have moved
    live, view = window.live, window.live.alignment
    view = _open_alignment(qtbot, window)
    untrained = view.shown.weights.copy()
    drawn = view.passes
    qtbot.mouseClick(live.panel.run_controls.start_button, Qt.MouseButton.LeftButton)
    _dock(window, "alignment_dock").raise_()  # (starting brings the loss curves to the front)
    qtbot.waitUntil(
        lambda: (
            not live.session.running
            or (view.passes > drawn + 1 and not np.allclose(view.shown.weights, untrained))
        ),
        timeout=TIMEOUT,
    )
    assert live.session.running, "the alignment never moved while the network trained"
    live.session.pause()
    qtbot.waitUntil(lambda: not view.busy)
    # what is shown is the network at a report of this run: its weights, then
    weights = live.context.live_weights
    assert weights is not None
    example = live.context.example(view.example.value())
    expected = _expected(window, example, weights).alignments["attend"]
    np.testing.assert_allclose(view.shown.weights, expected[: view.shown.weights.shape[0]])
    # never more passes than frames (at most FRAME_RATE a second), whatever the machine
    assert view.passes - drawn <= live.session.frames_drawn + 1
    live.session.stop(wait=True)
    assert live.context.live_weights is None
    before = view.passes
    _drawn(qtbot, view, before)
    expected = _expected(window, example).alignments["attend"]
    np.testing.assert_allclose(view.shown.weights, expected[: view.shown.weights.shape[0]])


# --- the memory's wires in the unrolled view ------------------------------------------------


def _short_example(context) -> int:
    return next(i for i in range(1000) if len(context.example(i)["letters"]) <= 6)


@pytest.mark.parametrize("template", ["translation_attention", "translation_bahdanau"])
def test_the_memory_wires_are_as_bright_as_the_alignment_weighed_them(make_window, template):
    window = make_window(template)
    live, scene = window.live, window.unrolled_scene
    live.example.setValue(_short_example(live.context))
    assert live.step_forward()
    stepper = live.stepper
    length = len(live.context.example(live.example.value())["letters"])
    rows = stepper.run.lengths[stepper.executor.axis_of("attend")]
    # every step of the memory (both directions of the encoder) into every attention copy
    assert set(scene.memory_edges) == {UnrolledKey("attend", t) for t in range(rows)}
    assert len(scene.edge_items) == stepper.unrolled.edge_count  # every wire drawn, once
    for wires in scene.memory_edges.values():
        assert sorted((u.t, u.direction) for u, _ in wires) == sorted(
            (s, d) for s in range(length) for d in ("forward", "reverse")
        )
        assert all(item.opacity() == pytest.approx(MEMORY_OPACITY) for _, item in wires)
        assert all(item.pen().widthF() <= 1.0 for _, item in wires)  # thin
    while not stepper.done:
        live.step_forward()
        if "attend" not in stepper.alignments:
            continue  # the encoder's steps: no attention computed yet
        alignment = stepper.alignments["attend"][:, 0]
        for target, wires in scene.memory_edges.items():
            for source, item in wires:
                if target in stepper.details:
                    weight = alignment[target.t, source.t]
                    assert item.opacity() == pytest.approx(weight, abs=1e-6)
                    assert f"weight {weight:.3f}" in item.toolTip()
                else:
                    assert item.opacity() == pytest.approx(MEMORY_OPACITY)
    # the whole pass gives the same weights the wires show
    whole = Stepper(stepper.executor, stepper.batch)
    whole.run_to_end()
    for target, wires in scene.memory_edges.items():
        for source, item in wires:
            assert item.opacity() == pytest.approx(
                whole.alignments["attend"][target.t, 0, source.t], abs=1e-6
            )
    live.stop_stepping()  # drawn again without an example: faint again
    assert all(
        item.opacity() == pytest.approx(MEMORY_OPACITY)
        for wires in scene.memory_edges.values()
        for _, item in wires
    )
