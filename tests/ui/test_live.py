"""Training and explaining in the window: the training panel drives the core trainer in a
worker thread; the plots, the gradient flow and the hidden states fill with its data; stepping
walks one example through the unrolled view; sampling generates; editing while it trains asks.

Every wait is on a condition (``qtbot.waitUntil``), never on a fixed sleep.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QPushButton, QWidget

from rnn_builder.engine.executor import Executor
from rnn_builder.files.templates import new_project
from rnn_builder.graph.unroll import UnrolledKey
from rnn_builder.training.data import make_batch
from ui.editor.document import GraphDocument
from ui.training.gradient_flow import diagnose
from ui.training.plots import trend

from .conftest import title_point, type_into

TRAINING_TIMEOUT = 120_000  # ms: generous for a slow CI machine; the waits end on conditions


def _train(qtbot, window, epochs: int) -> None:
    panel = window.live.panel
    type_into(panel.editors["epochs"], epochs)
    assert window.document.project.training.epochs == epochs
    qtbot.mouseClick(panel.run_controls.start_button, Qt.MouseButton.LeftButton)
    assert window.live.session.running
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)


def _click(qtbot, button: QPushButton) -> None:
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_training_from_the_panel_fills_the_loss_plot_and_the_loss_falls(window, qtbot):
    live = window.live
    project = new_project("many_to_one")
    project.dataset.options["sentences"] = 3000  # 75 batches an epoch, not 150: half the time
    window.document.replace(project, None)
    assert window.findChild(QDockWidget, "training_dock").findChild(QWidget, "training")
    _train(qtbot, window, epochs=3)
    run = window.document.runs[-1]
    assert run.stopped == "finished"
    # one point a step, whatever the machine's speed (the reports come every 1/30 s)
    assert run.curve.exact and run.curve.steps == list(range(1, 226))
    assert live.plots.point_count() == len(run.curve) == 225
    losses = run.curve.mean
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < 0.5 * first, (first, last)
    assert len(run.val_loss) == 3 and run.val_steps == [75, 150, 225]  # one an epoch, at its end
    x, y = live.plots.val_curve.getData()
    assert len(x) == 3 and np.all(np.isfinite(y))
    assert "accuracy" in live.panel.run_controls.metrics.text()
    assert live.panel.run_controls.progress.value() == 1000
    # the trained weights are the document's, unsaved until the project is saved
    assert window.document.weights is not None and window.document.modified
    assert live.session.frames_drawn <= len(live.session.reports) + 1


def test_the_gui_redraws_at_most_thirty_times_a_second(window, qtbot):
    from ui.training.session import FRAME_RATE

    live = window.live
    project = new_project("many_to_one")
    project.dataset.options["sentences"] = 3000  # 75 batches an epoch, not 150
    window.document.replace(project, None)
    _train(qtbot, window, epochs=2)
    seconds = live.session.reports[-1].elapsed
    assert FRAME_RATE <= 30
    # one frame per timer tick at most (plus the final draw), however many reports came in
    assert live.session.frames_drawn <= seconds * FRAME_RATE + 2


def test_pause_resume_and_stop_leave_consistent_weights(window, qtbot):
    live, panel, session = window.live, window.live.panel, window.live.session
    initial = Executor(window.document.graph, seed=0).get_parameters()
    type_into(panel.editors["epochs"], 500)
    _click(qtbot, panel.run_controls.start_button)
    qtbot.waitUntil(lambda: len(session.reports) >= 3, timeout=TRAINING_TIMEOUT)

    _click(qtbot, panel.run_controls.pause_button)
    assert session.state == "paused" and panel.run_controls.pause_button.text() == "Resume"
    # the training process says "paused" only once its trainer is parked between two steps,
    # with the steps taken: no fixed wait to watch nothing happen
    qtbot.waitUntil(lambda: session.paused_at is not None, timeout=10_000)
    step = session.paused_at
    assert session.steps_taken <= step

    _click(qtbot, panel.run_controls.pause_button)  # now "Resume"
    assert session.state == "running" and session.paused_at is None
    qtbot.waitUntil(lambda: session.steps_taken > step + 2, timeout=TRAINING_TIMEOUT)

    _click(qtbot, panel.run_controls.stop_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.runs[-1].stopped == "cancelled"
    weights = window.document.weights
    report = window.document.validate()
    shapes = {
        f"{node}.{name}": tuple(shape)
        for node, tensors in report.parameter_shapes.items()
        for name, shape in tensors.items()
    }
    assert {k: v.shape for k, v in weights.items()} == shapes
    assert all(np.all(np.isfinite(v)) for v in weights.values())
    assert any(not np.allclose(weights[k], initial[k]) for k in weights)
    # a fresh executor takes them whole, and the next run continues from them
    Executor(window.document.graph).set_parameters(weights)
    first_loss = window.document.runs[-1].curve.mean[0]
    _click(qtbot, panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.runs[-1].stopped == "steps"
    assert window.document.runs[-1].curve.mean[0] < first_loss
    # each run says whether it went on from trained weights (issue 24), and its label too
    first, second = window.document.runs[-2:]
    assert not first.continued and second.continued
    assert second.label.endswith(f"continued from run 1 at step {second.start_step:,}")
    assert first.graph_digest == second.graph_digest and second.seed == 0
    assert live.panel.run_controls.start_button.isEnabled()


def test_the_gradient_flow_and_hidden_state_views_fill_with_data_of_the_right_shape(window, qtbot):
    live = window.live
    assert live.session.start(max_steps=40)  # a few reports' worth of gradient norms
    qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    gradients = live.gradients
    assert gradients.cell.currentData() == ("reader", "forward")
    gradients.redraw()
    rows = [
        r.state_grad_norms["reader"]["forward"]
        for r in live.session.reports
        if "reader" in r.state_grad_norms
    ]
    assert gradients.matrix.shape == (len(rows), max(len(r) for r in rows))
    assert gradients.image.image.shape == gradients.matrix.shape
    assert np.all(np.isfinite(gradients.matrix[-1, : len(rows[-1])]))
    assert gradients.warning.text()

    hidden = live.hidden
    hidden.example.setValue(2)
    hidden.redraw()
    example = live.context.example(2)
    steps = len(example["words"])
    hidden_size = window.document.graph.node("reader").params["hidden_size"]
    assert set(hidden.images) == {"h", "i", "f", "g", "o"}  # an LSTM shows its gates
    for name, image in hidden.images.items():
        assert image.shape == (hidden_size, steps), name
    assert np.all(hidden.images["f"] >= 0) and np.all(hidden.images["f"] <= 1)
    assert "sentiment</b> predicted" in hidden.sequence.text()
    # five heatmaps, each with room for its units: the rows scroll rather than squeeze
    assert hidden.layout_widget.minimumHeight() >= 5 * hidden.ROW_HEIGHT
    assert hidden.scroll.widget() is hidden.layout_widget


def test_a_bidirectional_cell_shows_both_directions(make_window):
    window = make_window("bidirectional_tagger")
    hidden = window.live.hidden
    hidden.redraw()
    node = hidden.cell.currentData()
    size = window.document.graph.node(node).params["hidden_size"]
    steps = len(window.live.context.example(0)["words"])
    assert hidden.images["h"].shape == (2 * size, steps)
    assert set(hidden.images) == {"h", "r", "z", "n"}
    assert window.live.gradients.cell.count() == 2  # forward and reverse


def test_diagnose_names_vanishing_and_exploding_gradients():
    assert "Vanishing" in diagnose(np.array([1e-9, 1e-5, 1.0]), 1.0)
    assert "LSTM or GRU" in diagnose(np.array([0.0, 1e-5, 1.0]), 1.0)
    assert "Exploding" in diagnose(np.array([1e5, 10.0, 1.0]), 1e5)
    assert "gradient clipping" in diagnose(np.array([1e5, 10.0, 1.0]), 1e5)
    # each problem with its own remedies only: clipping does nothing for a vanishing gradient
    assert "clipping" not in diagnose(np.array([1e-9, 1e-5, 1.0]), 1.0)
    assert "LSTM" not in diagnose(np.array([1e5, 10.0, 1.0]), 1e5)
    calm = diagnose(np.array([0.5, 0.8, 1.0]), 1.0)
    assert "Vanishing" not in calm and "Exploding" not in calm


def test_stepping_forward_and_back_shows_the_executors_values(window, qtbot):
    live = window.live
    with qtbot.waitActive(window):
        window.activateWindow()
    live.example.setValue(1)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    stepper = live.stepper
    assert stepper is not None and stepper.position == 1
    assert window.unrolled_action.isChecked()  # stepping happens in the unrolled view
    total = len(stepper.steps)
    for _ in range(total - 1):
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert stepper.done and live.step_label.text().strip().startswith(f"{total}/{total}")

    executor = live.context.executor()
    batch = make_batch([live.context.example(1)], executor.report, executor.graph)
    run = executor.forward(batch, train=False)
    scene = window.unrolled_scene
    cells = [key for key in scene.copies if key.node == "reader"]
    assert len(cells) == len(live.context.example(1)["words"])
    for key in cells:
        shown = scene.copies[key].values["h"]
        np.testing.assert_allclose(shown[0], run.values[("reader", "y")][key.t, 0], atol=1e-12)
        assert "h</b> =" in scene.copies[key].toolTip()
    output = UnrolledKey("sentiment", None)
    np.testing.assert_allclose(
        scene.copies[output].values["prediction"], run.predictions["sentiment"], atol=1e-12
    )
    # p as the rest of the app says it (issue 24: it said "positive 71%")
    shown = scene.annotations[output].text()
    probabilities = run.predictions["sentiment"][0]
    assert re.fullmatch(r"(positive|negative) p = \d\.\d\d", shown), shown
    assert shown.endswith(f"p = {probabilities.max():.2f}") and "%" not in shown
    label = scene.annotations[output]  # above its segment's band, clear of the band's label
    band = next(band for band in scene.bands if output in band.copies)
    assert label.y() + label.boundingRect().height() <= band.rect.top()
    # the inspector shows the selected cell's numbers at this step
    window.inspector.show_node("reader")
    assert "At t = " in window.inspector.details.text()

    for _ in range(total):
        qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert stepper.position == 0 and not stepper.details
    assert not any(item.lit for item in scene.copies.values())
    assert all(item.waiting for item in scene.copies.values())  # nothing computed: faded
    assert all("not computed yet" in item.toolTip() for item in scene.copies.values())
    assert "nothing computed" in live.step_label.text()
    # and forward again gives the same numbers as the first time: the first step is time step
    # 0 of every node on the words' axis, the words, their embeddings and the reader
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    first = min(cells, key=lambda k: k.t)
    step = stepper.steps[stepper.position - 1]
    assert first in step.copies and {k.node for k in step.copies} >= {"words", "reader"}
    np.testing.assert_allclose(
        scene.copies[first].values["h"][0], run.values[("reader", "y")][first.t, 0], atol=1e-12
    )
    lit = {key for key, item in scene.copies.items() if item.lit}
    assert lit == set(step.copies)
    current = [band for band in scene.bands if band.current]  # and its segments' bands
    assert {band.segment for band in current} == set(step.segments)
    assert len(current) == len(step.segments) > 1
    assert "t = 0" in live.step_label.text() and "reader" in live.step_label.text()

    # one batch of training (new weights) ends the walk and takes its annotations down
    _click(qtbot, live.panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    assert live.stepper is None and not scene.annotations


@pytest.mark.parametrize(
    ("template", "check"),
    [
        ("one_to_many", lambda text: any(n in text for n in ("C", "D", "E", "F", "G", "A", "B"))),
        ("stacked_lstm", lambda text: len(text) >= 20),
    ],
)
def test_sampling_produces_output(make_window, qtbot, template, check):
    window = make_window(template)
    panel = window.live.panel
    assert panel.sample_box.isVisibleTo(panel)
    panel.sample_box.temperature.setValue(50)
    assert panel.sample_box.temperature_value() == 0.5
    _click(qtbot, panel.sample_box.sample_button)
    text = panel.sample_box.sample_output.text()
    assert text and check(text), text
    assert not window.errors


def test_sampling_is_offered_only_for_generative_tasks(window):
    assert not window.live.panel.sample_box.isVisibleTo(window.live.panel)


def test_editing_while_training_asks_first(window, qtbot):
    live, session = window.live, window.live.session
    asked = []
    window.ask_stop_training = lambda: asked.append(True) or answer[0]
    answer = [False]
    type_into(live.panel.editors["epochs"], 500)
    _click(qtbot, live.panel.run_controls.start_button)
    qtbot.waitUntil(lambda: len(session.reports) >= 1, timeout=TRAINING_TIMEOUT)

    # moving a node does not change the network: no question
    window.scene.select_nodes(["reader"])
    before = window.document.graph.node("reader").position
    from .conftest import drag

    start = title_point(window, "reader")
    drag(window.view, start, start + (start - start) + type(start)(80, 40))
    assert window.document.graph.node("reader").position != before and not asked

    # deleting does: refused, the node stays and training goes on
    with qtbot.waitActive(window):
        window.activateWindow()
    window.scene.select_nodes(["scores"])
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Delete)
    assert asked == [True]
    assert "scores" in window.document.graph and session.running
    # so does undo (of a change to the network) and changing a parameter in the inspector
    window.inspector.show_node("reader")
    spin = window.inspector.editors["hidden_size"]
    type_into(spin, 8)
    assert len(asked) == 2 and window.document.graph.node("reader").params["hidden_size"] == 32
    assert spin.value() == 32  # the editor shows the model's value again

    # yes: training stops (its weights kept), then the edit is made
    answer[0] = True
    window.scene.select_nodes(["scores"])
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Delete)
    assert len(asked) == 3 and not session.running
    assert "scores" not in window.document.graph
    assert window.document.weights is not None and window.document.runs[-1].stopped == "cancelled"


def test_undo_while_training_asks_first(window, qtbot):
    session = window.live.session
    window.live.panel.editors["epochs"].setValue(500)
    window.document.set_param("reader", "hidden_size", 16)
    asked = []
    window.ask_stop_training = lambda: asked.append(True) or False
    _click(qtbot, window.live.panel.run_controls.start_button)
    window.undo_action.trigger()
    assert asked == [True] and window.document.graph.node("reader").params["hidden_size"] == 16
    window.live.session.stop(wait=True)
    assert not session.running
    window.undo_action.trigger()
    assert window.document.graph.node("reader").params["hidden_size"] == 32
    assert len(asked) == 1  # not training: no question


def test_trained_weights_and_runs_are_saved_beside_the_project(window, qtbot, tmp_path):
    _click(
        qtbot, window.live.panel.run_controls.batch_button
    )  # one batch: trained weights and a run
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    assert len(window.document.runs[-1].curve)
    path = tmp_path / "sentiment.json"
    assert window.save_as(path)
    assert path.with_suffix(".npz").is_file() and path.with_suffix(".runs.json").is_file()
    assert not window.document.modified
    reopened = GraphDocument(GraphDocument.open(path), path)
    assert set(reopened.weights) == set(window.document.weights)
    for name, value in window.document.weights.items():
        np.testing.assert_array_equal(reopened.weights[name], value)
    assert [r.label for r in reopened.runs] == [r.label for r in window.document.runs]
    assert reopened.runs[0].curve.to_json() == window.document.runs[0].curve.to_json()


def test_a_damaged_weights_file_does_not_stop_the_project_opening(tmp_path):
    path = tmp_path / "p.json"
    document = GraphDocument(new_project("many_to_one"))
    document.save(path)
    path.with_suffix(".npz").write_bytes(b"not a zip at all")
    path.with_suffix(".runs.json").write_text("{broken", encoding="utf-8")
    reopened = GraphDocument(GraphDocument.open(path), path)
    assert reopened.weights is None and reopened.runs == []


def test_earlier_runs_can_be_overlaid_to_compare(window, qtbot):
    live = window.live
    for clip in (1.0, 0.0):  # two short runs that differ in one setting
        live.panel.editors["clip_norm"].setValue(clip)
        assert live.session.start(max_steps=40)
        qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    runs = live.plots.runs
    assert runs.count() == 2
    assert "clip 1" in runs.item(0).text() and "no clip" in runs.item(1).text()
    assert not live.plots.overlays
    runs.item(0).setCheckState(Qt.CheckState.Checked)
    assert len(live.plots.overlays) == 1
    x, y = live.plots.overlays[0].getData()
    first = window.document.runs[0]  # the ticked run's curve, not the latest one's
    np.testing.assert_array_equal(x, first.curve.steps)
    assert first.curve.steps == list(range(1, 41))
    # its trend (the loss axis is logarithmic)
    np.testing.assert_allclose(10**y, trend(np.array(first.curve.mean)), rtol=1e-6)


def test_a_diverging_run_is_stopped_with_a_message(make_window, qtbot):
    """A squared error is unbounded: plain SGD at the largest learning rate the settings allow,
    unclipped, blows the forecast up within a few steps of its first epoch (a cross-entropy
    over an LSTM's bounded state never does). The guard stops, puts the last good weights
    back and says so in the panel. The training process runs what the core's trainer runs
    here, watched step by step, to the same weights."""
    from rnn_builder.training.tasks import load_dataset
    from rnn_builder.training.trainer import Trainer

    window = make_window("forecast")
    panel = window.live.panel
    panel.editors["learning_rate"].setValue(10.0)
    panel.editors["clip_norm"].setValue(0.0)
    panel.editors["optimizer"].setCurrentText("sgd")
    panel.editors["batch_size"].setValue(4)
    assert window.document.project.training.learning_rate == 10.0
    type_into(panel.editors["epochs"], 30)
    project = window.document.project.copy()

    before_each_step = []

    class Watching(Trainer):
        def _step(self, batch):
            before_each_step.append(self.executor.get_parameters())
            return super()._step(batch)

    executor = Executor(project.graph, seed=project.training.seed)
    Watching(executor, load_dataset(project), project.training).train()
    _train(qtbot, window, epochs=30)

    run = window.document.runs[-1]
    assert run.stopped == "not finite"
    steps_per_epoch = -(-len(window.live.context.dataset().train) // 4)
    assert 0 < len(before_each_step) < steps_per_epoch  # stopped in its first epoch
    # the loss of the step that blew up is in no curve point and not in the panel's last line
    final = window.live.session.reports[-1]
    assert final.kind == "final" and np.isfinite(final.loss) and all(np.isfinite(run.curve.mean))
    text = panel.run_controls.metrics.text()
    assert f"Training stopped at step {len(before_each_step)}: the " in text
    assert "became NaN or infinite, so the last good weights are back" in text
    assert "Try a smaller learning rate" in text
    weights = window.document.weights
    last_good = before_each_step[-1]
    assert set(weights) == set(last_good)
    for name, value in weights.items():
        assert np.all(np.isfinite(value)), name
        np.testing.assert_array_equal(value, last_good[name], err_msg=name)


def test_training_a_graph_with_problems_says_what_to_do(window, qtbot):
    window.document.remove(["scores"])
    _click(qtbot, window.live.panel.run_controls.start_button)
    assert not window.live.session.running
    assert window.errors and "Problems" in window.errors[-1][1]


def test_training_settings_are_undoable_edits_of_the_project(window, qtbot):
    panel = window.live.panel
    type_into(panel.editors["batch_size"], 8)
    assert window.document.project.training.batch_size == 8
    window.undo_action.trigger()
    assert window.document.project.training.batch_size == 32
    assert panel.editors["batch_size"].value() == 32


def test_training_on_a_csv_file_chosen_from_the_panel(make_window, qtbot, tmp_path):
    window = make_window("forecast")
    csv = tmp_path / "series.csv"
    csv.write_text(
        "month,value\n" + "".join(f"{i},{100 + 20 * np.sin(i / 3) + i:.4f}\n" for i in range(120)),
        encoding="utf-8",
    )
    window.choose_data_path = lambda kind: str(csv)
    panel = window.live.panel
    index = next(i for i in range(panel.source.count()) if panel.source.itemData(i)[0] == "file")
    panel.source.setCurrentIndex(index)  # "Your own file…": the data view, on the file chosen
    view = window.live.data_view
    qtbot.waitUntil(lambda: view.state == "read", timeout=TRAINING_TIMEOUT)
    assert view.kind == "csv"  # guessed: a column of numbers a row is a series
    _click(qtbot, view.use_button)
    assert window.document.project.dataset.kind == "csv"
    assert window.document.project.dataset.name == str(csv)
    _train(qtbot, window, epochs=2)
    assert not window.errors
    assert window.document.runs[-1].stopped == "finished"


def test_inspector_explains_cells_and_the_whole_graph(window):
    window.inspector.show_node("reader")
    text = window.inspector.details.text()
    assert "c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t" in text
    assert "x_t ∈ ℝ^16" in text and "h_t ∈ ℝ^32" in text
    window.inspector.show_node(None)
    text = window.inspector.details.text()
    assert "Many-to-one" in text and "sentiment analysis" in text
    assert "Sequential compute" in text


def test_the_canvas_pans_and_zooms_while_training(window, qtbot):
    session = window.live.session
    window.live.panel.editors["epochs"].setValue(500)
    _click(qtbot, window.live.panel.run_controls.start_button)
    qtbot.waitUntil(lambda: len(session.reports) >= 2, timeout=TRAINING_TIMEOUT)
    view = window.view
    scale = view.transform().m11()
    window.zoom_in_action.trigger()
    assert view.transform().m11() > scale
    center = view.mapToScene(view.viewport().rect().center())
    view.centerOn(center + type(center)(200, 0))  # pan
    assert view.mapToScene(view.viewport().rect().center()).x() > center.x() + 100
    assert session.running
    reports = len(session.reports)
    qtbot.waitUntil(lambda: len(session.reports) > reports, timeout=TRAINING_TIMEOUT)
    _click(qtbot, window.live.panel.run_controls.stop_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.runs[-1].stopped == "cancelled"


def test_the_data_set_is_made_beside_the_gui_when_a_project_opens(window, qtbot):
    """The sentence data (~0.3 s to make) is prefetched on a helper thread; the views then take
    it without making it again, and a changed data source is not answered with the old one."""
    context = window.live.context
    assert context._pending is not None  # started when the window opened its project
    _key, future = context._pending
    qtbot.waitUntil(future.done, timeout=TRAINING_TIMEOUT)
    dataset = context.dataset()
    assert dataset is future.result() and "sentiment" in dataset.validation.examples[0]
    assert context.dataset() is dataset  # made once
    window.document.replace(new_project("many_to_many_equal"), None)
    assert context._pending is not None and context._pending[0] != _key
    tagged = context.dataset()  # waits for the new prefetch if it is still running
    assert tagged is not dataset and "tags" in tagged.validation.examples[0]


def test_what_a_prefetched_data_set_worked_out_is_kept_with_the_project(make_window, qtbot):
    """The prefetch works on a copy of the project; the alphabet it found for the language
    model still reaches the open project (and the views' words), as when made in place."""
    window = make_window("stacked_lstm")
    context = window.live.context
    _key, future = context._pending
    qtbot.waitUntil(future.done, timeout=TRAINING_TIMEOUT)
    assert "alphabet" not in window.document.project.dataset.options
    context.dataset()
    alphabet = window.document.project.dataset.options["alphabet"]
    assert len(alphabet) > 20 and context.token_name(alphabet.index("a")) == "a"
    assert context.dataset() is context.dataset()  # the kept options do not make it again


def test_a_prefetch_that_failed_on_an_old_graph_does_not_fail_the_fixed_one(window, qtbot):
    project = new_project("many_to_one")
    project.graph.set_param("scores", "units", 3)  # three classes for two labels: does not fit
    window.document.replace(project, None)
    _key, future = window.live.context._pending
    qtbot.waitUntil(future.done, timeout=TRAINING_TIMEOUT)
    assert future.exception() is not None
    assert window.document.set_param("scores", "units", 2)  # fixed
    assert "sentiment" in window.live.context.dataset().validation.examples[0]


def test_new_weights_end_a_walk_that_showed_the_old_ones(window, qtbot):
    live = window.live
    for _ in range(3):
        assert live.step_forward()
    _click(qtbot, live.panel.run_controls.batch_button)  # one batch of training: new weights
    qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    assert live.stepper is None and live.step_label.text() == ""
    assert not live.step_back()
    assert not any(item.lit for item in window.unrolled_scene.copies.values())


def test_renaming_while_stepping_keeps_the_walk_and_a_new_t_ends_it(window):
    live = window.live
    live.example.setValue(1)
    for _ in range(3):
        assert live.step_forward()
    window.document.rename("reader", "encoder")
    window.scene.refresh()
    assert live.stepper is not None and live.stepper.position == 3
    assert set(window.unrolled_scene.copies) == set(live.stepper.unrolled.schedule)
    assert "3/" in live.step_label.text()
    window.steps.setValue(window.steps.value() + 7)
    assert live.stepper is None
    assert len([k for k in window.unrolled_scene.copies if k.node == "reader"]) == 12


def test_a_step_that_no_longer_fits_the_data_says_so_and_ends_the_walk(make_window):
    window = make_window("forecast")
    live = window.live
    assert live.step_forward()
    live.stop_stepping()
    window.document.set_param("history", "features", 3)  # the series has one value a step
    window.scene.refresh()
    live.forward_action.trigger()  # an exception here would fail the test (pytest-qt)
    assert live.stepper is None
    assert window.errors and window.errors[-1][0] == "Cannot step"
    assert "features" in window.errors[-1][1]


def test_pause_pressed_while_the_data_loads_is_kept(window, qtbot):
    """The sentences take the child ~0.1 s to make; a Pause pressed at once reaches it first
    (its commands are read on a thread of their own) and holds the trainer before its first
    step."""
    session, panel = window.live.session, window.live.panel
    _click(qtbot, panel.run_controls.start_button)
    _click(qtbot, panel.run_controls.pause_button)
    assert session.state == "paused"
    qtbot.waitUntil(lambda: session.paused_at is not None, timeout=TRAINING_TIMEOUT)
    assert session.paused_at == 0 and session.reports == []  # paused before its first step
    _click(qtbot, panel.run_controls.pause_button)  # resume
    qtbot.waitUntil(lambda: session.steps_taken > 0, timeout=TRAINING_TIMEOUT)
    session.stop()
    assert not session.running


def test_the_reverse_direction_is_diagnosed_in_the_order_it_reads(make_window):
    """A bidirectional cell's reverse direction reads from the end: norms large at t = 0 and
    tiny at the last step (in time order) vanish for it, as they grow for the forward one."""
    from types import SimpleNamespace

    window = make_window("bidirectional_tagger")
    view = window.live.gradients
    (cell,) = [n.id for n in window.document.graph if n.type_name == "gru"]
    fading_back = np.logspace(0, -8, 20)  # time order: large at t = 0, tiny at t = 19
    norms = {cell: {"forward": fading_back[::-1], "reverse": fading_back}}
    window.live.session.reports = [
        SimpleNamespace(state_grad_norms=norms, connectivity=norms, grad_norm=1.0)
    ]
    texts = {}
    for direction in ("forward", "reverse"):
        (index,) = [
            i for i in range(view.cell.count()) if view.cell.itemData(i) == (cell, direction)
        ]
        view.cell.setCurrentIndex(index)
        view.redraw()
        texts[direction] = view.warning.text()
    assert "Vanishing" in texts["forward"] and "Vanishing" in texts["reverse"]
    assert "reverse direction" in texts["reverse"] and "Exploding" not in texts["reverse"]


def test_the_gradient_flow_of_one_project_is_not_shown_for_the_next(window, qtbot):
    live = window.live
    live.docks["gradient_dock"].raise_()
    _click(qtbot, live.panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    live.gradients.redraw()
    assert live.gradients.matrix.size > 0
    window.document.replace(new_project("many_to_many_equal"), None)
    assert live.gradients.matrix.size == 0 and live.gradients.image.image is None
    assert "Train to see" in live.gradients.warning.text()


def test_the_latest_gradient_curve_is_labelled_by_whole_decades():
    """pyqtgraph's own log ticks crowded their minor labels: the curve shows at least two
    decades and labels only powers of ten."""
    from ui.training.gradient_flow import _decades, _power_of_ten

    assert _power_of_ten(-12) == "10⁻¹²" and _power_of_ten(3) == "10³" and _power_of_ten(0) == "1"
    low, high = _decades(np.array([2e-6, 3e-5, np.nan, 0.0]))  # NaN and 0 (underflow) skipped
    assert high - low >= 2 and low < np.log10(2e-6) and high > np.log10(3e-5)
    assert _decades(np.array([0.0, np.nan])) is None


def test_what_training_worked_out_from_the_data_stays_with_the_project(make_window, qtbot):
    """The worker trains on a copy of the project; the normalisation it computed for the CSV
    series (which the weights depend on) comes back with the weights."""
    window = make_window("forecast")
    options = window.document.project.dataset.options
    assert "normalisation" not in options
    window.live.session.start(max_steps=1)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.weights is not None
    assert "normalisation" in window.document.project.dataset.options


def test_an_edit_then_one_batch_validates_the_graph_once(window, qtbot, monkeypatch):
    """The problems panel, Start, the data and the executor (in the worker, on its copy) all
    use the one report of the graph as it stands."""
    import rnn_builder.graph.validation as validation

    runs = []
    real = validation.Validator.run
    monkeypatch.setattr(validation.Validator, "run", lambda self: runs.append(1) or real(self))
    assert window.document.set_param("reader", "hidden_size", 12)
    _click(qtbot, window.live.panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.runs[-1].curve.steps == [1]
    assert window.document.weights["reader.weight_hh"].shape == (48, 12)
    assert len(runs) == 1


def test_a_killed_training_process_leaves_the_editor_up_with_the_best_weights(
    make_window, qtbot, monkeypatch
):
    """SIGKILL, as the out-of-memory killer sends it: the panel says so, the run so far and
    the weights of its best epoch are kept, and Start trains again in a new process. The best
    of every epoch's weights the child sent: kill() still takes in what it sent before it died
    (on a busy machine, a later epoch's, which this test once compared against an earlier)."""
    window = make_window("one_to_one")
    session, panel = window.live.session, window.live.panel
    epochs = []  # (validation loss, weights) of every epoch's end received
    on_weights = session._on_weights

    def received(message):
        if message.data.get("epoch_end"):
            loss = message.data.get("val_loss")
            finite = loss is not None and math.isfinite(loss)
            epochs.append((float(loss) if finite else math.inf, message.arrays))
        on_weights(message)

    monkeypatch.setattr(session, "_on_weights", received)
    type_into(panel.editors["epochs"], 500)
    _click(qtbot, panel.run_controls.start_button)
    # an epoch's weights, and the report of its steps (the weights come first)
    qtbot.waitUntil(
        lambda: session.best is not None and len(session.current.curve) > 0,
        timeout=TRAINING_TIMEOUT,
    )
    pid = session.process.pid
    session.kill()
    lowest = min(loss for loss, _ in epochs)
    best = [weights for loss, weights in epochs if loss == lowest][-1]  # the last of equals
    assert not session.running and session.process is None
    text = panel.run_controls.metrics.text()
    assert "signal 9" in text and "best epoch so far are kept" in text
    assert window.errors and "signal 9" in window.errors[-1][1]
    run = window.document.runs[-1]
    assert run.stopped == "process died" and len(run.curve)
    for name, value in best.items():
        np.testing.assert_array_equal(window.document.weights[name], value, err_msg=name)
    # a new Start: a new process, continuing from the kept weights
    _click(qtbot, panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert window.document.runs[-1].stopped == "steps" and len(window.document.runs) == 2
    assert training_process_pids(session) != {pid}


def training_process_pids(session) -> set:
    from rnn_builder.training import process as training_process

    return {p.pid for p in training_process._spares}


def test_a_failure_in_the_training_process_is_said_in_the_panel(make_window, qtbot, tmp_path):
    window = make_window("forecast")
    window.document.project.dataset.kind = "csv"
    window.document.project.dataset.name = str(tmp_path / "gone.csv")
    _click(qtbot, window.live.panel.run_controls.start_button)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    text = window.live.panel.run_controls.metrics.text()
    assert "gone.csv" in text and window.errors and "gone.csv" in window.errors[-1][1]
    assert window.document.runs == []  # a run that never ran is not kept


def test_a_run_past_the_curves_limit_is_drawn_as_its_trend_over_a_min_max_band(window):
    from rnn_builder.training.curve import LIMIT, LossCurve
    from rnn_builder.training.runs import RunRecord

    live = window.live
    losses = np.abs(np.sin(np.arange(3 * LIMIT))) + 0.01  # 60,000 steps
    curve = LossCurve()
    curve.extend(len(losses), losses)
    assert curve.width == 4 and not curve.exact
    window.document.runs.append(RunRecord(1, "run 1: long", {}, curve))
    live.docks["loss_dock"].raise_()
    live.plots.build()
    live.plots.redraw()
    assert live.plots.point_count() == len(curve) == 15_000
    _x, low = live.plots.train_low.getData()
    _x, high = live.plots.train_high.getData()
    np.testing.assert_allclose(10**low, curve.low, rtol=1e-9)  # log scale
    np.testing.assert_allclose(10**high, curve.high, rtol=1e-9)
    assert np.all(high >= low) and np.any(high > low)
    # a short run has no band: every point is a step
    window.document.runs.append(RunRecord(2, "run 2", {}, LossCurve.from_points([1, 2], [1, 2])))
    live.plots.redraw()
    assert live.plots.train_low.getData()[0] is None or not len(live.plots.train_low.getData()[0])
