"""File → Export → ONNX model… (and the export machinery's dialogs): what is written is checked
and whole, failures are one line in a dialog, a cancelled export leaves nothing."""

from __future__ import annotations

import numpy as np
import onnxruntime
from PySide6.QtWidgets import QMenu

from rnn_builder.executor import Executor
from rnn_builder.predict import prediction, read_input

from .test_live import TRAINING_TIMEOUT


def _menu_action(window, name):
    """The action as the File menu holds it (File → Export → …)."""
    files = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(
        a.menu() for a in files.actions() if isinstance(a.menu(), QMenu) and "Export" in a.text()
    )
    return next(a for a in export.actions() if a.objectName() == name)


def _export(window, qtbot, path):
    window.choose_save_path = lambda *args: str(path)
    _menu_action(window, "export_onnx").trigger()
    qtbot.waitUntil(lambda: not window.model_files.busy, timeout=TRAINING_TIMEOUT)


def test_the_onnx_export_writes_the_trained_weights_checked(window, qtbot, tmp_path):
    weights = Executor(window.document.graph, seed=11).get_parameters()
    window.document.set_weights(weights)
    target = tmp_path / "sentiment"  # the suffix is added
    _export(window, qtbot, target)
    written = tmp_path / "sentiment.onnx"
    assert written.is_file() and window.errors == []
    title, text = window.model_files.messages[-1]
    assert title == "Exported to ONNX" and "with its trained weights" in text
    assert "largest difference" in text and "within 1e-05" in text
    # the file holds these weights: ONNX Runtime predicts what our executor predicts
    window.live.context.dataset()  # the task's vocabulary, as predict reads it
    typed = read_input(window.document.project, "the film was not bad at all")
    executor = Executor(window.document.graph, seed=0)
    executor.set_parameters(weights)
    ours, _output = prediction(executor, typed.example)
    session = onnxruntime.InferenceSession(str(written))
    words = np.asarray(typed.example["words"], dtype=np.int64)[:, None]  # (T, B=1)
    (theirs,) = session.run(None, {"words": words})
    np.testing.assert_allclose(theirs[0], ours, atol=1e-5)
    assert not np.allclose(theirs[0], theirs[0].mean())  # a real prediction, not a constant


def test_an_invalid_graph_is_refused_with_its_problem(window, qtbot, tmp_path):
    window.document.remove(["scores"])
    window.choose_save_path = lambda *args: str(tmp_path / "x.onnx")
    _menu_action(window, "export_onnx").trigger()
    assert not window.model_files.busy and not (tmp_path / "x.onnx").exists()
    title, message = window.errors[-1]
    assert title == "Cannot export to ONNX" and "has no input" in message


def test_an_unwritable_path_is_one_line_and_leaves_nothing(window, qtbot, tmp_path):
    target = tmp_path / "missing folder" / "model.onnx"
    _export(window, qtbot, target)
    title, message = window.errors[-1]
    assert title == "Cannot export to ONNX" and "\n" not in message
    assert not target.parent.exists()


def test_a_cancelled_export_writes_nothing(window, qtbot, tmp_path):
    window.choose_save_path = lambda *args: str(tmp_path / "m.onnx")
    _menu_action(window, "export_onnx").trigger()
    assert window.model_files.busy
    window.model_files.cancel()
    qtbot.waitUntil(lambda: not window.model_files.busy, timeout=TRAINING_TIMEOUT)
    assert not (tmp_path / "m.onnx").exists() and window.model_files.messages == []
    assert "Cancelled" in window.statusBar().currentMessage()
