"""Small things a newcomer trips over: dialogs that suggest a name and a folder, one recovery
folder name, toolbar buttons that stay put."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QToolBar

import ui.editor.document
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project


def _asked(monkeypatch) -> list[tuple[str, str]]:
    asked = []

    def answer(_parent, title, start, _filters):
        asked.append((title, start))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_save_and_export_dialogs_start_beside_the_project_with_its_name(
    make_window, monkeypatch, tmp_path
):
    (tmp_path / "work").mkdir()
    path = save(new_project("many_to_one"), tmp_path / "work" / "sentiment.json")
    window = make_window("many_to_one", path)
    asked = _asked(monkeypatch)
    window.save_as()
    window.export_picture()
    window.model_files.export_onnx()
    starts = [Path(start) for _title, start in asked]
    assert starts == [path, path.with_suffix(".png"), path.with_suffix(".onnx")]


def test_an_unsaved_project_is_suggested_a_name_from_its_title(window, monkeypatch):
    asked = _asked(monkeypatch)
    window.save_as()
    start = Path(asked[0][1])
    assert start.name == "sentence_sentiment.json" and start.parent.is_dir()


def test_the_recovery_folder_names_the_app_once():
    parts = ui.editor.document.default_recovery_folder().parts
    assert parts[-2:] == ("RNN Builder", "recovery")
    assert "RNN Builder" not in parts[:-2]


def test_undo_and_redo_keep_their_width_in_the_toolbar(window, qtbot):
    toolbar = window.findChild(QToolBar, "toolbar")
    undo = toolbar.widgetForAction(window.undo_action)
    before = (undo.text(), undo.sizeHint().width())
    window.scene.select_nodes(["scores"])
    window.duplicate()  # "Undo Duplicate" in the menu
    assert window.undo_action.text() == "&Undo Duplicate"
    assert window.undo_action.toolTip() == "Undo Duplicate"
    assert (undo.text(), undo.sizeHint().width()) == ("Undo", before[1])


def test_a_repeat_unrolls_over_its_own_steps_and_the_t_box_says_so(make_window):
    """T = 5 was shown, and used, for a Repeat of 4 steps."""
    from ui.training.unrolled_view import CopyItem

    window = make_window("one_to_many")  # a chord → Repeat (steps 4) → GRU → notes
    window.unrolled_action.trigger()
    assert window.steps.value() == 4 and not window.steps.isEnabled()
    assert (
        "own lengths" in window.steps.toolTip() and "'over_time' 4 steps" in window.steps.toolTip()
    )
    cells = [
        c for c in window.unrolled_scene.items() if isinstance(c, CopyItem) and c.key.t is not None
    ]
    assert {c.key.t for c in cells} == set(range(4))


def test_t_still_sets_the_length_of_data_axes_beside_a_repeat(make_window):
    window = make_window("many_to_many_unequal")  # words (data) → encoder → Repeat (4) → decoder
    window.steps.setValue(6)
    window.unrolled_action.trigger()
    assert window.steps.isEnabled()
    lengths = window.unroll_lengths(window.scene.report)
    assert lengths == {"words": 6}


def test_a_template_is_its_own_example_and_a_graph_of_ones_own_gets_the_classic_one(make_window):
    window = make_window("stacked_lstm")  # a language model: not "e.g. named-entity recognition"
    assert (
        window.layout_label.text()
        == f"Many-to-many (equal lengths) — {window.document.project.title}"
    )
    assert "named-entity" not in window.layout_label.text()
    window.document.project.template = None
    window._show_report(window.scene.report)
    assert window.layout_label.text().startswith("Many-to-many (equal lengths) — e.g. ")


def test_the_inspector_keeps_a_space_before_its_hint(make_window):
    window = make_window("one_to_one")
    window.inspector.show_node(None)
    text = window.inspector.details.text()
    assert "Select a node" in text and ".Select" not in text
