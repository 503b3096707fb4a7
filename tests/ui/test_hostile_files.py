"""Hostile or oversized files beside a project (weights, runs, recovery copies) and on the
clipboard: refused at once and in little memory, with a note; the project still opens."""

from __future__ import annotations

import json
import struct
import zipfile

import main
import ui.editor.clipboard
import ui.editor.document
import ui.editor.project_files
from rnn_builder.engine.executor import Executor
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.training.curve import LossCurve
from rnn_builder.training.runs import RunRecord
from tests.bombs import measured, write_bomb


class Yes:
    """A message box that answers Yes."""

    class StandardButton:
        Yes, No = 1, 2

    @classmethod
    def question(cls, _parent, _title, _text):
        return cls.StandardButton.Yes


def bomb_for(graph, path):
    """Weights that fit ``graph`` but for ``reader.weight_ih``, which declares 6 GB."""
    others = Executor(graph, seed=1).get_parameters()
    del others["reader.weight_ih"]
    return write_bomb(path, "reader.weight_ih", 6.0, others)


def test_a_project_whose_weights_are_a_zip_bomb_opens_without_them(make_window, tmp_path):
    window = make_window("one_to_one")
    project = new_project("many_to_one")
    path = save(project, tmp_path / "sentiment.json")
    bomb_for(project.graph, tmp_path / "sentiment.npz")
    with measured() as cost:
        opened = window.open_project(path)
    print(cost)
    assert cost.seconds < 1.0 and cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    assert opened and window.errors == []
    document = window.document
    assert document.path == path and "reader" in document.graph
    assert document.weights is None and not document.modified
    note = window.statusBar().currentMessage()
    assert note.startswith("The trained weights were not loaded: ")
    assert "'reader.weight_ih' declares shape (1500000000,), 6.0 GB" in note


def test_a_window_made_on_such_a_project_says_so_too(make_window, tmp_path):
    project = new_project("many_to_one")
    path = save(project, tmp_path / "sentiment.json")
    bomb_for(project.graph, tmp_path / "sentiment.npz")
    window = make_window("many_to_one", path)
    assert window.document.weights is None
    assert "weights were not loaded" in window.statusBar().currentMessage()


def test_a_recovery_copy_with_a_zip_bomb_recovers_the_graph_alone(make_window):
    crashed = make_window("many_to_one")
    crashed.document.set_weights(Executor(crashed.document.graph, seed=7).get_parameters())
    copy = crashed.document.write_recovery()
    bomb_for(crashed.document.graph, copy.with_suffix(".npz"))

    fresh = make_window("one_to_one")
    with measured() as cost:
        main.offer_recovery(fresh, Yes)
    print(cost)
    assert cost.seconds < 1.0 and cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    document = fresh.document
    assert document.project.template == "many_to_one" and document.modified
    assert document.weights is None
    note = fresh.statusBar().currentMessage()
    assert note.startswith("The trained weights were not loaded: ") and "6.0 GB" in note


def test_weights_of_an_earlier_graph_are_still_kept_beside_a_project(make_window, tmp_path):
    """The companion weights may hold tensors that no longer fit (the graph changed after
    training): they are kept, as before, within their budget."""
    window = make_window("many_to_one")
    document = window.document
    weights = Executor(document.graph, seed=7).get_parameters()
    weights["reader.weight_ih"] = weights["reader.weight_ih"][:, :3].copy()  # an older shape
    document.set_weights(weights)
    path = tmp_path / "saved.json"
    document.save(path)
    window.open_project(path)
    assert set(document.weights) == set(weights) and document.load_problems == []
    assert "reader.weight_ih" not in document.weights_if_they_fit()


def test_oversized_or_damaged_runs_are_left_out_with_a_note(make_window, tmp_path, monkeypatch):
    window = make_window("many_to_one")
    path = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    runs = [RunRecord(1, "run 1", {}, LossCurve.from_points(range(1, 201), [0.5] * 200)).to_json()]
    text = json.dumps(runs)
    runs_path = tmp_path / "sentiment.runs.json"
    runs_path.write_text(text, encoding="utf-8")
    window.open_project(path)
    assert [run.label for run in window.document.runs] == ["run 1"]  # under the cap: read

    monkeypatch.setattr(ui.editor.project_files, "MAX_RUNS_BYTES", len(text) - 1)
    window.open_project(path)
    assert window.document.runs == [] and window.errors == []
    note = window.statusBar().currentMessage()
    assert note.startswith("The training runs were not loaded: the runs file")
    assert "at most" in note

    monkeypatch.undo()
    runs_path.write_text("[{" * 100_000, encoding="utf-8")  # nested too deeply to parse
    window.open_project(path)
    assert window.document.runs == []
    assert "runs were not loaded" in window.statusBar().currentMessage()


