"""Reading a user's files safely: size limits, UTF-8, and messages that name the problem."""

from __future__ import annotations

from pathlib import Path

from rnn_builder.errors import DataError
from rnn_builder.files.data_paths import BUNDLED_DATA
from rnn_builder.files.disk import read_bounded

PACKAGE_DATA = BUNDLED_DATA
MAX_TEXT_BYTES = 20 * 1024 * 1024


def _refused(message: str) -> DataError:
    """A text file refused as a whole (missing, too large, not UTF-8, binary): the message
    quotes nothing the file holds."""
    return DataError(message, quotes_file=False)


def bundled(name: str) -> Path:
    return PACKAGE_DATA / name


def read_text(path: str | Path, what: str, limit: int | None = None) -> str:
    path = Path(path)
    limit = MAX_TEXT_BYTES if limit is None else limit
    try:
        if not path.is_file():
            raise _refused(f"{what} '{path}' does not exist or is not a file")
        size = path.stat().st_size
        if size > limit:
            raise _refused(
                f"{what} '{path}' is {size / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB can be used"
            )
        raw = read_bounded(path, size, limit)
        if len(raw) > limit:
            raise _refused(
                f"{what} '{path}' is over {limit / 1e6:.0f} MB, the most that can be used"
            )
    except PermissionError:
        raise _refused(f"{what} '{path}' cannot be read: permission denied") from None
    except OSError as error:
        raise _refused(f"{what} '{path}' cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise _refused(
            f"{what} '{path}' is not UTF-8 text (an invalid byte on line {line}); "
            "save it as UTF-8 and try again"
        ) from None
    if "\x00" in text:
        raise _refused(f"{what} '{path}' looks like a binary file, not text")
    return text
