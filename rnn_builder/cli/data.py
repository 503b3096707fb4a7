"""The ``data`` command: what a data file holds and what it would bind to, before anything trains.

    rnn-builder data FILE [--kind KIND] [--option KEY=VALUE ...] [--json]

It reads the file as training will (``training.summary``) and prints the format, the columns
read, the examples in each part, the classes with their counts, the vocabulary, the unknown rate
on validation, the lengths and the layouts the data fits; exit 0. A file that cannot be read is
refused with its line and the reason; exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from rnn_builder.errors import DataError, RNNBuilderError
from rnn_builder.files.data_paths import DataFolder
from rnn_builder.files.project import FILE_KINDS
from rnn_builder.training.summary import guess_kind, read_data, summarise

EXIT_BAD_DATA = 1
ALLOW_OUTSIDE_HELP = (
    "read the project's data file even where it is outside the project's folder (a project "
    "from elsewhere may name any file: allow it only for a project you trust)"
)


def add_allow_outside_data(parser) -> None:
    """``--allow-outside-data``, for every command that reads a project's data."""
    parser.add_argument("--allow-outside-data", action="store_true", help=ALLOW_OUTSIDE_HELP)


def project_folder(args: argparse.Namespace) -> DataFolder:
    """The folder of the project ``args.file``, as its data is read: a data file outside it
    only with ``--allow-outside-data`` (``files.data_paths``)."""
    allow = bool(getattr(args, "allow_outside_data", False))
    return DataFolder(Path(args.file).resolve().parent, allow_outside=allow)


def add_commands(commands) -> None:
    p = commands.add_parser(
        "data",
        help="read a data file and say what it holds and what it fits",
        description="Read a data file as training would and print what it holds: format, "
        "columns, examples, classes, vocabulary, lengths, and the layouts it fits.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--kind", choices=FILE_KINDS, help="the kind of data (default: guessed from the file)"
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a data option (e.g. text_column=review, tokens=characters, validation=0.1)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``; the value as JSON when it reads as JSON (a number, true, a list), else as
    text (never evaluated)."""
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise DataError(f"a data option is KEY=VALUE, not {text[:40]!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def cmd_data(args: argparse.Namespace, out: TextIO) -> int:
    options = dict(parse_option(text) for text in args.option)
    try:
        kind = args.kind or guess_kind(args.file)
        task, dataset = read_data(kind, args.file, options)
        summary = summarise(kind, args.file, task, dataset)
    except RNNBuilderError as error:
        if args.json:
            print(json.dumps({"file": args.file, "ok": False, "error": str(error)}), file=out)
        else:
            print(f"rnn-builder: error: {error}", file=sys.stderr)
        return EXIT_BAD_DATA
    if args.json:
        print(json.dumps({"ok": True, **summary.to_json()}, ensure_ascii=False), file=out)
        return 0
    for line in summary.lines():
        print(line, file=out)
    return 0
