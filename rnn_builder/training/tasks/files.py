"""Reading a user's files safely: size limits, UTF-8, and messages that name the problem."""

from __future__ import annotations

from pathlib import Path

from rnn_builder.errors import DataError
from rnn_builder.files.disk import read_bounded

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data_files"
MAX_TEXT_BYTES = 20 * 1024 * 1024


def bundled(name: str) -> Path:
    return PACKAGE_DATA / name


def read_text(path: str | Path, what: str, limit: int | None = None) -> str:
    path = Path(path)
    limit = MAX_TEXT_BYTES if limit is None else limit
    try:
        if not path.is_file():
            raise DataError(f"{what} '{path}' does not exist or is not a file")
        size = path.stat().st_size
        if size > limit:
            raise DataError(
                f"{what} '{path}' is {size / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB can be used"
            )
        raw = read_bounded(path, size, limit)
        if len(raw) > limit:
            raise DataError(
                f"{what} '{path}' is over {limit / 1e6:.0f} MB, the most that can be used"
            )
    except PermissionError:
        raise DataError(f"{what} '{path}' cannot be read: permission denied") from None
    except OSError as error:
        raise DataError(f"{what} '{path}' cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(
            f"{what} '{path}' is not UTF-8 text (an invalid byte on line {line}); "
            "save it as UTF-8 and try again"
        ) from None
    if "\x00" in text:
        raise DataError(f"{what} '{path}' looks like a binary file, not text")
    return text
