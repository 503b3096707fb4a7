"""Files on disk, safely: a write replaces a file all at once or not at all (temporary file,
fsync, rename, fsync of the folder), a failed write says why in words (a full disk, a read-only
disk, no permission) and leaves the old file as it was, and a read of a file that may be huge
or growing asks for at most what it accepts."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from rnn_builder.errors import ProjectSaveError


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file, fsync, rename."""
    path = Path(path)  # a str too: the library's save_onnx(model, "m.onnx") passes one on
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
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ProjectSaveError(_save_message(path, error)) from None
    _fsync_directory(directory)


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
