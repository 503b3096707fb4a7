"""The node types added in one file (tests/test_plugin_cell.py: an MGU cell and a reverse-in-time
node) are in the palette under their categories, drop onto the canvas, are drawn with their own
lines, and the inspector shows their equations: the window reads all of that from the
registry."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from ..test_plugin_cell import mgu_project, toy_project
from .test_editor import drop_from_palette


def test_a_plugin_cell_is_in_the_palette_on_the_canvas_and_in_the_inspector(make_window):
    window = make_window(project=mgu_project())
    document = window.document
    item = window.palette.items["mgu"]
    assert item.text(0) == "MGU" and item.parent().text(0) == "Recurrent cells"
    assert window.scene.node_items["reader"].subtitle == "MGU · 32"
    window.scene.select_nodes(["reader"])
    assert window.inspector.node_id == "reader"
    assert "f_t = σ(" in window.inspector.details.text()
    before = set(document.graph.nodes)
    drop_from_palette(window, "mgu", QPointF(200, 600))
    (added,) = set(document.graph.nodes) - before
    assert document.graph.node(added).type_name == "mgu"
    assert window.inspector.node_id == added


def test_the_window_trains_a_plugin_cell_in_its_training_process(make_window, qtbot):
    from .test_live import TRAINING_TIMEOUT, _click

    window = make_window(project=mgu_project())
    _click(qtbot, window.live.panel.run_controls.batch_button)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    assert window.errors == [] and window.document.runs[-1].stopped == "steps"
    assert window.document.weights["reader.weight_hh"].shape == (64, 32)


def test_the_reverse_node_is_in_the_palette_on_the_canvas_and_in_the_inspector(make_window):
    window = make_window(project=toy_project())
    document = window.document
    item = window.palette.items["reverse"]
    assert item.text(0) == "Reverse" and item.parent().text(0) == "Time"
    assert window.scene.node_items["flip"].subtitle == "Reverse · t ↦ L−1−t"
    assert window.scene.node_items["tagger"].subtitle == "MGU · 32"
    window.scene.select_nodes(["unflip"])
    assert window.inspector.node_id == "unflip"
    assert "y_t = x_(L−1−t)" in window.inspector.details.text()
    before = set(document.graph.nodes)
    drop_from_palette(window, "reverse", QPointF(200, 600))
    (added,) = set(document.graph.nodes) - before
    assert document.graph.node(added).type_name == "reverse"
    assert window.inspector.node_id == added
    document.undo_stack.undo()
    assert set(document.graph.nodes) == before and added not in window.scene.node_items


def test_the_training_views_read_a_plugin_cells_gates_and_kind_from_its_type(make_window, qtbot):
    """The gradient-flow words and the hidden-state heatmaps ask the cell's node type (its
    gates, whether its gradients fade), so a plug-in cell shows in them as a built-in does."""
    from .test_live import TRAINING_TIMEOUT

    window = make_window(project=mgu_project())
    live = window.live
    assert live.session.start(max_steps=40)
    qtbot.waitUntil(lambda: not live.session.running, timeout=TRAINING_TIMEOUT)
    assert window.errors == []
    gradients = live.gradients
    assert gradients.cell.currentData() == ("reader", "forward")
    gradients.redraw()
    assert gradients.warning.text()
    hidden = live.hidden
    hidden.example.setValue(1)
    hidden.redraw()
    assert set(hidden.images) == {"h", "f", "n"}  # the MGU's one gate and its candidate
    assert np.all(hidden.images["f"] >= 0) and np.all(hidden.images["f"] <= 1)


def test_the_window_imports_weights_under_the_names_a_plugin_form_gives_them(
    make_window, qtbot, tmp_path
):
    from ..test_plugin_cell import renamed_mgu_weights
    from .test_model_files import _import

    project, trained = renamed_mgu_weights(tmp_path)
    window = make_window(project=project)
    _import(window, qtbot, tmp_path / "weights.safetensors")
    assert window.errors == []
    for name, value in trained.parameters.items():
        np.testing.assert_array_equal(window.document.weights[name], value.astype(np.float32))
