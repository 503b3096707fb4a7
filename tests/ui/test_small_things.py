"""Small things a newcomer trips over: dialogs that suggest a name and a folder, one recovery
folder name, toolbar buttons that stay put."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QToolBar

import ui.editor.recovery
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
    parts = ui.editor.recovery.default_recovery_folder().parts
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
    from ui.training.unrolled_items import CopyItem

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
    assert lengths == {"words": 6, "context": 4}  # the Repeat's axis: its own box, its own 4


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


def test_an_encoder_decoder_is_drawn_with_a_length_for_each_axis(make_window):
    """Issue 24: T set only the words' axis, and the decoder was drawn as long as the encoder.
    The decoder's axis has a box of its own, starting at its own steps."""
    from ui.training.unrolled_items import CopyItem

    window = make_window("encoder_decoder_feedback")  # words (data) → … → decoder (4 steps)
    window.unrolled_action.trigger()
    box = window.axis_steps["previous_digit"]
    assert window.own_axes_action.isVisible() and box.value() == 4
    window.steps.setValue(7)
    box.setValue(3)
    assert window.unroll_lengths(window.scene.report) == {"words": 7, "previous_digit": 3}

    def steps_of(node: str) -> set[int]:
        items = window.unrolled_scene.items()
        return {c.key.t for c in items if isinstance(c, CopyItem) and c.key.node == node}

    assert steps_of("encoder") == set(range(7)) and steps_of("decoder") == set(range(3))
    assert window.document.graph.node("previous_digit").params["steps"] == 4  # drawing only
    # a graph whose own length changes resets its box; one without such an axis has none
    window.document.set_param("previous_digit", "steps", 6)
    assert box.value() == 6
    window.new_project("many_to_one")
    assert window.axis_steps == {} and not window.own_axes_action.isVisible()
