"""A person's data files, read as records: table rows (CSV, TSV, JSON Lines) and tagged sentences
(CoNLL style), one reader per format.

Every reader streams: it reads the file a block at a time, never whole, so a file over the size
cap is refused from its size before a byte is read, and a bad row is refused where it stands.
Every refusal is a :class:`DataFileError`, one line that names the file, the line and (where
there is one) the column, and says what to do. What is checked here is the *format*: UTF-8,
no binary, a header, rows as long as the header, fields of a sane length, JSON objects. What
the values mean (a number, a label with too few examples) is the caller's to check, and it
names the line by the record's ``line``.

Line endings may be LF, CRLF or CR alone, mixed in one file; a byte-order mark is skipped.

A read on a helper thread can be watched and stopped (the app's data view): inside
``with watched(watch):`` each file :func:`lines` reads on that thread reports the bytes read so
far (``watch.done``) of its size (``watch.total``) after every block, and the block read after
``watch.cancel()`` raises :class:`ReadCancelled` (a block is a few hundredths of a second of
rows; a check on every row cost a tenth of a microsecond each); the tasks call
:func:`checkpoint` between the long steps that follow the reading. The watch is the thread's
own: another thread's reads meanwhile neither report to it nor stop.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rnn_builder.errors import DataError

MAX_DATA_BYTES = 512 * 1024 * 1024  # a data file's size cap
MAX_FIELD = 100_000  # characters in one field (a text of a few thousand words)
MAX_COLUMNS = 1_000
MAX_NAME = 1_000  # characters in a column's name
BLOCK = 1 << 20  # bytes read at a time
FORMATS = ("csv", "tsv", "jsonl", "conll")


class DataFileError(DataError):
    """A data file that cannot be read as its format; the message names file, line, column."""

    def __init__(
        self, path: Path | str, message: str, line: int | None = None, quotes_file: bool = True
    ) -> None:
        where = f"'{path}'" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}", quotes_file)
        self.path, self.line = str(path), line


def _unreadable(path: Path | str, message: str, line: int | None = None) -> DataFileError:
    """A refusal of the file as a whole (missing, too large, not UTF-8, binary), which quotes
    nothing it holds."""
    return DataFileError(path, message, line, quotes_file=False)


class ReadCancelled(DataError):
    """A watched read stopped by :meth:`ReadWatch.cancel`."""

    def __init__(self) -> None:
        super().__init__("reading the file was cancelled", quotes_file=False)


class ReadWatch:
    """How far a read on another thread has got (``done`` of ``total`` bytes), and a way to
    stop it. Written by the reading thread, read and cancelled from any other."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def progress(self, done: int, total: int) -> None:
        """Called by the reader after each block (a hook for tests and subclasses)."""
        self.done, self.total = done, total

    def check(self) -> None:
        """Raise :class:`ReadCancelled` if the read was cancelled."""
        if self._cancelled.is_set():
            raise ReadCancelled


_watching = threading.local()


@contextmanager
def watched(watch: ReadWatch) -> Iterator[ReadWatch]:
    """Report this thread's reads to ``watch`` (and stop them when it is cancelled)."""
    previous = getattr(_watching, "watch", None)
    _watching.watch = watch
    try:
        yield watch
    finally:
        _watching.watch = previous


def checkpoint() -> None:
    """Between two long steps of a watched read: stop here if it was cancelled."""
    watch = getattr(_watching, "watch", None)
    if watch is not None:
        watch.check()


class Row(NamedTuple):
    """One record of a table: its values by column, and the line it starts on (a named tuple:
    a frozen dataclass cost 1 µs a row more, a tenth of reading a row)."""

    line: int
    values: dict[str, Any]


# --- lines ------------------------------------------------------------------------------------


def check_file(path: Path | str, limit: int = MAX_DATA_BYTES) -> Path:
    """``path`` as a readable file under the size cap (from its size alone), or refused."""
    path = Path(path)
    try:
        if not path.is_file():
            raise _unreadable(path, "no such file (or it is a folder)")
        size = path.stat().st_size
    except OSError as error:
        raise _unreadable(path, f"cannot be read: {error.strerror or error}") from None
    if size > limit:
        raise _unreadable(
            path, f"is {_megabytes(size)}; at most {_megabytes(limit)} can be read: use part of it"
        )
    if size == 0:
        raise _unreadable(path, "is empty")
    return path


