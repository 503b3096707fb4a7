"""File → Export → ONNX model… (and the export machinery's dialogs): what is written is checked
and whole, failures are one line in a dialog, a cancelled export leaves nothing."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
from PySide6.QtWidgets import QMenu

from rnn_builder.engine.executor import Executor
from rnn_builder.training.predict import prediction, read_input

from ..helpers import dense_written_wrong
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
    lengths = np.array([len(words)], np.int32)  # required: every input ONNX Runtime lists
    (theirs,) = session.run(None, {"words": words, "words_lengths": lengths})
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


# --- File → Export → PyTorch project… and File → Import weights… ------------------------------


def _files_action(window, name):
    files = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    return next(a for a in files.actions() if a.objectName() == name)


def _export_pytorch(window, qtbot, folder):
    window.choose_save_path = lambda *args: str(folder)
    _menu_action(window, "export_pytorch").trigger()
    qtbot.waitUntil(lambda: not window.model_files.busy, timeout=TRAINING_TIMEOUT)


def _import(window, qtbot, path):
    window.choose_file_to_read = lambda *args: str(path)
    _files_action(window, "import_weights").trigger()
    qtbot.waitUntil(lambda: not window.model_files.busy, timeout=TRAINING_TIMEOUT)


def test_the_pytorch_export_writes_a_checked_project_whose_weights_come_back(
    window, qtbot, tmp_path
):
    pytest.importorskip("torch")
    trained = Executor(window.document.graph, seed=11).get_parameters()
    window.document.set_weights(trained)
    folder = tmp_path / "sentiment_pytorch"
    _export_pytorch(window, qtbot, folder)
    assert window.errors == []
    names = {p.name for p in folder.iterdir()}
    assert {"model.py", "weights.safetensors", "data.npz", "train.py", "README.md"} <= names
    title, text = window.model_files.messages[-1]
    assert title == "Exported to PyTorch" and "with its trained weights" in text
    assert "largest difference" in text and "torchrun" in text

    # other weights in the document; importing the exported file brings the trained ones back
    window.document.set_weights(Executor(window.document.graph, seed=12).get_parameters())
    _import(window, qtbot, folder / "weights.safetensors")
    assert window.errors == []
    assert set(window.document.weights) == set(trained)
    for name, value in trained.items():
        np.testing.assert_array_equal(window.document.weights[name], value)
    assert window.model_files.messages[-1][0] == "Imported weights"
    assert "imported from weights.safetensors" in window.live.panel.run_controls.metrics.text()
    assert window.document.modified  # new weights are unsaved work


def test_a_damaged_weights_file_is_refused_in_one_line_and_the_weights_stay(
    window, qtbot, tmp_path
):
    kept = Executor(window.document.graph, seed=3).get_parameters()
    window.document.set_weights(kept)
    damaged = tmp_path / "weights.safetensors"
    damaged.write_bytes(b"\xff" * 8 + b"{not json")
    _import(window, qtbot, damaged)
    title, message = window.errors[-1]
    assert title == "Cannot import weights" and "\n" not in message
    assert "weights.safetensors" in message
    for name, value in kept.items():
        np.testing.assert_array_equal(window.document.weights[name], value)


def test_weights_of_another_graph_are_refused_naming_the_mismatch(make_window, qtbot, tmp_path):
    other = make_window("many_to_many_equal")
    path = tmp_path / "other.npz"
    np.savez(path, **Executor(other.document.graph, seed=0).get_parameters())
    window = make_window()
    _import(window, qtbot, path)
    title, message = window.errors[-1]
    assert title == "Cannot import weights" and "\n" not in message
    assert window.document.weights is None


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ("raises", "fails when PyTorch runs it: AttributeError"),
        ("doubles", "disagrees with ours"),
    ],
)
def test_a_pytorch_check_that_fails_or_raises_leaves_no_folder(
    make_window, qtbot, tmp_path, mistake, words
):
    """A plug-in's PyTorch form with a mistake: a check that raised left its folder behind
    (and the next export refused it as 'not an empty folder')."""
    pytest.importorskip("torch")
    window = make_window(project=dense_written_wrong(mistake))
    folder = tmp_path / "exported" / "sentiment_pytorch"
    folder.parent.mkdir()
    for _attempt in range(2):
        _export_pytorch(window, qtbot, folder)
        title, message = window.errors[-1]
        assert title == "Cannot export to PyTorch" and "\n" not in message
        assert words in message and "nothing was written" in message
        assert list(folder.parent.iterdir()) == []
    assert window.model_files.messages == []


def test_a_cancelled_pytorch_export_leaves_no_folder(window, qtbot, tmp_path):
    folder = tmp_path / "cancelled"
    window.choose_save_path = lambda *args: str(folder)
    _menu_action(window, "export_pytorch").trigger()
    assert window.model_files.busy
    window.model_files.cancel()
    qtbot.waitUntil(lambda: not window.model_files.busy, timeout=TRAINING_TIMEOUT)
    # the job may still be writing: its folder goes when it ends
    from rnn_builder.engine.threads import one_thread

    one_thread("export").submit(lambda: None).result(timeout=TRAINING_TIMEOUT)
    assert not folder.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cancelled")]
    assert window.model_files.messages == []
