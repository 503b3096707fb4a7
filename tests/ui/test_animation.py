"""A stepping walk exported as an animated GIF, one frame per step (issue 24 §3): from File →
Export → Stepping animation… (the dialog answered here, as in ``test_file_menu.py``) and from
``python main.py PROJECT --unrolled T --animate OUT.gif``."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageChops
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QFileDialog

from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project

from .test_live import TRAINING_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


def _frames(path: Path) -> list[Image.Image]:
    gif = Image.open(path)
    frames = []
    for index in range(gif.n_frames):
        gif.seek(index)
        frames.append(gif.convert("RGB"))
    return frames


def test_file_export_stepping_animation_writes_one_frame_per_step(
    make_window, qtbot, tmp_path, monkeypatch
):
    window = make_window("many_to_many_equal")
    window.live.example.setValue(2)
    asked = []

    def save_file(_parent, title, start, filters, *_rest):
        asked.append((title, start, filters))
        return str(tmp_path / "walk"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_file)
    files = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    files.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitUntil(files.isVisible)
    exports = next(
        a.menu() for a in files.actions() if a.menu() is not None and "Export" in a.text()
    )
    (action,) = [a for a in exports.actions() if a.objectName() == "export_animation"]
    files.hide()
    action.trigger()
    assert asked and asked[0][2] == "Animated GIF (*.gif)"
    qtbot.waitUntil(lambda: window.animation is None, timeout=TRAINING_TIMEOUT)
    assert window.errors == []
    steps = len(window.live.stepper.steps)  # the walk is left at its end, as drawn
    frames = _frames(tmp_path / "walk.gif")
    assert len(frames) == steps + 1  # the start, then one frame per step
    assert len({frame.size for frame in frames}) == 1  # the same part of the scene in each
    assert all(ImageChops.difference(a, b).getbbox() for a, b in itertools.pairwise(frames))
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.info.get("loop") == 0  # it loops, as slides want
    assert "Exported" in window.statusBar().currentMessage()


def test_main_animate_writes_the_walk_as_a_gif(tmp_path):
    project = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    out = tmp_path / "walk.gif"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            str(project),
            "--unrolled",
            "4",
            "--example",
            "1",
            "--animate",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"saved {out}"
    frames = _frames(out)
    assert len(frames) >= 4 and len({f.size for f in frames}) == 1
    # refused in one line: a project that cannot be stepped
    broken = new_project("many_to_one")
    broken.graph.remove_node("reader")
    save(broken, tmp_path / "broken.json")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            str(tmp_path / "broken.json"),
            "--animate",
            str(tmp_path / "no.gif"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines() if line.startswith("rnn-builder:")]
    assert len(said) == 1 and "cannot animate" in said[0]
    assert not (tmp_path / "no.gif").exists()


def test_a_gif_that_cannot_be_written_leaves_no_partial_file_and_says_why(
    make_window, qtbot, tmp_path, monkeypatch
):
    window = make_window("many_to_one")
    folder = tmp_path / "slides"
    folder.mkdir()

    def broken_save(_picture, target, *_args, **_kwargs):
        Path(target).write_bytes(b"GIF89a")  # the encoder had begun
        raise ValueError("the encoder broke")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    assert window.export_animation(folder / "walk.gif", show_progress=False)
    qtbot.waitUntil(lambda: window.animation is None, timeout=TRAINING_TIMEOUT)
    assert list(folder.iterdir()) == []  # neither the GIF nor its .walk.gif.partial
    title, message = window.errors[-1]
    assert title == "Cannot export the animation"
    assert message == f"could not write '{folder / 'walk.gif'}': ValueError: the encoder broke"
