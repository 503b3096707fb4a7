"""The window's project commands — new (blank, or from a template), open, save, save as,
recent files, picture export — and the dialogs that wait for the user.

Dialogs go through small methods (:meth:`ProjectCommands.ask_to_save`,
:meth:`~ProjectCommands.choose_open_path`, :meth:`~ProjectCommands.choose_save_path`,
:meth:`~ProjectCommands.choose_template`, :meth:`~ProjectCommands.show_error`) so that tests and
automation can answer them. A mixin of :class:`~ui.main_window.MainWindow`, which provides
``document``, ``live``, ``settings``, ``recent_menu``, ``errors``, the scenes and the status bar.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from rnn_builder.errors import DamagedProjectError, RNNBuilderError
from rnn_builder.files.bundle import SUFFIX as BUNDLE_SUFFIX
from rnn_builder.files.bundle import is_bundle, pack, unpack
from rnn_builder.files.companions import npz_bytes
from rnn_builder.files.data_paths import DataLocation
from rnn_builder.files.project import Project
from rnn_builder.files.templates import new_project
from rnn_builder.training.runs import runs_bytes
from ui.canvas.export import export_scene
from ui.editor.data_trust import data_folder, data_not_allowed
from ui.editor.document import GraphDocument
from ui.editor.gallery import TemplateGallery
from ui.training.live import ask_stop_training

APP_NAME = "RNN Builder"
MAX_RECENT = 8


class ProjectCommands:
    def ask_to_save(self) -> str:
        """'save', 'discard' or 'cancel' — asked before changes would be lost."""
        answer = QMessageBox.question(
            self,
            APP_NAME,
            f"Save the changes to {self.document.display_name()}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(answer, "cancel")

    def choose_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open project", "", "Projects and bundles (*.json *.rnnb)"
        )
        return path or None

    def choose_save_path(
        self, title: str = "Save project", filters: str = "Projects (*.json)", suffix: str = ".json"
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self, title, str(self.suggested_path(suffix)), filters
        )
        return path or None

    def choose_file_to_read(self, title: str, filters: str) -> str | None:
        """A file to read (not a project), the dialog starting in the project's folder."""
        folder = self.suggested_path(".json").parent
        path, _ = QFileDialog.getOpenFileName(self, title, str(folder), filters)
        return path or None

    def suggested_path(self, suffix: str) -> Path:
        """Where a save or export dialog starts: beside the project, named after it (an unsaved
        project: in the folder of the last project opened, or the home folder, by its title).
        ``suffix`` is an extension (``.onnx``) or any ending (``_pytorch``, a folder's)."""
        path = self.document.path
        if path is not None:
            name = project_stem(path) + suffix
            return path if name.lower() == path.name.lower() else path.with_name(name)
        recent = self.recent_files()
        folder = Path(recent[0]).parent if recent else Path.home()
        stem = re.sub(r"[^\w\-]+", "_", self.document.project.title.strip().lower()).strip("_")
        return folder / ((stem or "project") + suffix)

    def choose_data_path(self, kind: str) -> str | None:
        filters = {
            "csv": "CSV files (*.csv);;All files (*)",
            "text": "Text files (*.txt);;All files (*)",
            "data": "Data files (*.csv *.tsv *.jsonl *.json *.conll *.txt);;All files (*)",
        }[kind]
        path, _ = QFileDialog.getOpenFileName(self, "Train on a file", "", filters)
        return path or None

    def ask_to_read_outside_data(self, location: DataLocation) -> bool:
        """True to read a project's data file that is outside the project's folder (asked
        before it is first read: a project from elsewhere may name any file)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Data outside the project's folder",
            "This project reads its data from a file outside its folder:\n\n"
            f"{location.path}\n\n(the project names it '{location.name}'). A project from "
            "elsewhere can name any file on this computer. Read this file?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("outside_data_question")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def confirm_outside_data(self) -> bool:
        """Whether the open project's data may be read: asks first when it is a file outside
        the project's folder that was not allowed yet (once per project and file)."""
        location = data_not_allowed(self.document)
        if location is None:
            return True
        if not self.ask_to_read_outside_data(location):
            self.statusBar().showMessage(
                f"The data file {location.path} is outside the project's folder: not read", 10000
            )
            return False
        self.document.data_trust.confirm(self.document.path, location.path)
        self.live.context.prefetch()  # refused before it was allowed: made now
        return True

    def ask_stop_training(self) -> bool:
        """True to stop the training that runs (asked before an edit or closing)."""
        return ask_stop_training(self)

    def choose_template(self) -> str | None:
        gallery = TemplateGallery(self)
        return gallery.chosen() if gallery.exec() else None

    def show_error(self, title: str, message: str) -> None:
        self.errors.append((title, message))
        if QApplication.platformName() != "offscreen":
            QMessageBox.critical(self, title, message)
        self.statusBar().showMessage(message, 10000)

    def may_discard_changes(self) -> bool:
        if not self.live.allow_edit():  # training runs: stop it first (its weights are kept)
            return False
        if not self.document.modified:
            return True
        answer = self.ask_to_save()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self, template: str | None = None) -> None:
        if not self.may_discard_changes():
            return
        template = template or self.choose_template()
        if template:
            self.document.replace(new_project(template), None)

    def new_blank_project(self) -> None:
        """An empty canvas (the start hint says how to begin), no data chosen yet."""
        if not self.may_discard_changes():
            return
        self.document.replace(Project(title="Untitled"), None)

    def open_project(self, path: str | Path | None = None) -> bool:
        if not self.may_discard_changes():
            return False
        path = path or self.choose_open_path()
        if not path:
            return False
        # Opening is all or nothing: the document reads everything before it changes, so on
        # any failure the current project stays as it was, in the window and the document.
        try:
            if is_bundle(path):  # unpacked, checked, into a folder of its own; saved back
                opened = unpack(path)
                self.document.replace(GraphDocument.open(opened), opened)
                self.document.bundle = Path(path)
            else:
                self.document.replace(GraphDocument.open(Path(path)), Path(path))
        except RNNBuilderError as error:
            self.show_error("Cannot open the project", str(error))
            if isinstance(error, DamagedProjectError):
                return self._offer_recovery_of(Path(path))
            return False
        except Exception as error:  # a bug: said in one line, not raised out of a slot
            self.show_error(
                "Cannot open the project",
                f"'{path}' could not be opened: internal error: {type(error).__name__}: "
                f"{error} (please report this)",
            )
            return False
        self._remember(Path(path))
        self.confirm_outside_data()  # before anything reads the data (refused until then)
        return True

    def ask_open_recovery(self, recovery) -> bool:
        """Whether to open the recovery copy of a file that cannot be opened."""
        when = datetime.fromtimestamp(recovery.file.stat().st_mtime).strftime("%d %b %Y %H:%M")
        answer = QMessageBox.question(
            self,
            "Open the recovery copy?",
            f"'{recovery.original.name}' cannot be opened, but RNN Builder kept a copy of "
            f"unsaved work on it ({when}). Open that copy? Save it to keep it.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _offer_recovery_of(self, path: Path) -> bool:
        """A damaged project file: its recovery copy, if there is one, offered instead."""
        target = path.resolve()
        for recovery in reversed(self.document.leftover_recoveries()):  # the newest first
            if recovery.original is None or recovery.original.resolve() != target:
                continue
            if self.ask_open_recovery(recovery):
                self.document.recover(recovery)
                self.statusBar().showMessage(
                    f"Opened the recovery copy of {path.name}: save it to keep it", 10000
                )
                return True
            return False
        return False

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        bundle = self.document.bundle
        if bundle is not None:  # opened from a bundle: saved back into it
            return self._save_to(self.document.path) and self.save_bundle(bundle)
        return self._save_to(self.document.path)

    def save_bundle(self, path: str | Path | None = None) -> bool:
        """The project, its weights, runs and own data file as one ``.rnnb`` to hand in."""
        path = path or self.choose_save_path("Save as bundle", "Bundles (*.rnnb)", BUNDLE_SUFFIX)
        if not path:
            return False
        path = with_extension(Path(path), BUNDLE_SUFFIX)
        document = self.document
        base = data_folder(document)  # its folder, with the files outside it the user allowed
        try:
            pack(
                document.project,
                path,
                npz_bytes(document.weights) if document.weights else None,
                runs_bytes(document.runs) if document.runs else None,
                base,
            )
        except RNNBuilderError as error:
            self.show_error("Cannot save the bundle", str(error))
            return False
        self.statusBar().showMessage(f"Saved the bundle {path}", 4000)
        return True

    def save_as(self, path: str | Path | None = None) -> bool:
        path = path or self.choose_save_path()
        if not path:
            return False
        return self._save_to(with_extension(Path(path), ".json"))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except RNNBuilderError as error:
            self.show_error("Cannot save", str(error))
            return False
        self._remember(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_picture(self, path: str | Path | None = None) -> bool:
        path = path or self.choose_save_path(
            "Export picture", "PNG image (*.png);;SVG (*.svg)", ".png"
        )
        if not path:
            return False
        path = with_extension(Path(path), ".png", also=(".svg",))
        scene = self.unrolled_scene if self.unrolled_action.isChecked() else self.scene
        try:
            export_scene(scene, path)
        except OSError as error:
            self.show_error("Cannot export the picture", str(error))
            return False
        self.statusBar().showMessage(f"Exported {path}", 4000)
        return True

    def _remember(self, path: Path) -> None:
        recent = [str(path.resolve())]
        recent += [p for p in self.recent_files() if p != recent[0]]
        self.settings.setValue("recent", recent[:MAX_RECENT])

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            # "&&": an "&" in a folder's name is shown, not taken for a shortcut's mark
            action = self.recent_menu.addAction(path.replace("&", "&&"))
            action.setObjectName("recent_file")
            action.triggered.connect(lambda _c=False, p=path: self.open_project(p))
        if not self.recent_files():
            none = self.recent_menu.addAction("(none yet)")
            none.setObjectName("recent_none")
            none.setEnabled(False)


def project_stem(path: Path) -> str:
    """A project file's name without its ``.json``: what the files made from it are named
    after (``my.project.json`` → ``my.project``; a name that does not end in ``.json`` whole)."""
    name = path.name
    return name[:-5] if name.lower().endswith(".json") and len(name) > 5 else name


def with_extension(path: Path, extension: str, also: tuple[str, ...] = ()) -> Path:
    """``path`` as typed in a save dialog, ending in ``extension`` (or one of ``also``): one is
    added to a name without it, dots and all (``run.1`` → ``run.1.json``, not ``run.1``, whose
    weights ``run.npz`` would also be ``run.2``'s)."""
    if path.suffix.lower() in (extension, *also) or not path.name:
        return path
    return path.with_name(path.name + extension)
