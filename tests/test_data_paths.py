"""A project's data path that leaves the project's folder is not read unless allowed (issue 22,
item 12): a project could name ``../../etc/passwd`` or ``/proc/self/maps``, training on it
worked, and a CSV error quoted its first line. The core resolves the path against the folder
(symlinks resolved) and refuses it; the CLI reads it only with ``--allow-outside-data``; a
refusal about such a file never quotes what it holds."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rnn_builder.cli.main import main
from rnn_builder.errors import DataError
from rnn_builder.files.data_paths import (
    BUNDLED_DATA,
    DataFolder,
    OutsideDataError,
    locate_data,
)
from rnn_builder.files.serialization import load, project_to_dict
from rnn_builder.files.templates import new_project
from rnn_builder.training import messages
from rnn_builder.training.tasks import check_data, load_dataset

REVIEWS = Path(__file__).resolve().parent.parent / "docs" / "examples" / "reviews.csv"
SECRET = "root:x:0:0:the-first-line-of-a-private-file"


def test_a_path_is_outside_when_it_resolves_outside_the_folder(tmp_path):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "a.csv").write_text("x")
    (tmp_path / "b.csv").write_text("x")
    assert not locate_data("data/a.csv", folder).outside
    assert not locate_data(str(folder / "data" / "a.csv"), folder).outside
    assert not locate_data("data/../data/a.csv", folder).outside
    assert locate_data("../b.csv", folder).outside
    assert locate_data("../../etc/passwd", folder).outside
    assert locate_data("/proc/self/maps", folder).outside
    assert locate_data("data/../../project-other/x.csv", folder).outside
    assert not locate_data(str(BUNDLED_DATA / "rhymes.txt"), folder).outside  # bundled
    # symlinks are resolved: a link inside to a file outside leaves the folder, and back
    os.symlink(tmp_path / "b.csv", folder / "link.csv")
    assert locate_data("link.csv", folder).outside
    os.symlink(folder / "data", tmp_path / "in")
    assert not locate_data(str(tmp_path / "in" / "a.csv"), folder).outside
    assert locate_data("../b.csv", folder).path == (tmp_path / "b.csv").resolve()


def test_a_folder_allows_what_it_was_told(tmp_path):
    location = locate_data("../b.csv", tmp_path / "p")
    with pytest.raises(OutsideDataError, match=r"'\.\./b\.csv' is outside the project's folder"):
        DataFolder(tmp_path / "p").check("../b.csv")
    assert DataFolder(tmp_path / "p", frozenset({location.path})).check("../b.csv") == location
    assert DataFolder(tmp_path / "p", allow_outside=True).check("../b.csv") == location
    assert DataFolder(tmp_path / "p").check("in/c.csv").outside is False


def _project(tmp_path, kind: str, name: str, fit: bool = True) -> Path:
    project = new_project("many_to_one")
    if fit:
        for node in ("words", "embed"):
            project.graph.set_param(node, "vocabulary", 44)
    document = project_to_dict(project)
    document["dataset"] = {"kind": kind, "name": name, "options": {}}
    (tmp_path / "project").mkdir(exist_ok=True)
    path = tmp_path / "project" / "p.json"
    path.write_text(json.dumps(document))
    return path


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


COMMANDS = [
    ("train", "--steps", "1"),
    ("evaluate", "--weights", "W"),
    ("predict", "--weights", "W", "--input", "good"),
    ("export", "--to", "pytorch", "-o", "OUT"),
    ("export", "--to", "onnx", "-o", "OUT.onnx", "--check"),
    ("edit", "--data-option", "min_count=1"),
    ("bundle", "-o", "OUT.rnnb"),  # it would carry the file away in the bundle
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:3]))
def test_every_command_that_reads_the_data_refuses_a_file_outside(tmp_path, capsys, command):
    shutil.copy(REVIEWS, tmp_path / "reviews.csv")
    path = _project(tmp_path, "labelled", "../reviews.csv")
    weights = tmp_path / "project" / "p.npz"
    assert _run(capsys, "train", path, "--steps", "1", "--allow-outside-data")[0] == 0
    before = path.read_bytes()
    given = [a.replace("W", str(weights)).replace("OUT", str(tmp_path / "out")) for a in command]
    code, out, err = _run(capsys, given[0], path, *given[1:])
    assert code == 2, out + err
    assert err.count("\n") == 1 and "is outside the project's folder" in err
    assert "--allow-outside-data" in err and path.read_bytes() == before
    assert not any((tmp_path / name).exists() for name in ("out", "out.onnx", "out.rnnb"))
    code, out, err = _run(capsys, given[0], path, *given[1:], "--allow-outside-data")
    assert code == 0, err


def test_a_file_inside_the_folder_needs_nothing(tmp_path, capsys):
    path = _project(tmp_path, "labelled", "reviews.csv")
    shutil.copy(REVIEWS, path.parent / "reviews.csv")
    code, _out, err = _run(capsys, "train", path, "--steps", "1")
    assert code == 0, err


def test_validate_reads_nothing_and_says_nothing_of_it(tmp_path, capsys):
    path = _project(tmp_path, "labelled", "../../../../etc/passwd")
    code, out, _err = _run(capsys, "validate", path)
    assert code == 0 and "root:" not in out
    assert check_data(load(path), DataFolder(path.parent)).problems[0].code == "data_not_read"


@pytest.mark.parametrize(
    ("kind", "content", "quoted_inside"),
    [
        ("labelled", f"{SECRET}\n", True),  # the header has one column: it was quoted
        ("labelled", f"a,b\n{SECRET},x,y\n", False),
        ("csv", "a\n" + "1\n" * 25 + f"{SECRET}\n", True),
        ("tagged", f"{SECRET}\n", True),
        ("sequences", f"x,label\n{SECRET},a\n1 2,b\n", False),
    ],
)
def test_a_refusal_never_quotes_a_file_outside_the_folder(
    tmp_path, capsys, kind, content, quoted_inside
):
    (tmp_path / "private.txt").write_text(content)
    path = _project(tmp_path, kind, "../private.txt", fit=False)
    code, out, err = _run(capsys, "train", path, "--steps", "1", "--allow-outside-data")
    assert code == 2 and err.count("\n") == 1, err
    assert "private.txt" in err and "root:x:0:0" not in out + err
    # the same file inside the folder, or read by the user's own choice, is quoted as before
    shutil.copy(tmp_path / "private.txt", path.parent / "inside.txt")
    inside = _project(tmp_path, kind, "inside.txt", fit=False)
    code, _out, err = _run(capsys, "train", inside, "--steps", "1")
    assert code == 2 and ("root:x:0:0" in err) == quoted_inside


def test_the_file_level_reasons_are_still_said(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    path = _project(tmp_path, "labelled", "../empty.csv")
    with pytest.raises(DataError, match="is empty"):
        load_dataset(load(path), base=DataFolder(path.parent, allow_outside=True))


def test_the_training_process_is_told_which_files_outside_are_allowed():
    data = {"project": {}, "base": "/p", "max_steps": None, "report_every": 0.1, "plugins": []}
    with pytest.raises(messages.MessageError, match="outside_data"):
        messages.check("train", data, ("w",))
    messages.check("train", {**data, "outside_data": ["/data/a.csv"]}, ("w",))
    with pytest.raises(messages.MessageError, match="outside_data"):
        messages.check("train", {**data, "outside_data": "/data/a.csv"}, ("w",))
