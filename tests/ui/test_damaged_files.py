"""Issue 23, item 10: a damaged project file is refused in words: the file named, the place in
it as a path of words (``graph → nodes → 3 → params``), and what to do — and the recovery copy
of it, when RNN Builder kept one, is offered."""

from __future__ import annotations

import json

import pytest

from rnn_builder.files.serialization import dumps, save
from rnn_builder.files.templates import new_project


def _open_from_the_menu(window, path) -> bool:
    """File → Open, the dialog answered with ``path``."""
    window.choose_open_path = lambda: str(path)
    before = len(window.errors)
    window.open_action.trigger()
    return len(window.errors) == before


def _damaged(tmp_path, edit) -> object:
    document = json.loads(dumps(new_project("many_to_one")))
    edit(document)
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps(document, indent=2))
    return path


@pytest.mark.parametrize(
    ("edit", "place", "what"),
    [
        (lambda d: d.pop("graph"), "the file's top level", "'graph' is missing"),
        (
            lambda d: d["graph"]["nodes"][3].update(params=[1, 2]),
            "graph → nodes → 3 → params",
            "expected an object, got a list",
        ),
    ],
)
def test_a_damaged_file_says_which_file_where_and_what_to_do(window, tmp_path, edit, place, what):
    path = _damaged(tmp_path, edit)
    before = dumps(window.document.project)
    assert not _open_from_the_menu(window, path)
    title, message = window.errors[-1]
    assert title == "Cannot open the project"
    assert f"'{path}' is damaged: {place}: {what}" in message
    assert "$" not in message
    assert "recovery copy" in message and "last good save" in message
    assert dumps(window.document.project) == before  # the project in front stays


def test_a_file_that_is_not_json_says_the_line_and_what_is_missing(window, tmp_path):
    text = dumps(new_project("many_to_one")).splitlines()
    line = next(i for i, t in enumerate(text) if t.strip().startswith('"name": "embed"'))
    text[line] = text[line].rstrip(",")  # a comma deleted by hand
    path = tmp_path / "lesson.json"
    path.write_text("\n".join(text))
    assert not _open_from_the_menu(window, path)
    _title, message = window.errors[-1]
    assert f"'{path}' is damaged: not valid JSON at line {line + 2}, column" in message
    assert "a ',' is missing" in message and "Expecting" not in message


def test_the_recovery_copy_of_a_damaged_file_is_offered(make_window, tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "lesson.json")
    crashed = make_window("many_to_one", path)
    crashed.document.add_node("gru", (0.0, 400.0))
    crashed.document.write_recovery()  # ... the session dies, and the file is damaged since
    path.write_text(path.read_text()[:200])
    window = make_window("one_to_one")
    offered = []
    window.ask_open_recovery = lambda recovery: offered.append(recovery.original) or True
    assert _open_from_the_menu(window, path) is False  # an error was said ...
    assert offered == [path]  # ... and the copy offered, and opened
    assert "gru_1" in window.document.graph and window.document.modified
    assert window.document.path == path
