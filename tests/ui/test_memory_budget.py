"""The editor and the memory a network needs: the Problems panel says what training will hold
when it is more than the machine's budget (and follows the settings), and Start, Step ▶ and the
exports refuse such a network in one line instead of raising MemoryError out of a slot."""

from __future__ import annotations

from rnn_builder.files.templates import new_project
from rnn_builder.graph.budget import BUDGET_VARIABLE
from rnn_builder.graph.footprint import estimate_workload
from rnn_builder.graph.validation import validate
from rnn_builder.training.workload import workload_of
from tests.bombs import measured


def huge_project():
    """Every parameter within its limits, and 100,012,804,418 weights (issue 22)."""
    project = new_project("many_to_one")
    for node in ("words", "embed"):
        project.graph.set_param(node, "vocabulary", 1_000_000)
    project.graph.set_param("embed", "dimension", 100_000)
    return project


def panel_lines(window) -> list[str]:
    panel = window.problems
    return [panel.topLevelItem(i).text(1) for i in range(panel.topLevelItemCount())]


def test_a_network_too_large_opens_and_says_so_and_nothing_runs_it(make_window, qtbot, tmp_path):
    with measured() as cost:
        window = make_window(project=huge_project())
    assert cost.traced_peak < 200e6, cost  # the 400 GB of weights never asked for
    (line,) = panel_lines(window)
    assert "100,012,804,418 weights" in line and "make Embedding 'embed' smaller" in line
    assert window.layout_label.text() == "1 problem to fix"

    live = window.live
    assert not live.step_forward()  # Step ▶: refused, not a MemoryError out of the slot
    assert "Fix the graph's problems" in window.statusBar().currentMessage()
    live.panel.run_controls.start_button.click()
    assert not live.session.running
    title, message = window.errors[-1]
    assert title == "Training" and "memory budget" in message and "'embed'" in message
    assert window.model_files.export_onnx(tmp_path / "huge.onnx") is False
    title, message = window.errors[-1]
    assert title == "Cannot export to ONNX" and "memory budget" in message
    assert not (tmp_path / "huge.onnx").exists()


def training_needs(project, batch_size: int) -> int:
    project.training.batch_size = batch_size
    report = validate(project.graph)
    return estimate_workload(project.graph, workload_of(project), report).total


def test_the_panel_lists_what_training_needs_and_follows_the_settings(make_window, monkeypatch):
    project = new_project("stacked_lstm")
    small = training_needs(project, 8)
    assert 3 * small < training_needs(project, 4096)
    monkeypatch.setenv(BUDGET_VARIABLE, str(3 * small))  # batches of 8 fit (within half)
    window = make_window(project=project)
    (line,) = panel_lines(window)
    assert line.startswith("Training (batches of 4,096, 'text' 24 steps) needs about")
    assert "shrink the batch size" in line
    assert window.scene.report.ok  # the graph itself is fine: drawing, stepping go on

    assert not window.live.session.start()
    assert "memory budget" in window.errors[-1][1]

    window.document.set_training("batch_size", 8)  # one undo step; the panel follows it
    assert panel_lines(window) == []
    window.document.undo()
    assert len(panel_lines(window)) == 1


def test_step_checks_one_example_in_the_precision_it_explains_in(make_window, monkeypatch):
    project = new_project("stacked_lstm")
    for layer in ("layer_1", "layer_2"):
        project.graph.set_param(layer, "hidden_size", 1024)
    report = validate(project.graph)
    one = estimate_workload(project.graph, workload_of(project, purpose="predict"), report)
    step = estimate_workload(project.graph, workload_of(project, purpose="step"), report)
    assert step.total > 1.5 * one.total  # float64, as the editor explains
    monkeypatch.setenv(BUDGET_VARIABLE, str(int(1.25 * one.total)))
    window = make_window(project=project)
    assert window.scene.report.ok  # a float32 example fits (its warning says it is large)
    assert not window.live.step_forward()
    title, message = window.errors[-1]
    assert title == "Cannot step" and message.startswith("Stepping through an example")
    assert window.live.stepper is None
