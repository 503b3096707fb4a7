"""Which data files outside their project's folder this window may read (``files.data_paths``).

A project from elsewhere is not trusted: its data path may name any file. The window reads a
data file outside the project's folder only when the user chose that file in the app's own
dialog this session, or confirmed it for that project when asked (on opening it, or at Start).
Everything that reads the project's data takes its folder from :func:`data_folder`, and the
core refuses a file outside it that is not allowed, so a view that reads before the user was
asked reads nothing.
"""

from __future__ import annotations

from pathlib import Path

from rnn_builder.files.data_paths import DataFolder, DataLocation, locate_data


def _resolved(path: str | Path) -> Path:
    return locate_data(str(path), None).path


class DataTrust:
    """The files the user allowed this session: chosen in the app's dialog (for any project),
    or confirmed for one project file."""

    def __init__(self) -> None:
        self._chosen: set[Path] = set()
        self._confirmed: set[tuple[Path, Path]] = set()

    def choose(self, path: str | Path) -> None:
        self._chosen.add(_resolved(path))

    def confirm(self, project_path: Path, data_path: Path) -> None:
        self._confirmed.add((_resolved(project_path), _resolved(data_path)))

    def allowed(self, project_path: Path) -> frozenset[Path]:
        project = _resolved(project_path)
        confirmed = {data for owner, data in self._confirmed if owner == project}
        return frozenset(self._chosen | confirmed)


def data_folder(document) -> DataFolder | None:
    """The open project's folder as its data is read, with the files outside it the user
    allowed (None for a project not saved yet: its data path is read as given)."""
    if document.path is None:
        return None
    return DataFolder(document.path.parent, document.data_trust.allowed(document.path))


def data_not_allowed(document) -> DataLocation | None:
    """The project's data file when it is outside the project's folder and not allowed (yet),
    else None."""
    folder = data_folder(document)
    reference = document.project.dataset
    if folder is None or reference is None or reference.kind == "builtin" or not reference.name:
        return None
    location = folder.locate(reference.name)
    return None if folder.is_allowed(location) else location