def test_an_oversized_recovery_copy_is_skipped_as_damaged(make_window, monkeypatch):
    crashed = make_window("many_to_one")
    crashed.document.add_node("gru", (0.0, 300.0))
    copy = crashed.document.write_recovery()
    assert [r.file for r in crashed.document.leftover_recoveries()] == [copy]
    monkeypatch.setattr(ui.editor.document, "MAX_RECOVERY_BYTES", copy.stat().st_size - 1)
    assert crashed.document.leftover_recoveries() == []
    assert copy.exists()  # skipped, not deleted: another version may read it


def test_pasting_oversized_text_is_refused_with_a_message(window, monkeypatch):
    graph = window.document.graph
    before = set(graph.nodes)
    window.scene.select_nodes(["embed", "reader"])
    window.copy()
    text = ui.editor.clipboard.text()
    monkeypatch.setattr(ui.editor.clipboard, "MAX_CLIPBOARD_CHARS", len(text) - 1)
    window.paste()
    assert set(graph.nodes) == before
    title, message = window.errors[-1]
    assert title == "Cannot paste" and "copied nodes may take" in message
    monkeypatch.undo()
    window.paste()
    assert len(set(graph.nodes) - before) == 2


def test_a_runs_file_with_fields_of_the_wrong_kind_is_left_out_before_any_plot_reads_it(
    make_window, tmp_path
):
    """Each of these opened the project and then raised in the loss plots' slots."""
    window = make_window("many_to_one")
    window.live.docks["loss_dock"].raise_()
    window.live.plots.build()
    path = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    good = RunRecord(1, "run 1", {}, LossCurve.from_points([1, 2], [0.7, 0.5])).to_json()
    damaged = [
        {"settings": "epochs 3"},
        {"loss_curve": {"steps": [1, 2], "mean": "low"}},
        {"loss_curve": None},
        {"loss_curve": {"steps": [1, 2, 3], "mean": [0.7, 0.5]}},
        {"stopped": ["finished"]},
        {"val_steps": [1], "val_loss": [], "val_metric": []},
    ]
    for change in damaged:
        run = {**good, **change}
        (tmp_path / "sentiment.runs.json").write_text(json.dumps([run]), encoding="utf-8")
        assert window.open_project(path)
        assert window.document.runs == [], change
        assert window.statusBar().currentMessage().startswith("The training runs were not loaded")
        window.live.plots.redraw()
    assert window.errors == []


def unclosed_header_npz(path):
    """An ``.npz`` whose one member's header dictionary is never closed (numpy's parser
    raised tokenize.TokenError on it)."""
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,"
    text += b" " * (64 - (10 + len(text) + 1) % 64) + b"\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "reader.weight_ih.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text
        )
    return path


def shown(window) -> tuple:
    """What the window shows of its project: title, the canvas's nodes, the document's path."""
    return window.windowTitle(), sorted(window.scene.node_items), window.document.path


def test_a_project_whose_weights_have_a_damaged_header_opens_without_them(make_window, tmp_path):
    window = make_window("one_to_one")
    path = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    unclosed_header_npz(tmp_path / "sentiment.npz")
    assert window.open_project(path) and window.errors == []
    document = window.document
    assert document.path == path and document.weights is None
    assert shown(window) == (
        "sentiment.json[*] — RNN Builder",
        sorted(document.graph.nodes),
        path,
    )
    note = window.statusBar().currentMessage()
    assert note.startswith("The trained weights were not loaded: ")
    assert note.endswith(
        "'reader.weight_ih' has a damaged .npy header (not the dictionary numpy writes)"
    )


def test_opening_is_all_or_nothing_when_a_file_beside_the_project_cannot_be_read(
    make_window, tmp_path, monkeypatch
):
    """Whatever goes wrong while the project and its companions are read — here a reader
    that fails as a bug would — the window and its document keep the project that was open,
    with its undo history, its weights and its recovery copy, and say why in one line."""
    window = make_window("one_to_one")
    document = window.document
    old_project, weights = document.project, Executor(document.graph, seed=3).get_parameters()
    document.set_weights(weights)
    document.add_node("gru", (0.0, 300.0))
    recovery = document.write_recovery()
    before = shown(window)
    path = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    (tmp_path / "sentiment.runs.json").write_text("[]", encoding="utf-8")

    def failing(_path):
        raise RuntimeError("a reader's bug")

    monkeypatch.setattr(ui.editor.project_files, "read_runs_beside", failing)
    window.ask_to_save = lambda: "discard"
    assert not window.open_project(path)
    assert document.project is old_project and shown(window) == before
    assert document.weights is not None and set(document.weights) == set(weights)
    assert document.modified and document.undo_stack.count() == 1 and recovery.exists()
    assert window.errors == [
        (
            "Cannot open the project",
            f"'{path}' could not be opened: internal error: RuntimeError: a reader's bug "
            "(please report this)",
        )
    ]
    assert document.undo() and "gru" not in document.graph.nodes  # its history still works
    monkeypatch.undo()
    assert window.open_project(path) and shown(window)[1] == sorted(document.graph.nodes)
    assert document.path == path and document.undo_stack.count() == 0
