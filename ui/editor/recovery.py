"""Where a crashed session's unsaved work is kept (``GraphDocument.write_recovery``), and
what a recovery copy found at start-up holds."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QStandardPaths

from rnn_builder.files.project import Project
from rnn_builder.training.runs import RunRecord


def default_recovery_folder() -> Path:
    """``<user data>/RNN Builder/recovery`` (Qt's AppDataLocation would say the name twice,
    as organisation and application)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / "RNN Builder" / "recovery"


def recovery_folder() -> Path:
    folder = default_recovery_folder()
    folder.mkdir(parents=True, exist_ok=True)
    _move_old_recoveries(folder)
    return folder


def _move_old_recoveries(folder: Path) -> None:
    """Copies left in the folder of earlier versions ('RNN Builder/RNN Builder/recovery') are
    moved to the new one once, so that no crashed session's work is lost by the move."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    old = Path(base) / "recovery" if base else None
    if old is None or old == folder or not old.is_dir():
        return
    for file in old.iterdir():
        with contextlib.suppress(OSError):
            file.replace(folder / file.name)
    with contextlib.suppress(OSError):
        old.rmdir()


class Recovery(NamedTuple):
    """A crashed session's unsaved work, found at start-up."""

    file: Path  # the recovery copy
    original: Path | None  # the project file it belongs to (None: never saved)
    project: Project
    weights: dict[str, np.ndarray] | None  # unsaved trained weights (None: none, or unreadable)
    runs: list[RunRecord]
    problems: tuple[str, ...] = ()  # why weights or runs beside the copy were left out