def lines(path: Path | str, limit: int = MAX_DATA_BYTES) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line, without its line ending; streams, in blocks.

    Refuses (:class:`DataFileError`) text that is not UTF-8, a NUL byte (binary data) and a
    file that grows past ``limit`` while it is read."""
    path = check_file(path, limit)
    watch: ReadWatch | None = getattr(_watching, "watch", None)
    size = file_size(path)
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    number, pending, read = 0, "", 0
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed below, also on an error)
    except OSError as error:
        raise _unreadable(path, f"cannot be read: {error.strerror or error}") from None
    with stream:
        while True:
            try:
                block = stream.read(BLOCK)
            except OSError as error:
                raise _unreadable(path, f"cannot be read: {error.strerror or error}") from None
            read += len(block)
            if watch is not None:
                watch.check()
                watch.progress(read, max(size, read))
            if read > limit:
                raise _unreadable(path, f"grew past {_megabytes(limit)} while it was read")
            if b"\x00" in block:
                before = block[: block.index(b"\x00")]
                at = number + 1 + _line_breaks(pending) + before.count(b"\n")
                raise _unreadable(path, "holds binary data, not text", at)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                done = block[: max(error.start, 0)].decode("utf-8", "replace")
                at = number + 1 + _line_breaks(pending + done)
                raise _unreadable(
                    path, "is not UTF-8 text here: save the file as UTF-8 and try again", at
                ) from None
            text = pending + text
            # a CR at the end of a block may be half of a CRLF: keep it for the next block
            keep = 1 if block and text.endswith("\r") else 0
            parts = text[: len(text) - keep].replace("\r\n", "\n").replace("\r", "\n")
            *complete, pending = parts.split("\n")
            pending += text[len(text) - keep :]
            for line in complete:
                number += 1
                yield number, line
            if not block:
                break
    if pending:
        yield number + 1, pending


def _line_breaks(text: str) -> int:
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n")


# --- tables -----------------------------------------------------------------------------------


def table_format(path: Path | str, first_line: str = "") -> str:
    """``csv``, ``tsv`` or ``jsonl``: from the file's extension, else from its first line."""
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix == ".csv":
        return "csv"
    stripped = first_line.lstrip()
    if stripped.startswith("{"):
        return "jsonl"
    return "tsv" if first_line.count("\t") > first_line.count(",") else "csv"


def read_table(
    path: Path | str, kind: str | None = None, limit: int = MAX_DATA_BYTES
) -> tuple[list[str], Iterator[Row]]:
    """A table's columns and an iterator over its rows (blank lines skipped).

    CSV and TSV: the first line is the header; a row with more or fewer fields than the header
    is refused. JSON Lines: one object a line; the columns are the first object's keys, and
    every object must have them (others are ignored). ``kind`` forces the format."""
    source = lines(path, limit)
    first = _first_line(path, source)
    kind = kind or table_format(path, first[1])
    if kind == "jsonl":
        return _json_table(path, first, source)
    if kind not in ("csv", "tsv"):
        raise DataError(f"a table is csv, tsv or jsonl, not {kind!r}")
    return _delimited_table(path, first, source, "\t" if kind == "tsv" else ",")


def _first_line(path: Path | str, source: Iterator[tuple[int, str]]) -> tuple[int, str]:
    for number, line in source:
        if line.strip():
            return number, line
    raise _unreadable(path, "holds only blank lines")


