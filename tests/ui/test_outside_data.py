"""A project from elsewhere is not trusted (issue 22, item 12): a data file outside the
project's folder is shown and confirmed before the app reads it. The question is a real
QMessageBox, answered here by clicking its buttons, both ways; nothing reads the file before
it is answered, and a file the user chose in the app's own dialog is not asked about."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from rnn_builder.files import data_readers
from rnn_builder.files.data_paths import OutsideDataError
from rnn_builder.files.serialization import project_to_dict
from rnn_builder.files.templates import new_project
from ui.editor.data_trust import data_folder

REVIEWS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "reviews.csv"


class Answerer:
    """Answers the outside-data question when it is up, recording what it said and what had
    been read by then."""

    def __init__(self, answer: QMessageBox.StandardButton, reads: list[Path]) -> None:
        self.answer, self.reads = answer, reads
        self.asked: list[tuple[str, list[Path]]] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "outside_data_question":
            return
        self.asked.append((box.text(), list(self.reads)))
        box.button(self.answer).click()


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """Every data file a reader opens."""
    opened: list[Path] = []
    check = data_readers.check_file

    def spy(path, *args, **kwargs):
        opened.append(Path(path).resolve())
        return check(path, *args, **kwargs)

    monkeypatch.setattr(data_readers, "check_file", spy)
    return opened


@pytest.fixture
def project_outside(tmp_path) -> tuple[Path, Path]:
    """A project in its own folder whose data file is beside that folder, not in it."""
    (tmp_path / "project").mkdir()
    (tmp_path / "elsewhere").mkdir()
    data = tmp_path / "elsewhere" / "reviews.csv"
    shutil.copy(REVIEWS, data)
    project = new_project("many_to_one")
    for node in ("words", "embed"):  # the reviews' vocabulary
        project.graph.set_param(node, "vocabulary", 44)
    document = project_to_dict(project)
    document["dataset"] = {"kind": "labelled", "name": "../elsewhere/reviews.csv", "options": {}}
    path = tmp_path / "project" / "p.json"
    path.write_text(json.dumps(document))
    return path, data.resolve()


def _open(window, qtbot, path: Path) -> None:
    with qtbot.captureExceptions() as exceptions:
        assert window.open_project(path)
    assert not exceptions


def test_declined_the_file_is_never_read(window, qtbot, reads, project_outside):
    path, data = project_outside
    answerer = Answerer(QMessageBox.StandardButton.No, reads)
    _open(window, qtbot, path)
    assert len(answerer.asked) == 1
    text, read_by_then = answerer.asked[0]
    assert str(data) in text and "../elsewhere/reviews.csv" in text
    assert read_by_then == []
    with pytest.raises(OutsideDataError):
        window.live.context.dataset()  # a view asks for the data: refused, one line
    with qtbot.captureExceptions() as exceptions:  # the views that read it say so, no more
        window.live.step_forward()
        window.live.hidden.redraw()
    assert not exceptions
    title, message = window.errors[-1]
    assert title == "Cannot step" and "is outside the project's folder" in message
    assert "\n" not in message
    assert data not in reads
    failures = []
    window.live.session.failed.connect(failures.append)
    assert not window.live.session.start()  # Start asks again; declined again: no run
    answerer.timer.stop()
    assert len(answerer.asked) == 2 and failures and "not allowed" in failures[0]
    assert data not in reads and not window.live.session.running


def test_confirmed_it_is_read_and_not_asked_again(window, qtbot, reads, project_outside):
    path, data = project_outside
    answerer = Answerer(QMessageBox.StandardButton.Yes, reads)
    _open(window, qtbot, path)
    assert len(answerer.asked) == 1 and answerer.asked[0][1] == []
    dataset = window.live.context.dataset()
    assert len(dataset.train) > 100 and data in reads
    assert data in data_folder(window.document).allowed  # what the training process is sent
    assert window.confirm_outside_data()  # allowed for this project: not asked again
    _open(window, qtbot, path)
    answerer.timer.stop()
    assert len(answerer.asked) == 1


def test_a_file_chosen_in_the_apps_dialog_is_not_asked_about(make_window, qtbot, reads, tmp_path):
    (tmp_path / "project").mkdir()
    path = tmp_path / "project" / "p.json"
    window = make_window(project=new_project("many_to_one"), path=path)
    data = tmp_path / "reviews.csv"
    shutil.copy(REVIEWS, data)
    answerer = Answerer(QMessageBox.StandardButton.No, reads)
    window.choose_data_path = lambda _kind: str(data)
    view = window.live.open_data_view(ask=True)  # "Your own file…", the file chosen
    qtbot.waitUntil(lambda: view.state in ("read", "failed"), timeout=120_000)
    assert view.state == "read" and view.use() and view.fit()
    assert window.document.project.dataset.name == str(data)
    assert len(window.live.context.dataset().train) > 100  # read where it is, not asked
    view.close()
    answerer.timer.stop()
    assert answerer.asked == [] and data.resolve() in reads


def test_the_data_view_asks_before_it_shows_the_projects_file(
    window, qtbot, reads, project_outside
):
    path, data = project_outside
    answerer = Answerer(QMessageBox.StandardButton.No, reads)
    _open(window, qtbot, path)
    view = window.live.open_data_view()  # asked again: declined again, so no file is shown
    assert len(answerer.asked) == 2 and view.path is None and data not in reads
    view.close()
    answerer.answer = QMessageBox.StandardButton.Yes
    view = window.live.open_data_view()
    qtbot.waitUntil(lambda: view.state in ("read", "failed"), timeout=120_000)
    answerer.timer.stop()
    assert len(answerer.asked) == 3 and view.state == "read" and data in reads
    view.close()
