"""Project files: byte-stable round trips, strict loading that names the JSON path, migration,
and saves that never destroy the previous file."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import rnn_builder.files.serialization as serialization
from rnn_builder.errors import (
    MalformedProjectError,
    ProjectFileError,
    ProjectSaveError,
    UnsupportedVersionError,
)
from rnn_builder.files.serialization import dumps, load, loads, save
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.validation import validate

DATA = Path(__file__).parent / "data"
FROZEN_V1 = DATA / "project_v1.json"


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_save_load_save_is_byte_identical(name, tmp_path):
    path = save(new_project(name), tmp_path / "p.json")
    first = path.read_bytes()
    save(load(path), path)
    assert path.read_bytes() == first
    assert dumps(loads(first)) == first.decode("utf-8")


def test_loaded_project_equals_the_saved_one():
    project = new_project("encoder_decoder_feedback")
    again = loads(dumps(project))
    assert again.title == project.title and again.template == project.template
    assert again.graph.edges == project.graph.edges
    for node in project.graph:
        assert again.graph.node(node.id) == node
    assert again.training == project.training and again.dataset == project.dataset


def test_frozen_version_1_file_still_loads_and_is_migrated():
    project = load(FROZEN_V1)
    assert project.title == "Frozen v1 — sentiment (ünïcode)"
    assert project.graph.node("reader").params["hidden_size"] == 48
    assert project.graph.node("reader").position == (512.5, -33.25)
    assert project.graph.node("scores").name == "scores → classes"
    assert project.training.learning_rate == 0.003
    assert (project.training.schedule, project.training.patience) == ("constant", 0)
    assert validate(project.graph).ok
    old, new = json.loads(FROZEN_V1.read_text(encoding="utf-8")), json.loads(dumps(project))
    assert (old["version"], new["version"]) == (1, serialization.CURRENT_VERSION)
    assert new["graph"] == old["graph"]  # nothing of the graph changed on the way
    assert new["training"] == {
        **old["training"],
        "schedule": "constant",
        "patience": 0,
        "weight_decay": 0.0,
    }


def test_migration_hook_brings_an_old_file_up_to_date(monkeypatch):
    calls = []

    def to_next(document):
        calls.append(document["version"])
        document = dict(document)
        document["title"] = document["title"] + " (from the past)"
        return document

    future = serialization.CURRENT_VERSION + 1
    monkeypatch.setattr(serialization, "CURRENT_VERSION", future)
    monkeypatch.setitem(serialization.MIGRATIONS, future - 1, to_next)
    project = load(FROZEN_V1)
    assert calls == [future - 1]  # after the real 1 -> 2 migration
    assert project.title.endswith("(from the past)")
    assert json.loads(dumps(project))["version"] == future


def test_missing_or_failing_migration_is_a_clear_error(monkeypatch):
    future = serialization.CURRENT_VERSION + 2
    monkeypatch.setattr(serialization, "CURRENT_VERSION", future)
    monkeypatch.setitem(serialization.MIGRATIONS, future - 2, lambda d: {**d})
    with pytest.raises(UnsupportedVersionError, match=f"version {future - 1} can no longer"):
        load(FROZEN_V1)
    monkeypatch.setitem(serialization.MIGRATIONS, future - 1, lambda d: d["missing"])
    with pytest.raises(MalformedProjectError, match="could not be updated"):
        load(FROZEN_V1)


def _document() -> dict:
    return json.loads(dumps(new_project("many_to_one")))


def _edit(change):
    document = _document()
    change(document)
    return json.dumps(document)


MALFORMED = [
    ("{", "$", "not valid JSON"),
    ("[]", "$", "expected an object, got a list"),
    ('{"format": "other", "version": 1}', "$.format", "not an RNN Builder project"),
    (_edit(lambda d: d.update(version="1")), "$.version", "whole number"),
    (_edit(lambda d: d.pop("graph")), "$", "'graph' is missing"),
    (_edit(lambda d: d.update(extra=1)), "$.extra", "unknown key 'extra'"),
    (_edit(lambda d: d["graph"].update(nodes={})), "$.graph.nodes", "expected a list"),
    (
        _edit(lambda d: d["graph"]["nodes"][1].update(type="transformer")),
        "$.graph.nodes[1].type",
        "unknown node type 'transformer'",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][2]["params"].update(hidden_size="big")),
        "$.graph.nodes[2].params.hidden_size",
        "expected a whole number, got the text 'big'",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][2]["params"].update(hiden_size=3)),
        "$.graph.nodes[2].params.hiden_size",
        "no parameter 'hiden_size'",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][2].update(id="words")),
        "$.graph.nodes[2].id",
        "second node with the id 'words'",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][0].update(id="a.b")),
        "$.graph.nodes[0].id",
        "node id",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][0].update(id="caf\u00e9")),
        "$.graph.nodes[0].id",
        "ASCII letters",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][4].update(id="loss")),  # the Output
        "$.graph.nodes[4].id",
        "an Output cannot have the id 'loss'",
    ),
    (
        _edit(lambda d: d["graph"]["nodes"][0].update(position=[0, "up"])),
        "$.graph.nodes[0].position",
        "two finite numbers",
    ),
    (
        _edit(lambda d: d["graph"]["edges"][0].__setitem__(2, "ghost")),
        "$.graph.edges[0][2]",
        "no node 'ghost'",
    ),
    (
        _edit(lambda d: d["graph"]["edges"][0].__setitem__(3, "nope")),
        "$.graph.edges[0]",
        "no input port 'nope'",
    ),
    (
        _edit(lambda d: d["graph"]["edges"].append(d["graph"]["edges"][0])),
        "$.graph.edges[4]",
        "already exists",
    ),
    (
        _edit(lambda d: d["graph"]["edges"].append(["words", "y"])),
        "$.graph.edges[4]",
        "four texts",
    ),
    (
        _edit(lambda d: d["training"].update(learning_rate="fast")),
        "$.training.learning_rate",
        "expected a number",
    ),
    (_edit(lambda d: d["training"].update(batch_size=0)), "$.training", "batch_size"),
    (_edit(lambda d: d["dataset"].update(kind="ftp")), "$.dataset.kind", "expected one of"),
    (
        _edit(lambda d: d["dataset"]["options"].update(nested={"a": {"b": {"c": {"d": 1}}}})),
        "$.dataset.options.nested",
        "lists and objects of those",
    ),
    ('{"a": 1, "a": 2}', "$", "appears twice"),
    ('{"format": "rnn-builder-project", "version": NaN}', "$", "NaN is not a number"),
    ("[" * 100_000 + "]" * 100_000, "$", "nested too deeply"),
]


@pytest.mark.parametrize(("text", "path", "words"), MALFORMED)
def test_malformed_files_are_refused_with_the_json_path(text, path, words):
    with pytest.raises(MalformedProjectError) as caught:
        loads(text)
    assert caught.value.path == path or (path == "$" and caught.value.path == "")
    assert words in str(caught.value)


def test_future_and_impossible_versions_are_refused():
    with pytest.raises(UnsupportedVersionError, match="newer RNN Builder"):
        loads(_edit(lambda d: d.update(version=99)))
    with pytest.raises(UnsupportedVersionError, match="does not exist"):
        loads(_edit(lambda d: d.update(version=0)))


def test_out_of_range_values_load_and_validation_reports_them():
    text = _edit(lambda d: d["graph"]["nodes"][2]["params"].update(hidden_size=0))
    project = loads(text)
    assert project.graph.node("reader").params["hidden_size"] == 0
    assert [p.code for p in validate(project.graph).errors] == ["param_out_of_range"]
    assert json.loads(dumps(project)) == json.loads(text)  # nothing lost


def test_two_wires_into_one_port_load_and_are_reported():
    def add_wire(d):
        d["graph"]["nodes"].append({"id": "other", "type": "sequence_input"})
        d["graph"]["edges"].append(["other", "y", "embed", "tokens"])

    project = loads(_edit(add_wire))
    assert "multiple_inputs" in [p.code for p in validate(project.graph).errors]


def test_two_nodes_of_one_name_load_and_nothing_is_lost():
    """Names are unique from now on (``Graph.check_rename``), but a file saved before, with two
    nodes of one name, still opens as it was: only a new duplicate is refused."""
    text = _edit(lambda d: d["graph"]["nodes"][2].update(name="embed"))
    project = loads(text)
    assert [n.name for n in project.graph].count("embed") == 2
    assert json.loads(dumps(project)) == json.loads(text)


def test_unreadable_files_say_why(tmp_path):
    with pytest.raises(ProjectFileError, match="no file"):
        load(tmp_path / "missing.json")
    with pytest.raises(ProjectFileError, match="folder"):
        load(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(MalformedProjectError, match="not UTF-8"):
        load(binary)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as stream:
        stream.truncate(serialization.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ProjectFileError, match="too large"):
        load(huge)


# --- saving -------------------------------------------------------------------------------


def _fail_with(code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_a_failed_save_keeps_the_previous_file_and_leaves_no_litter(tmp_path, monkeypatch, where):
    path = tmp_path / "project.json"
    save(new_project("many_to_one"), path)
    before = path.read_bytes()
    monkeypatch.setattr(serialization.os, where, _fail_with(errno.ENOSPC))
    with pytest.raises(ProjectSaveError, match=r"disk is full.*unchanged"):
        save(new_project("stacked_lstm"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.json"]


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectSaveError, match="folder does not exist"):
        save(new_project(), tmp_path / "nowhere" / "p.json")


def test_save_keeps_the_file_permissions(tmp_path):
    path = tmp_path / "p.json"
    save(new_project(), path)
    os.chmod(path, 0o640)
    save(new_project("one_to_one"), path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert load(path).template == "one_to_one"


HOSTILE = [
    (lambda d: d["graph"]["nodes"][0].update(position=[10**400, 0]), "$.graph.nodes[0].position"),
    (lambda d: d["training"].update(learning_rate=10**400), "$.training.learning_rate"),
    (lambda d: d["dataset"]["options"].update(a=10**400), "$.dataset.options.a"),
    (
        lambda d: d["graph"]["nodes"][2]["params"].update(forget_bias=10**400),
        "$.graph.nodes[2].params.forget_bias",
    ),
    (lambda d: d["graph"]["nodes"][2].update(name="r\ud83d"), "$.graph.nodes[2].name"),
    (lambda d: d.update(title="\udc00"), "$.title"),
    (lambda d: d["graph"]["nodes"][2].update(name=None), "$.graph.nodes[2].name"),
    (lambda d: d["graph"]["nodes"][0].update(id="words\n"), "$.graph.nodes[0].id"),
]


@pytest.mark.parametrize(("change", "path"), HOSTILE)
def test_hostile_values_are_refused_at_their_path(change, path):
    with pytest.raises(MalformedProjectError) as caught:
        loads(_edit(change))
    assert caught.value.path == path


def test_integers_of_thousands_of_digits_are_refused():
    text = dumps(new_project()).replace('"hidden_size": 32', '"hidden_size": ' + "9" * 5000)
    with pytest.raises(MalformedProjectError, match="too large"):
        loads(text)


def test_devices_and_pipes_are_not_read(tmp_path):
    with pytest.raises(ProjectFileError, match="not a regular file"):
        load("/dev/zero")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ProjectFileError, match="not a regular file"):
        load(fifo)


def test_notes_on_the_canvas_are_saved_and_read_back():
    """Issue 23: a teacher's notes live in the project (format 6); a version 5 file has none."""
    from rnn_builder.files.project import Note

    project = new_project("many_to_one")
    project.add_note(Note("note_1", "The LSTM reads the words\none by one.", (40.0, -200.0)))
    project.add_note(Note("note_2", "h_n: the whole sentence", (500.0, 260.0)))
    text = dumps(project)
    again = loads(text)
    assert [(n.id, n.text, n.position) for n in again.notes] == [
        ("note_1", "The LSTM reads the words\none by one.", (40.0, -200.0)),
        ("note_2", "h_n: the whole sentence", (500.0, 260.0)),
    ]
    assert dumps(again) == text
    older = json.loads(text)
    del older["notes"]
    older["version"] = 5
    assert loads(json.dumps(older)).notes == []


@pytest.mark.parametrize(
    ("notes", "path", "words"),
    [
        ({}, "$.notes", "expected a list"),
        ([{"id": "a b", "text": "x"}], "$.notes[0].id", "note's id"),
        ([{"id": "n", "text": "x"}, {"id": "n", "text": "y"}], "$.notes[1].id", "second note"),
        ([{"id": "n", "text": 3}], "$.notes[0].text", "expected text"),
        ([{"id": "n", "text": "x" * 4001}], "$.notes[0].text", "longer than"),
        ([{"id": "n", "text": "x", "position": [1]}], "$.notes[0].position", "[x, y]"),
        ([{"id": "n", "text": "x", "colour": "red"}], "$.notes[0].colour", "unknown key"),
    ],
)
def test_damaged_notes_are_refused_with_their_place(notes, path, words):
    document = json.loads(dumps(new_project("many_to_one")))
    document["notes"] = notes
    with pytest.raises(MalformedProjectError) as caught:
        loads(json.dumps(document))
    assert caught.value.path == path and words in str(caught.value)
