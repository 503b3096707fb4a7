"""The window shows the project's graph, follows the model, and renders headlessly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.graph.model import Edge
from ui.canvas.node_item import NodeItem
from ui.canvas.style import CATEGORY_COLORS
from ui.training.unrolled_items import LIT_COLOR

ROOT = Path(__file__).resolve().parents[2]


def test_window_has_its_parts_and_shows_every_node_and_wire(window):
    graph = window.document.graph
    scene = window.scene
    assert set(scene.node_items) == set(graph.nodes)
    assert set(scene.edge_items) == set(graph.edges)
    for name in ("palette", "canvas", "inspector", "problems"):
        assert window.findChild(object, name) is not None, name
    assert window.layout_label.text() == "Many-to-one — Sentence sentiment"
    assert window.parameters_label.text() == "7,106 parameters"
    assert window.windowTitle().startswith("Sentence sentiment (unsaved)")


def test_ports_are_labelled_with_inferred_shapes(window):
    reader = window.scene.node_items["reader"]
    assert reader.inputs["x"].shape_info.label() == "seq·16"
    assert reader.outputs["h_n"].shape_info.label() == "vec·32"
    assert reader.outputs["h_n"].connected and not reader.outputs["y"].connected
    assert window.scene.edge_items[Edge("reader", "h_n", "scores", "x")].kind == "vec"


def test_scene_follows_model_edits(window, qtbot):
    graph = window.document.graph
    scene = window.scene
    graph.add_node("gru", node_id="extra", position=(100, 300))
    assert isinstance(scene.node_items["extra"], NodeItem)
    graph.connect("embed", "y", "extra", "x")
    graph.set_param("extra", "hidden_size", 12)
    qtbot.waitUntil(lambda: scene.node_items["extra"].outputs["y"].shape_info.label() == "seq·12")
    graph.set_position("extra", (40, 500))
    path = scene.edge_items[Edge("embed", "y", "extra", "x")].path()
    end = path.elementAt(path.elementCount() - 1)
    assert end.y == pytest.approx(scene.node_items["extra"].inputs["x"].scene_anchor().y())
    graph.remove_node("extra")
    assert "extra" not in scene.node_items
    assert len([i for i in scene.items() if isinstance(i, NodeItem)]) == len(graph)


def test_screenshot_writes_a_png_of_the_default_project(tmp_path):
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--screenshot", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    colors = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
    }
    assert CATEGORY_COLORS["Inputs"].name() in colors  # the sequence input node is drawn
    assert len(colors) > 20


def test_screenshot_of_a_given_project_unrolled_and_of_a_bad_one(tmp_path):
    path = save(new_project("encoder_decoder_feedback"), tmp_path / "p.json")
    out = tmp_path / "p.png"
    ok = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            str(path),
            "--screenshot",
            str(out),
            "--unrolled",
            "4",
            "--theme",
            "dark",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    image = QImage(str(out))
    assert image.pixelColor(image.width() // 2, 70) != QColor(0, 0, 0, 0)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    refused = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            str(bad),
            "--screenshot",
            str(tmp_path / "bad.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_screenshots_of_two_sizes_at_once_each_get_their_own_screen(tmp_path):
    """``--size`` gives Qt its screen in a file of the run's own, removed at exit: two runs
    at once with different sizes do not read each other's, and leave nothing behind."""
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temporary)}
    env.pop("QT_QPA_PLATFORM", None)
    runs = {
        (width, height): subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--screenshot",
                str(tmp_path / f"{width}.png"),
                "--size",
                f"{width}x{height}",
                "--present",  # the window fills the screen
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for width, height in ((900, 700), (1500, 1000))
    }
    for (width, height), run in runs.items():
        _out, errors = run.communicate(timeout=180)
        assert run.returncode == 0, errors
        image = QImage(str(tmp_path / f"{width}.png"))
        assert (image.width(), image.height()) == (width, height)
    assert list(temporary.iterdir()) == []


def test_a_screen_size_that_cannot_be_set_up_is_said_in_one_line(monkeypatch, capsys):
    import main

    def refused(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(main.tempfile, "mkstemp", refused)
    assert main.main(["--screenshot", "never.png", "--size", "800x600"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("rnn-builder: cannot give the offscreen screen its --size")
    assert said.strip().endswith("Permission denied") and len(said.splitlines()) == 1


def test_screenshot_while_training_and_while_stepping(tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "p.json")
    for extra, out in (
        (["--train", "0.5", "--show", "gradient"], tmp_path / "training.png"),
        (["--step", "2", "--select", "reader", "--show", "hidden"], tmp_path / "step.png"),
    ):
        result = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), str(path), "--screenshot", str(out), *extra],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        image = QImage(str(out))
        assert image.width() >= 800
    colors = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    }
    assert LIT_COLOR.name() in colors  # the copies of the step being shown glow


EXIT_AFTER_COPY = """
import sys
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from rnn_builder.files.templates import new_project
from ui.editor.document import GraphDocument
from ui.main_window import MainWindow

app = QApplication([])
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(GraphDocument(new_project("many_to_one")), settings)
window.show()
window.select_all_action.trigger()
window.copy_action.trigger()
window.shutdown()
print(QGuiApplication.clipboard().text()[:30])
"""


def test_copied_nodes_outlive_the_window_as_text_and_the_process_exits_cleanly(tmp_path):
    # Copy's QMimeData is made in Python; left on the clipboard, Qt destroyed it after the
    # interpreter had gone, and the process crashed on the way out (exit code -11).
    result = subprocess.run(
        [sys.executable, "-c", EXIT_AFTER_COPY, str(tmp_path / "settings.ini")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{"format": "rnn-builder-selec')  # pastes as text
