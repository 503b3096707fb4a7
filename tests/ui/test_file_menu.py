"""Every action of the File menu, on a saved project and on an unsaved one: each does its job (a
file written, the project replaced, the window closed) or shows its dialog, and none raises in
its slot.

The actions are found by walking the menu as a person opens it (submenus included, Open recent
filled as it is shown), and each has a case below: an action added to the File menu without one
fails :func:`test_every_file_action_has_a_case`. The file dialogs are Qt's static functions,
answered here (as in ``test_small_things.py``), so that the window's own code picks the folder
and the name they start on: the tests that answered ``choose_save_path`` instead never ran the
suggestion that raised on every saved project (issue 20). The template gallery is the real
dialog, answered by clicking its buttons.

An exception in a slot must fail the test, not only print: each case runs under
``qtbot.captureExceptions()`` and asserts it caught nothing (and pytest-qt's own capture, on by
default, would fail the test too; :func:`test_an_exception_in_a_slot_is_seen` shows it sees
one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMenu

from rnn_builder.engine.executor import Executor
from rnn_builder.files.bundle import unpack
from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import save_weights
from ui.editor.gallery import NAME_ROLE, TemplateGallery
from ui.main_window import MainWindow

from .test_live import TRAINING_TIMEOUT

SAVED_NAME = "my.project.json"  # dots in the name: what a suffix-based derivation trips on
EDITED_TITLE = "Edited title"


# --- the dialogs, answered ------------------------------------------------------------------


@dataclass
class Dialogs:
    """Answers the file dialogs (``answer``; "" is Cancel), the question asked before changes
    would be lost (``keep``: "save", "discard" or "cancel") and the template gallery
    (``template``; None is Cancel), and records what each was asked."""

    answer: str = ""
    keep: str = "discard"
    template: str | None = None
    asked: list[tuple] = field(default_factory=list)

    def save_file(self, _parent, title, start, filters, *_rest):
        self.asked.append(("save file", title, start, filters))
        return self.answer, ""

    def open_file(self, _parent, title, start, filters, *_rest):
        self.asked.append(("open file", title, start, filters))
        return self.answer, ""

    def ask_to_save(self) -> str:
        self.asked.append(("ask to save",))
        return self.keep

    def kinds(self) -> list[str]:
        return [entry[0] for entry in self.asked]


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    answers = Dialogs()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", answers.save_file)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", answers.open_file)
    return answers


def _gallery_answerer(dialogs: Dialogs) -> QTimer:
    """Answers the template gallery when it is up, with its own list and buttons."""

    def look() -> None:
        gallery = QApplication.activeModalWidget()
        if not isinstance(gallery, TemplateGallery):
            return
        timer.stop()
        dialogs.asked.append(("gallery", gallery.windowTitle()))
        buttons = gallery.findChild(QDialogButtonBox)
        if dialogs.template is None:
            buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
            return
        items = [gallery.list.item(row) for row in range(gallery.list.count())]
        gallery.list.setCurrentItem(next(i for i in items if i.data(NAME_ROLE) == dialogs.template))
        buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(look)
    timer.start()
    return timer


# --- the windows ----------------------------------------------------------------------------


@dataclass
class Setup:
    window: MainWindow
    dialogs: Dialogs
    qtbot: object
    folder: Path  # where the test's files go
    other: Path | None = None  # another saved project, to open
    missing: Path | None = None  # a project that is no longer there (in Open recent)

    def file_actions(self, name: str) -> list[QAction]:
        return [action for key, action in file_menu_actions(self.window, self.qtbot) if key == name]

    def trigger(self, action: QAction) -> None:
        """The action, as a click in its menu does it, then until its job (if any) is done; an
        exception raised in any slot meanwhile fails the test."""
        timer = _gallery_answerer(self.dialogs)
        with self.qtbot.captureExceptions() as exceptions:
            action.trigger()
            timer.stop()
            self.qtbot.waitUntil(lambda: not self.window.model_files.busy, timeout=TRAINING_TIMEOUT)
        assert not exceptions, _describe(exceptions)

    def unchanged(self, title: str = EDITED_TITLE) -> bool:
        """The project is the one the test began with, still with its unsaved edit."""
        document = self.window.document
        return document.project.title == title and document.modified


def _describe(exceptions) -> str:
    return "; ".join(f"{kind.__name__}: {value}" for kind, value, _trace in exceptions)


def file_menu_actions(window, qtbot) -> list[tuple[str, QAction]]:
    """The File menu's actions as a person finds them: every submenu opened (Open recent fills
    itself as it shows), by object name (or text, for one that has none)."""
    files = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    return list(_walk(files, window, qtbot))


def _walk(menu: QMenu, window, qtbot):
    menu.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitUntil(menu.isVisible)
    actions = menu.actions()
    menu.hide()
    for action in actions:
        if action.isSeparator():
            continue
        if action.menu() is not None:
            yield from _walk(action.menu(), window, qtbot)
        else:
            yield action.objectName() or action.text(), action


@pytest.fixture
def setup(make_window, dialogs, qtbot, tmp_path, request) -> Setup:
    """A window whose project has an unsaved edit: saved once as ``my.project.json`` (with two
    more projects in Open recent, one of them since removed), or never saved (nothing recent)."""
    folder = tmp_path / "work"
    folder.mkdir()
    other = save(new_project("one_to_one"), folder / "other.json")
    window = make_window("many_to_one")
    window.ask_to_save = dialogs.ask_to_save
    if request.param == "saved":
        assert window.save_as(folder / SAVED_NAME)
        recent = [*window.recent_files(), str(other), str(folder / "missing.json")]
        window.settings.setValue("recent", recent)
    window.document.set_project_text("title", EDITED_TITLE)
    assert window.document.modified
    return Setup(window, dialogs, qtbot, folder, other, folder / "missing.json")


# --- the cases: one per action --------------------------------------------------------------


def new(s: Setup, saved: bool) -> None:
    s.dialogs.template = None  # the gallery, cancelled
    (action,) = s.file_actions("new")
    s.trigger(action)
    assert s.dialogs.kinds() == ["ask to save", "gallery"] and s.unchanged()
    s.dialogs.template = "forecast"
    s.trigger(action)
    assert s.window.document.project.template == "forecast"
    assert s.window.document.path is None and not s.window.document.modified


def new_blank(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("new_blank")
    s.dialogs.keep = "cancel"
    s.trigger(action)
    assert s.dialogs.kinds() == ["ask to save"] and s.unchanged()
    s.dialogs.keep = "discard"
    s.trigger(action)
    document = s.window.document
    assert len(document.graph) == 0 and document.project.template is None
    assert document.path is None and not document.modified


def open_(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("open")
    s.trigger(action)  # the dialog, cancelled
    assert s.dialogs.kinds() == ["ask to save", "open file"] and s.unchanged()
    s.dialogs.answer = str(s.other)
    s.trigger(action)
    assert s.window.document.path == s.other
    assert s.window.document.project.template == "one_to_one" and s.window.errors == []


def recent_file(s: Setup, saved: bool) -> None:
    entries = {action.iconText(): action for action in s.file_actions("recent_file")}
    assert list(entries) == [str((s.folder / SAVED_NAME).resolve()), str(s.other), str(s.missing)]
    s.trigger(entries[str(s.missing)])
    title, message = s.window.errors[-1]
    assert title == "Cannot open the project" and "missing.json" in message and s.unchanged()
    s.trigger(entries[str(s.other)])
    assert s.window.document.path == s.other
    assert s.window.document.project.template == "one_to_one"


def recent_none(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("recent_none")
    assert action.text() == "(none yet)" and not action.isEnabled()
    s.trigger(action)
    assert s.dialogs.asked == [] and s.unchanged()


def save_(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("save")
    if saved:  # no dialog: the file is written where it was
        s.trigger(action)
        assert s.dialogs.asked == []
        assert load(s.folder / SAVED_NAME).title == EDITED_TITLE
        assert not s.window.document.modified
        return
    s.trigger(action)  # an unsaved project is saved as: the dialog, cancelled
    assert s.dialogs.kinds() == ["save file"] and s.unchanged()
    assert Path(s.dialogs.asked[0][2]).name == "edited_title.json"
    s.dialogs.answer = str(s.folder / "typed")
    s.trigger(action)
    assert load(s.folder / "typed.json").title == EDITED_TITLE
    assert s.window.document.path == s.folder / "typed.json"


def save_as(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("save_as")
    s.trigger(action)
    start = Path(s.dialogs.asked[0][2])
    assert start == (s.folder / SAVED_NAME if saved else start.parent / "edited_title.json")
    assert s.unchanged()
    s.dialogs.answer = str(s.folder / "copy.json")
    s.trigger(action)
    assert load(s.folder / "copy.json").title == EDITED_TITLE
    assert s.window.document.path == s.folder / "copy.json" and s.window.errors == []


def save_bundle(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("save_bundle")
    s.trigger(action)  # the dialog, cancelled
    assert s.unchanged() and s.window.errors == []
    s.dialogs.answer = str(s.folder / "hand_in")
    s.trigger(action)
    assert s.window.errors == []
    project = load(unpack(s.folder / "hand_in.rnnb", s.folder / "unpacked"))
    assert project.title == EDITED_TITLE
    # opened again, the bundle is the project, and Save writes back into it
    s.window.document.undo_stack.setClean()
    assert s.window.open_project(s.folder / "hand_in.rnnb")
    assert s.window.document.bundle == s.folder / "hand_in.rnnb"
    assert s.window.document.project.title == EDITED_TITLE
    s.window.document.set_project_text("title", "Handed in")
    assert s.window.save()
    assert load(unpack(s.folder / "hand_in.rnnb", s.folder / "again")).title == "Handed in"


def export_picture(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("export")
    s.trigger(action)
    start = Path(s.dialogs.asked[0][2])
    assert start.name == ("my.project.png" if saved else "edited_title.png")
    s.dialogs.answer = str(s.folder / "picture")
    s.trigger(action)
    assert (s.folder / "picture.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert s.window.errors == []


def export_onnx(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("export_onnx")
    s.trigger(action)
    start = Path(s.dialogs.asked[0][2])
    assert start.name == ("my.project.onnx" if saved else "edited_title.onnx")
    assert s.window.model_files.messages == [] and s.window.errors == []
    s.dialogs.answer = str(s.folder / "model.onnx")
    s.trigger(action)
    assert s.window.errors == [] and (s.folder / "model.onnx").stat().st_size > 1000
    assert s.window.model_files.messages[-1][0] == "Exported to ONNX"


def export_pytorch(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("export_pytorch")
    s.trigger(action)
    start = Path(s.dialogs.asked[0][2])
    assert start.name == ("my.project_pytorch" if saved else "edited_title_pytorch")
    assert s.window.model_files.messages == [] and s.window.errors == []
    s.dialogs.answer = str(s.folder / "exported")
    s.trigger(action)
    assert s.window.errors == [] and (s.folder / "exported" / "model.py").is_file()
    assert s.window.model_files.messages[-1][0] == "Exported to PyTorch"


def import_weights(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("import_weights")
    trained = save_weights(Executor(s.window.document.graph, seed=5), s.folder / "trained.npz")
    s.trigger(action)
    assert s.dialogs.kinds() == ["open file"] and s.window.document.weights is None
    s.dialogs.answer = str(trained)
    s.trigger(action)
    assert s.window.errors == []
    expected = Executor(s.window.document.graph, seed=5).get_parameters()
    assert set(s.window.document.weights) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(s.window.document.weights[name], value)


def quit_(s: Setup, saved: bool) -> None:
    (action,) = s.file_actions("quit")
    s.dialogs.keep = "cancel"
    s.trigger(action)
    assert s.dialogs.kinds() == ["ask to save"] and s.window.isVisible() and s.unchanged()
    s.dialogs.keep = "discard"
    s.trigger(action)
    assert not s.window.isVisible()


CASES: dict[str, Callable[[Setup, bool], None]] = {
    "new": new,
    "new_blank": new_blank,
    "open": open_,
    "recent_file": recent_file,
    "recent_none": recent_none,
    "save": save_,
    "save_as": save_as,
    "save_bundle": save_bundle,
    "export": export_picture,
    "export_onnx": export_onnx,
    "export_pytorch": export_pytorch,
    "import_weights": import_weights,
    "quit": quit_,
}
# Open recent lists files only once there are some; the saved project's window has three
ONLY_IN = {"recent_file": "saved", "recent_none": "unsaved"}
SCENARIOS = ("saved", "unsaved")


@pytest.mark.parametrize("setup", SCENARIOS, indirect=True)
def test_every_file_action_has_a_case(setup):
    found = {name for name, _action in file_menu_actions(setup.window, setup.qtbot)}
    scenario = "saved" if setup.window.document.path is not None else "unsaved"
    expected = {name for name in CASES if ONLY_IN.get(name, scenario) == scenario}
    assert found - set(CASES) == set(), "File menu actions without a case in this test"
    assert found == expected


@pytest.mark.parametrize(
    ("setup", "name"),
    [(s, name) for s in SCENARIOS for name in CASES if ONLY_IN.get(name, s) == s],
    indirect=["setup"],
)
def test_each_file_action_does_its_job_or_shows_its_dialog(setup, name):
    CASES[name](setup, setup.window.document.path is not None)


def test_an_exception_in_a_slot_is_seen(qtbot):
    """What the cases rely on: PySide6 hands an exception raised in a slot to the hook that
    ``captureExceptions`` (and pytest-qt's capture around every test) installs."""
    action = QAction("fails")
    action.triggered.connect(lambda: 1 / 0)
    with qtbot.captureExceptions() as exceptions:
        action.trigger()
    assert [kind for kind, _value, _trace in exceptions] == [ZeroDivisionError]


# --- names with dots and other characters ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("my.project.json", "my.project"),
        ("v1.2 & co.json", "v1.2 & co"),
        ("Résumé (final).JSON", "Résumé (final)"),
        ("model.v2", "model.v2"),  # opened from a file that does not end in .json
    ],
)
def test_dialogs_start_beside_a_project_named_with_dots_and_odd_characters(
    make_window, dialogs, qtbot, tmp_path, name, stem
):
    folder = tmp_path / "R&D [old]"
    folder.mkdir()
    path = save(new_project("many_to_one"), folder / name)
    window = make_window("one_to_one")
    assert window.open_project(path) and window.document.path == path
    s = Setup(window, dialogs, qtbot, folder)
    for key in ("save_as", "export", "export_onnx", "export_pytorch", "import_weights"):
        (action,) = s.file_actions(key)
        s.trigger(action)  # each dialog, cancelled
    starts = [Path(start) for _kind, _title, start, _filters in dialogs.asked]
    assert starts == [
        folder / (name if name.lower().endswith(".json") else stem + ".json"),
        folder / (stem + ".png"),
        folder / (stem + ".onnx"),
        folder / (stem + "_pytorch"),
        folder,  # a file to read: the project's folder
    ]
    assert window.errors == [] and window.model_files.messages == []
    (recent,) = s.file_actions("recent_file")
    assert recent.iconText() == str(path.resolve())  # shown as it is: "&" is not a shortcut


