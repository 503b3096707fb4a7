"""Files on disk, safely: a write replaces a file all at once or not at all (temporary file,
fsync, rename, fsync of the folder), a failed write says why in words (a full disk, a read-only
disk, no permission) and leaves the old file as it was, and a read of a file that may be huge
or growing asks for at most what it accepts."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from rnn_builder.errors import ProjectSaveError


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file, fsync, rename."""
    path = Path(path)  # a str too: the library's save_onnx(model, "m.onnx") passes one on
    move_into_place(write_temporary(path, data), path)
    fsync_directory(path)


def write_temporary(path: Path, data: bytes) -> Path:
    """``data`` in a new temporary file beside ``path`` (``.NAME.XXXXXXXX.tmp``), fsynced and
    with the mode ``path`` has (or a new file would get), ready to be moved over it; on a
    failure nothing is left and :class:`ProjectSaveError` says why."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = os.stat(path).st_mode & 0o777 if path.exists() else None
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise ProjectSaveError(_save_message(path, error)) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ProjectSaveError(_save_message(path, error)) from None
    return Path(temporary)


def move_into_place(temporary: Path, path: Path) -> None:
    """Rename a :func:`write_temporary` file over ``path`` (atomic); on a failure the
    temporary is removed and :class:`ProjectSaveError` says why."""
    try:
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ProjectSaveError(_save_message(path, error)) from None


def fsync_directory(path: Path) -> None:
    """Make the renames in ``path``'s folder durable."""
    _fsync_directory(path.parent if str(path.parent) else Path("."))


# mkstemp's names: the prefix, eight letters, digits or '_', the suffix
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def remove_stale_temporaries(paths: Iterable[Path], older_than: float) -> list[Path]:
    """Remove what saves of ``paths`` that were killed left behind (their
    :func:`write_temporary` files, ``.NAME.XXXXXXXX.tmp`` beside them), if unchanged for
    ``older_than`` seconds: a save still running writes and renames its own within moments.
    Files of other names are never touched. Returns those removed."""
    removed = []
    now = time.time()
    for path in paths:
        directory = path.parent if str(path.parent) else Path(".")
        try:
            candidates = list(directory.glob(f".{glob.escape(path.name)}.*.tmp"))
        except OSError:
            continue
        for candidate in candidates:
            match = _TEMPORARY.fullmatch(candidate.name)
            if match is None or match["name"] != path.name:
                continue
            with contextlib.suppress(OSError):
                info = candidate.lstat()
                if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than:
                    candidate.unlink()
                    removed.append(candidate)
    return removed


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_message(path: Path, error: OSError) -> str:
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the folder does not exist",
        errno.EROFS: "the disk is read-only",
        errno.EISDIR: "that is a folder",
        errno.ENOTDIR: "part of the path is not a folder",
    }
    reason = reasons.get(error.errno, error.strerror or str(error))
    return f"Could not save '{path}': {reason}. The file on disk is unchanged."


def read_bounded(path: Path, size: int, limit: int) -> bytes:
    """The bytes of a file whose size was ``size`` when checked, but never more than
    ``limit + 1`` of them, even if it grows meanwhile. Asks for ``size`` first: ``read(n)``
    allocates n bytes before it reads, so asking for the limit would cost the limit."""
    with open(path, "rb") as stream:
        raw = stream.read(size + 1)
        if len(raw) > size:  # it grew since: read on, up to the limit
            raw += stream.read(max(0, limit + 1 - len(raw)))
    return raw
