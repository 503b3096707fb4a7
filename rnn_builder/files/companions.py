"""A project and the files saved beside it — its trained weights (``NAME.npz``) and its
training runs (``NAME.runs.json``) — saved as one set, and checked as one when opened.

Each file was replaced atomically, but three renames are not one: killed between them, the
app's save left a new project beside old weights in 60 of 100 trials, and opening showed the
older weights without a word (issue 22). So:

* every file of the set is written to its temporary and fsynced before any is renamed: a save
  killed while writing, which is nearly all of its time, leaves the earlier set whole;
* the project records a digest of the weights and of the runs it is saved with
  (``Project.companions``, the project file's ``companions``) and is renamed first, then the
  weights, then the runs: a save killed between the renames leaves a project whose record its
  companions do not match, and opening leaves those out with a note (:func:`weights_problem`,
  :func:`runs_problem`), as it does a damaged file, instead of showing them as this project's;
* the temporaries of killed saves of these names, unchanged for :data:`STALE_SECONDS`, are
  removed at the next save.

A project with no record (a file of an earlier version, or one the command line wrote) claims
nothing, and its companions are read as before. A save that writes no weights (none trained)
keeps the project's claim about the file beside it, so that weights left out on opening are not
taken back in silently by the next save and open.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnn_builder.errors import ProjectSaveError
from rnn_builder.files.disk import (
    fsync_directory,
    move_into_place,
    read_bounded,
    remove_stale_temporaries,
    write_temporary,
)
from rnn_builder.files.project import Project
from rnn_builder.files.serialization import dumps

# A save writes and renames its temporaries within moments (an 8 MB set: ~0.1 s here); one
# unchanged for this long belongs to a save that was killed, or to none still running.
STALE_SECONDS = 600.0


def weights_path(project_path: Path) -> Path:
    return Path(project_path).with_suffix(".npz")


def runs_path(project_path: Path) -> Path:
    return Path(project_path).with_suffix(".runs.json")


def weights_digest(weights: Mapping[str, np.ndarray]) -> str:
    """A digest of trained weights: their names, types, shapes and values (not the bytes of
    a file holding them, which a zip's timestamps change from one save to the next)."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        value = np.ascontiguousarray(weights[name])
        digest.update(f"{name}\0{value.dtype.str}\0{value.shape}\0".encode())
        digest.update(value.reshape(-1).view(np.uint8))  # the values, not copied
    return f"sha256:{digest.hexdigest()}"


def data_digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def npz_bytes(weights: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    return buffer.getvalue()


def save_with_companions(
    project: Project,
    path: str | Path,
    weights: Mapping[str, np.ndarray] | None = None,
    runs: bytes | None = None,
    claims: Mapping[str, str] | None = None,
) -> None:
    """Write ``project`` to ``path``, with ``weights`` (arrays by name) as ``NAME.npz`` and
    ``runs`` (the runs file's bytes) as ``NAME.runs.json``, as one set (see the module
    docstring). A companion given as None is not written; the project then keeps the claim
    about it in ``claims`` (its record as read from this path; none for another path).
    Raises :class:`ProjectSaveError` saying why; ``project.companions`` is the record the file
    on disk holds."""
    path = Path(path)
    targets = [path, weights_path(path), runs_path(path)]
    remove_stale_temporaries(targets, STALE_SECONDS)
    record = {key: value for key, value in (claims or {}).items() if key in ("weights", "runs")}
    contents: list[bytes | None] = [None, None, None]
    if weights is not None:
        record["weights"] = weights_digest(weights)
        contents[1] = npz_bytes(weights)
    if runs is not None:
        record["runs"] = data_digest(runs)
        contents[2] = runs
    try:
        contents[0] = dumps(replace(project, companions=record)).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as error:
        raise ProjectSaveError(
            f"Could not save '{path}': {error}. The file on disk is unchanged."
        ) from None
    written: list[tuple[Path, Path]] = []  # (temporary, target), in the order they are renamed
    try:
        for target, data in zip(targets, contents, strict=True):
            if data is not None:
                written.append((write_temporary(target, data), target))
        for index, (temporary, target) in enumerate(written):
            move_into_place(temporary, target)
            if target == path:
                project.companions = record
            written[index] = (target, target)  # renamed: nothing left to remove
    finally:  # a failure (or an interruption): no temporary of ours stays behind
        for temporary, target in written:
            if temporary != target:
                temporary.unlink(missing_ok=True)
    fsync_directory(path)


def weights_problem(
    project: Project, path: Path, weights: Mapping[str, np.ndarray] | None
) -> str | None:
    """Why the weights read beside a project (None: none there, or unreadable) are not the
    ones it was saved with, in one line; None when they are, or when it claims nothing."""
    claim = project.companions.get("weights")
    if claim is None:
        return None
    if weights is None:
        if path.exists():
            return None  # unreadable: said by whoever read it
        return (
            f"The trained weights this project was saved with are missing ('{path.name}' is "
            "not beside it)."
        )
    if weights_digest(weights) == claim:
        return None
    return (
        f"The trained weights in '{path.name}' were not loaded: they are not the ones this "
        "project was saved with (a save cut short, or a file written since, by 'rnn-builder "
        "train' for one); File → Import weights… reads them if you want them."
    )


def runs_problem(project: Project, path: Path, limit: int) -> str | None:
    """Why the runs file beside a project is not the one it was saved with, or None (a file
    over ``limit`` bytes is left to whoever reads it to refuse)."""
    claim = project.companions.get("runs")
    if claim is None:
        return None
    try:
        size = path.stat().st_size
        if size > limit:
            return None
        data = read_bounded(path, size, limit)
    except FileNotFoundError:
        return (
            f"The training runs this project was saved with are missing ('{path.name}' is "
            "not beside it)."
        )
    except OSError:
        return None  # unreadable: said by whoever read it
    if data_digest(data) == claim:
        return None
    return (
        f"The training runs in '{path.name}' were not loaded: they are not the ones this "
        "project was saved with (a save cut short, or a file put there since)."
    )
