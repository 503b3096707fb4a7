"""Where a project's data file is, and whether it may be read: a project from elsewhere is not
trusted.

A project names its data file (``dataset.name``) by a path relative to the project's folder,
or an absolute one. Nothing stops a file someone sends from naming ``../../etc/passwd`` or
``/proc/self/maps``: training on it worked, and a CSV error quoted its first line. So a data
path that leaves the project's folder is read only when the person allows it: the CLI with
``--allow-outside-data``, the app once the user has confirmed it for that project (or chose
the file in the app's own dialog this session). Inside the folder (or below it) anything goes,
and so does the data bundled with RNN Builder (its templates'). Symlinks are resolved first:
a link inside the folder to a file outside it leaves the folder.

- :func:`locate_data`: the file a data path names against a folder, and whether it is outside.
- :class:`DataFolder`: a project's folder with the files outside it that may be read; every
  command that reads a project's data reads it through one (``training.tasks``), and a file
  outside that was not allowed is refused with :class:`OutsideDataError` before a byte of it
  is read.

A message about a file outside the folder never quotes what the file holds (a line, a cell, a
column's name): only its path and the line (``training.tasks`` keeps to that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rnn_builder.errors import DataError

# The data RNN Builder brings (training.tasks.files reads it from here): always allowed.
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "training" / "data_files"


class OutsideDataError(DataError):
    """A project's data file outside the project's folder that was not allowed: not read."""

    def __init__(self, location: DataLocation) -> None:
        shown = location.name if len(location.name) <= 200 else location.name[:197] + "..."
        super().__init__(
            f"the project's data file '{shown}' is outside the project's folder "
            f"({location.path}); a project from elsewhere may name any file, so it is read "
            "only if you allow it",
            quotes_file=False,
        )
        self.location = location


@dataclass(frozen=True)
class DataLocation:
    """A data path as the project gives it (``name``), the file it names (``path``, absolute,
    symlinks resolved) and whether that file is outside the project's folder."""

    name: str
    path: Path
    outside: bool


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: what it names cannot be known
        return Path(os.path.abspath(path))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def locate_data(name: str, folder: Path | None) -> DataLocation:
    """The file the data path ``name`` names, read against ``folder`` (the project's; None: the
    working folder, and nothing is outside it), and whether it leaves the folder."""
    given = Path(name)
    if not given.is_absolute() and folder is not None:
        given = Path(folder) / given
    path = _resolved(given)
    if folder is None:
        return DataLocation(name, path, False)
    bundled = _within(path, _resolved(BUNDLED_DATA))
    return DataLocation(name, path, not bundled and not _within(path, _resolved(Path(folder))))


@dataclass(frozen=True)
class DataFolder:
    """A project's folder, as its data is read: files outside it are refused unless they are
    among ``allowed`` (absolute, resolved: those the user confirmed or chose), or
    ``allow_outside`` allows them all (``--allow-outside-data``)."""

    path: Path
    allowed: frozenset[Path] = field(default_factory=frozenset)
    allow_outside: bool = False

    def locate(self, name: str) -> DataLocation:
        return locate_data(name, self.path)

    def is_allowed(self, location: DataLocation) -> bool:
        return not location.outside or self.allow_outside or location.path in self.allowed

    def check(self, name: str) -> DataLocation:
        """Where ``name`` is; raises :class:`OutsideDataError` if it may not be read."""
        location = self.locate(name)
        if not self.is_allowed(location):
            raise OutsideDataError(location)
        return location


def data_folder(base: Path | str | DataFolder | None) -> DataFolder | None:
    """``base`` as a :class:`DataFolder`: a plain folder allows nothing outside it."""
    if base is None or isinstance(base, DataFolder):
        return base
    return DataFolder(Path(base))


__all__ = [
    "BUNDLED_DATA",
    "DataFolder",
    "DataLocation",
    "OutsideDataError",
    "data_folder",
    "locate_data",
]