def test_a_name_typed_with_a_dot_gets_its_extension(make_window, dialogs, qtbot, tmp_path):
    """'run.1' and 'run.2' typed in the Save dialog are two projects with two weights files, not
    two files whose weights would both be 'run.npz'; the exports alike get their extension."""
    window = make_window("many_to_one")
    s = Setup(window, dialogs, qtbot, tmp_path)
    for run, seed in (("run.1", 1), ("run.2", 2)):
        window.document.set_weights(Executor(window.document.graph, seed=seed).get_parameters())
        dialogs.answer = str(tmp_path / run)
        (action,) = s.file_actions("save_as")
        s.trigger(action)
        assert window.document.path == tmp_path / f"{run}.json"
    assert load(tmp_path / "run.1.json").graph.node("reader")
    first = np.load(tmp_path / "run.1.npz")
    second = np.load(tmp_path / "run.2.npz")
    name = next(iter(first.files))
    assert not np.array_equal(first[name], second[name])

    for key, typed, written in (
        ("export", "diagram.v2", "diagram.v2.png"),
        ("export", "diagram.SVG", "diagram.SVG"),
        ("export_onnx", "model.v2", "model.v2.onnx"),
        ("save_as", "CAPITALS.JSON", "CAPITALS.JSON"),
    ):
        dialogs.answer = str(tmp_path / typed)
        (action,) = s.file_actions(key)
        s.trigger(action)
        assert (tmp_path / written).is_file(), written
    assert (tmp_path / "diagram.SVG").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert window.errors == []
