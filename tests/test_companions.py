"""A project saved with its weights and runs as one set (files.companions): the record in the
project file, the order of the renames, what a save cut short leaves, and the temporaries of
killed saves removed at the next save (of this project's names only)."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import MalformedProjectError, ProjectSaveError
from rnn_builder.files import companions
from rnn_builder.files.companions import (
    STALE_SECONDS,
    runs_path,
    runs_problem,
    save_with_companions,
    weights_digest,
    weights_path,
    weights_problem,
)
from rnn_builder.files.serialization import CURRENT_VERSION, dumps, load, loads
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import read_weights


class Killed(BaseException):
    """The process dying at this point of a save."""


def die_after(monkeypatch, renames: int) -> list:
    """``os.replace`` works ``renames`` times, then the process 'dies'; returns the targets."""
    real, done = os.replace, []

    def replace(source, target):
        if len(done) == renames:
            raise Killed
        done.append(os.fspath(target))
        return real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return done


def weights(seed: int) -> dict[str, np.ndarray]:
    return Executor(new_project("many_to_one").graph, seed=seed).get_parameters()


def runs(label: str) -> bytes:
    return json.dumps([{"label": label}]).encode()


def test_the_project_records_what_it_was_saved_with_and_reads_it_back(tmp_path):
    project = new_project("many_to_one")
    path = tmp_path / "p.json"
    save_with_companions(project, path, weights(1), runs("one"))
    text = json.loads(path.read_text())
    assert text["version"] == CURRENT_VERSION >= 4
    assert text["companions"] == {
        "weights": weights_digest(weights(1)),
        "runs": companions.data_digest(runs("one")),
    }
    assert project.companions == text["companions"]  # the record on disk
    again = load(path)
    assert again.companions == text["companions"] and dumps(again) == path.read_text()
    read = read_weights(weights_path(path))
    assert weights_problem(again, weights_path(path), read) is None
    assert runs_problem(again, runs_path(path), 10**6) is None


def test_a_digest_is_of_the_weights_not_of_the_zip_around_them(tmp_path):
    """A zip records when its members were written, so the same weights saved twice are not
    the same bytes; read back, they are the same weights."""
    assert weights_digest(weights(1)) == weights_digest(weights(1)) != weights_digest(weights(2))
    (tmp_path / "a.npz").write_bytes(companions.npz_bytes(weights(1)))
    read = read_weights(tmp_path / "a.npz")
    assert weights_digest(read) == weights_digest(weights(1))
    changed = dict(read)
    changed["reader.bias_hh"] = changed["reader.bias_hh"].copy()
    changed["reader.bias_hh"][0] += 1e-7  # one value, barely
    assert weights_digest(changed) != weights_digest(read)
    renamed = {("x" + k if k == "reader.bias_hh" else k): v for k, v in read.items()}
    assert weights_digest(renamed) != weights_digest(read)


def test_a_version_3_file_claims_nothing_and_a_bad_record_is_refused_with_its_path():
    document = json.loads(dumps(new_project("many_to_one")))
    assert "companions" not in document  # nothing saved beside it: no record
    document["version"] = 3
    project = loads(json.dumps(document))
    assert project.companions == {}
    document["version"] = 4
    document["companions"] = {"weights": "md5:1234"}
    with pytest.raises(MalformedProjectError, match=r"companions → weights.*a digest"):
        loads(json.dumps(document))
    document["companions"] = {"checkpoint": "sha256:" + "0" * 64}
    with pytest.raises(MalformedProjectError, match="unknown key 'checkpoint'"):
        loads(json.dumps(document))


def test_every_file_is_written_before_any_is_renamed_and_the_project_first(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    order = []
    real_write = companions.write_temporary

    def write(target, data):
        order.append(("write", target.name))
        return real_write(target, data)

    monkeypatch.setattr(companions, "write_temporary", write)
    renamed = die_after(monkeypatch, 99)
    save_with_companions(new_project("many_to_one"), path, weights(1), runs("one"))
    assert order == [("write", "p.json"), ("write", "p.npz"), ("write", "p.runs.json")]
    assert [os.path.basename(p) for p in renamed] == ["p.json", "p.npz", "p.runs.json"]


@pytest.mark.parametrize("renames", [0, 1, 2, 3])
def test_a_save_cut_short_at_each_rename_leaves_a_set_that_matches_or_says_not(
    tmp_path, monkeypatch, renames
):
    path = tmp_path / "p.json"
    project = new_project("many_to_one")
    project.set_title("first")
    save_with_companions(project, path, weights(1), runs("one"))
    project.set_title("second")
    die_after(monkeypatch, renames)
    if renames < 3:
        with pytest.raises(Killed):
            save_with_companions(project, path, weights(2), runs("two"))
    else:
        save_with_companions(project, path, weights(2), runs("two"))
    monkeypatch.undo()
    opened = load(path)
    on_disk = read_weights(weights_path(path))
    weights_note = weights_problem(opened, weights_path(path), on_disk)
    runs_note = runs_problem(opened, runs_path(path), 10**6)
    title = {0: "first", 1: "second", 2: "second", 3: "second"}[renames]
    assert opened.title == title
    # the weights and runs match the project they lie beside, or are said not to
    matching_weights = weights_digest(on_disk) == weights_digest(weights(1 if renames == 0 else 2))
    assert (weights_note is None) == matching_weights == (renames != 1)
    assert (runs_note is None) == (renames in (0, 3))
    if weights_note:
        assert "not the ones this project was saved with" in weights_note
    assert not list(tmp_path.glob(".*.tmp"))  # (a real kill leaves them: see the next test)


def test_a_claim_whose_file_is_missing_is_said(tmp_path):
    path = tmp_path / "p.json"
    project = new_project("many_to_one")
    save_with_companions(project, path, weights(1), runs("one"))
    weights_path(path).unlink()
    runs_path(path).unlink()
    opened = load(path)
    assert "missing ('p.npz'" in weights_problem(opened, weights_path(path), None)
    assert "missing ('p.runs.json'" in runs_problem(opened, runs_path(path), 10**6)


def test_a_save_without_weights_keeps_the_claim_it_was_given(tmp_path):
    path = tmp_path / "p.json"
    project = new_project("many_to_one")
    save_with_companions(project, path, weights(1))
    claim = project.companions["weights"]
    weights_path(path).write_bytes(companions.npz_bytes(weights(2)))  # not its own
    save_with_companions(project, path, None, None, project.companions)
    opened = load(path)
    assert opened.companions == {"weights": claim}
    assert weights_problem(opened, weights_path(path), read_weights(weights_path(path)))


def stale(path, age: float) -> None:
    path.write_bytes(b"x" * 1000)
    moment = time.time() - age
    os.utime(path, (moment, moment))


def test_temporaries_of_killed_saves_of_these_names_are_removed_at_the_next_save(tmp_path):
    mine = [f".p.json.{s}.tmp" for s in ("abcd1234", "zz_yy_00")] + [
        ".p.npz.q1w2e3r4.tmp",
        ".p.runs.json.a1b2c3d4.tmp",
    ]
    others = [".other.json.abcd1234.tmp", ".p.json.notours.tmp", "p.json.abcd1234.tmp"]
    for name in mine + others:
        stale(tmp_path / name, 2 * STALE_SECONDS)
    stale(tmp_path / ".p.npz.running1.tmp", 1.0)  # a save still writing it
    save_with_companions(new_project("many_to_one"), tmp_path / "p.json", weights(1))
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"p.json", "p.npz", ".p.npz.running1.tmp", *others}


def test_a_failed_write_leaves_the_set_as_it_was_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    project = new_project("many_to_one")
    save_with_companions(project, path, weights(1), runs("one"))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_write = companions.write_temporary

    def full_disk(target, data):
        if target.suffix == ".npz":
            raise ProjectSaveError(f"Could not save '{target}': the disk is full.")
        return real_write(target, data)

    monkeypatch.setattr(companions, "write_temporary", full_disk)
    project.set_title("second")
    with pytest.raises(ProjectSaveError, match="disk is full"):
        save_with_companions(project, path, weights(2), runs("two"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