def _delimited_table(path, first, source, delimiter: str) -> tuple[list[str], Iterator[Row]]:
    # where the reader is: the last line it took, and the first line of the record it reads
    at = {"last": first[0], "start": first[0], "waiting": False}

    def numbered() -> Iterator[str]:
        yield first[1] + "\n"
        for number, line in source:
            at["last"] = number
            if at["waiting"]:
                at["start"], at["waiting"] = number, False
            yield line + "\n"  # with its ending: a quoted field may hold a line break

    # the csv module's own field limit (131,072 by default) is a process-wide setting, left
    # alone: a field over MAX_FIELD is refused here, one over the module's limit by the module
    reader = csv.reader(numbered(), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        reason = _csv_reason(error)
        raise DataFileError(path, f"the header cannot be read: {reason}", first[0]) from None
    _check_header(path, header, first[0], delimiter)

    def rows() -> Iterator[Row]:
        while True:
            at["waiting"] = True
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                message = f"cannot be read as {_name(delimiter)}: {_csv_reason(error)}"
                raise DataFileError(path, message, at["last"]) from None
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if len(fields) != len(header):
                raise DataFileError(
                    path,
                    f"{len(fields)} fields where the header has {len(header)} "
                    f"(columns {', '.join(_quoted(header[:6]))}): a "
                    f"{_name(delimiter)} field with a '{_show(delimiter)}' in it must be "
                    "in double quotes",
                    at["start"],
                )
            if any(len(field) > MAX_FIELD for field in fields):
                raise DataFileError(
                    path, f"a field is longer than {MAX_FIELD:,} characters", at["start"]
                )
            yield Row(at["start"], dict(zip(header, fields, strict=True)))

    return header, rows()


def _csv_reason(error: csv.Error) -> str:
    text = str(error)
    if "field larger" in text:
        return f"a field is longer than {MAX_FIELD:,} characters"
    return text


def _json_table(path, first, source) -> tuple[list[str], Iterator[Row]]:
    first_object = _json_object(path, *first)
    header = list(first_object)
    _check_header(path, header, first[0], None)

    def rows() -> Iterator[Row]:
        yield Row(first[0], first_object)
        for number, line in source:
            if not line.strip():
                continue
            values = _json_object(path, number, line)
            missing = [name for name in header if name not in values]
            if missing:
                raise DataFileError(
                    path, f"the object has no {_quoted(missing)[0]} (the first line has it)", number
                )
            yield Row(number, values)

    return header, rows()


def _json_object(path, number: int, line: str) -> dict[str, Any]:
    if len(line) > MAX_FIELD * 4:
        raise DataFileError(path, f"a line is longer than {MAX_FIELD * 4:,} characters", number)
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        column = getattr(error, "colno", None)
        where = f" at column {column}" if column else ""
        raise DataFileError(path, f"not a JSON object{where}: one object a line", number) from None
    if not isinstance(value, dict):
        raise DataFileError(path, f"a JSON {type(value).__name__} where an object is due", number)
    return value


def _check_header(path, header: list[str], line: int, delimiter: str | None) -> None:
    if len(header) > MAX_COLUMNS:
        raise DataFileError(path, f"{len(header)} columns; at most {MAX_COLUMNS}", line)
    if any(not name for name in header):
        raise DataFileError(path, "a column of the header has no name", line)
    if any(len(name) > MAX_NAME for name in header):  # the columns read are kept in the project
        raise DataFileError(path, f"a column's name is longer than {MAX_NAME:,} characters", line)
    if len(set(header)) != len(header):
        twice = next(name for name in header if header.count(name) > 1)
        raise DataFileError(path, f"the header names the column '{twice}' twice", line)
    if delimiter is not None and len(header) == 1:
        other = "a tab" if delimiter == "," else "a comma"
        raise DataFileError(
            path,
            f"the header has one column ('{header[0][:40]}'): are the columns separated by "
            f"{other}? Name the format (csv or tsv) in the data options",
            line,
        )


# --- tagged sentences -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaggedSentence:
    line: int  # of its first token
    tokens: list[str]
    tags: list[str]


def read_tagged(path: Path | str, limit: int = MAX_DATA_BYTES) -> Iterator[TaggedSentence]:
    """CoNLL style: one ``token<TAB>tag`` a line (or token, space, tag), a blank line between
    sentences; lines starting with ``#`` are comments. With more than two columns, the first is
    the token and the last the tag."""
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    seen = 0
    for number, line in lines(path, limit):
        if not line.strip():
            if tokens:
                seen += 1
                yield TaggedSentence(start, tokens, tags)
                tokens, tags = [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields if f.strip()]
        if len(fields) < 2:
            raise DataFileError(
                path,
                f"'{line[:40]}' has no tag: write token<TAB>tag, one token a line, and a blank "
                "line between sentences",
                number,
            )
        if len(fields[0]) > MAX_FIELD or len(fields[-1]) > MAX_FIELD:
            raise DataFileError(path, f"a token longer than {MAX_FIELD:,} characters", number)
        if not tokens:
            start = number
        tokens.append(fields[0])
        tags.append(fields[-1])
    if tokens:
        seen += 1
        yield TaggedSentence(start, tokens, tags)
    if not seen:
        raise DataFileError(path, "holds no tagged tokens")


# --- words ------------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _name(delimiter: str) -> str:
    return "TSV" if delimiter == "\t" else "CSV"


def _show(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def _quoted(names: list[str]) -> list[str]:
    return [f"'{name[:30]}'" for name in names]


def file_size(path: Path | str) -> int:
    """The size of a file in bytes (0 when it cannot be read)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
