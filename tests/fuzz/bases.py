"""The valid files the fuzz suite damages: a project of every template, and projects on a
person's data of every kind, each with its data file in the project's folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rnn_builder.files.serialization import project_to_dict
from rnn_builder.files.templates import TEMPLATES, new_project
from tests.fuzz.harness import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
RHYMES = Path(__file__).resolve().parents[2] / "rnn_builder" / "training" / "data_files"

# (template, kind, the data file): a person's data, read and fitted as 'edit --fit' does
OWN_DATA = [
    ("many_to_one", "labelled", "reviews.csv"),
    ("bidirectional_tagger", "tagged", "pos_tags.conll"),
    ("encoder_decoder_feedback", "pairs", "english_spanish.tsv"),
    ("adding_problem", "sequences", "shapes.csv"),
    ("stacked_lstm", "text", "rhymes.txt"),
    ("forecast", "csv", "airline_passengers.csv"),
]


def data_folder(folder: Path) -> Path:
    """``folder`` with every data file the bases read (small ones: a case reads its data)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _template, _kind, name in OWN_DATA:
        source = EXAMPLES / name if (EXAMPLES / name).exists() else RHYMES / name
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / name).write_text("".join(lines[:600]), encoding="utf-8")
    shutil.copy(RHYMES / "rhymes.txt", folder / "rhymes.txt")
    return folder


def projects(folder: Path) -> list[dict]:
    """The bases as JSON documents: every template, and each kind of a person's data."""
    documents = [project_to_dict(new_project(name)) for name in TEMPLATES]
    for number, (template, kind, name) in enumerate(OWN_DATA):
        path = folder / f"own{number}.json"
        cli("new", template, "-o", path, "--force")
        result = cli("edit", path, "--data-file", kind, name, "--fit", "--setting", "epochs", "1")
        assert result.code == 0, result.out + result.err
        documents.append(json.loads(path.read_text(encoding="utf-8")))
    return documents
