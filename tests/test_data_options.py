"""Data options are checked when a project file is read, as the graph's parameters are: one table
(``files.data_options``) says every kind of data's options, the reader refuses a value that
cannot be with its JSON path, and the tasks read their options through the same table.

Issue 22, item 4: 11 of 50 hand-edited options gave exit 3 (TypeError, ValueError): ``alphabet:
5``; ``window: "x"``, ``[12]`` or ``null``; a text's ``stride: 0``; ``inputs: 5``;
``vocabulary: "x"``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rnn_builder.cli.main import main
from rnn_builder.errors import (
    DataError,
    InvalidSettingError,
    MalformedProjectError,
    place_in_words,
)
from rnn_builder.files.data_options import OPTIONS, TASK_OF_KIND, options_problem
from rnn_builder.files.project import DatasetReference
from rnn_builder.files.serialization import loads, project_to_dict, save
from rnn_builder.files.templates import new_project
from rnn_builder.training.summary import read_data
from rnn_builder.training.tasks import FILE_TASKS, TASKS, load_dataset

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
TASK_SOURCES = Path(__file__).resolve().parent.parent / "rnn_builder" / "training" / "tasks"

# (template, options, the JSON path refused): the cases first
REFUSED = [
    ("stacked_lstm", {"alphabet": 5}, "$.dataset.options.alphabet"),
    ("stacked_lstm", {"window": "x"}, "$.dataset.options.window"),
    ("stacked_lstm", {"window": [12]}, "$.dataset.options.window"),
    ("stacked_lstm", {"window": None}, "$.dataset.options.window"),
    ("stacked_lstm", {"stride": 0}, "$.dataset.options.stride"),
    ("forecast", {"inputs": 5}, "$.dataset.options.inputs"),
    ("stacked_lstm", {"vocabulary": "x"}, "$.dataset.options.vocabulary"),
    ("forecast", {"window": "x"}, "$.dataset.options.window"),
    ("forecast", {"window": None}, "$.dataset.options.window"),
    ("forecast", {"horizon": 1.5}, "$.dataset.options.horizon"),
    ("forecast", {"normalise": 5}, "$.dataset.options.normalise"),
    ("forecast", {"target": 3}, "$.dataset.options.target"),
    ("forecast", {"inputs": []}, "$.dataset.options.inputs"),
    (
        "forecast",
        {"normalisation": {"x": {"shift": 0, "scale": 0}}},
        "$.dataset.options.normalisation.x.scale",
    ),
    ("stacked_lstm", {"alphabet": "aa"}, "$.dataset.options.alphabet"),
    ("stacked_lstm", {"alphabet": "abc", "vocabulary": 2}, "$.dataset.options.alphabet"),
    ("stacked_lstm", {"window": True}, "$.dataset.options.window"),
    ("many_to_one", {"sentences": -1}, "$.dataset.options.sentences"),
    ("many_to_one", {"sentences": 10**12}, "$.dataset.options.sentences"),
    ("one_to_one", {"turns": "many"}, "$.dataset.options.turns"),
    ("one_to_many", {"held_out": 1}, "$.dataset.options.held_out"),
    ("adding_problem", {"train": 1_000_000, "steps": 10_000}, "$.dataset.options.train"),
    # a name the data has not: a typo, or a file the data path does not name
    ("stacked_lstm", {"windw": 12}, "$.dataset.options.windw"),
    ("stacked_lstm", {"path": "/etc/passwd"}, "$.dataset.options.path"),
    ("many_to_one", {"_keys": {}}, "$.dataset.options._keys"),
]


def _file(template: str, options: dict) -> str:
    document = project_to_dict(new_project(template))
    document["dataset"]["options"] = options
    return json.dumps(document)


@pytest.mark.parametrize(("template", "options", "where"), REFUSED)
def test_the_reader_refuses_an_option_that_cannot_be_with_its_path(template, options, where):
    with pytest.raises(MalformedProjectError) as caught:
        loads(_file(template, options))
    assert caught.value.path == where
    assert "\n" not in str(caught.value)


def test_an_unknown_option_is_refused_with_the_names_the_data_has():
    with pytest.raises(MalformedProjectError, match=r"no option 'windw' \(its options: voc"):
        loads(_file("stacked_lstm", {"windw": 12}))


@pytest.mark.parametrize(("template", "options", "where"), REFUSED[:7])
def test_train_refuses_them_in_one_line_not_an_internal_error(
    tmp_path, capsys, template, options, where
):
    path = tmp_path / "p.json"
    path.write_text(_file(template, options))
    code = main(["train", str(path), "--steps", "1"])
    _out, err = capsys.readouterr()
    assert code == 2, err
    place = place_in_words(where)  # the file named and the place in words (issue 23)
    assert err.count("\n") == 1
    assert err.startswith(f"rnn-builder: error: '{path}' is damaged: {place}: ")


@pytest.mark.parametrize(
    ("template", "options"),
    [
        ("stacked_lstm", {"window": 12, "stride": 5, "vocabulary": 48}),
        ("forecast", {"window": 6, "horizon": 2, "normalise": "zscore"}),
        ("one_to_many", {"copies": 2, "held_out": 0.25}),
        ("stacked_lstm", {"window": 1}),  # (its validation windows were range(..., 0): exit 3)
    ],
)
def test_good_options_load_train_and_what_training_keeps_loads_again(tmp_path, template, options):
    project = loads(_file(template, options))
    dataset = load_dataset(project)
    assert len(dataset.train) > 0
    kept = project.dataset.options
    assert set(options) <= set(kept)
    path = tmp_path / "p.json"
    save(project, path)
    assert loads(path.read_bytes()).dataset.options == kept  # the learned values pass too


@pytest.mark.parametrize(
    ("kind", "file"),
    [
        ("labelled", "reviews.csv"),
        ("tagged", "pos_tags.conll"),
        ("pairs", "english_spanish.tsv"),
        ("sequences", "shapes.csv"),
    ],
)
def test_what_reading_a_persons_file_works_out_passes_the_table(kind, file):
    task, dataset = read_data(kind, EXAMPLES / file)
    options = {k: v for k, v in dataset.info["options"].items() if k != "path" and k[:1] != "_"}
    assert options_problem(task.name, options) is None
    assert {"vocabulary", "classes", "features"} & set(options)  # something was learned


def test_every_task_has_its_options_in_the_table_and_reads_no_other():
    tasks = {**TASKS, **FILE_TASKS}
    assert set(OPTIONS) == {task.name for task in tasks.values()}
    assert set(TASK_OF_KIND.values()) <= set(OPTIONS)
    for source in TASK_SOURCES.glob("*.py"):
        text = source.read_text()
        # every option a task reads, it reads through the table, by a name the table has
        assert not re.search(r"options\.get\(\"(?!_|path)", text), source.name
        for name in re.findall(r"option\(options, \"(\w+)\"\)", text):
            assert any(name in table for table in OPTIONS.values()), (source.name, name)


def test_a_task_given_options_in_code_refuses_them_in_words():
    with pytest.raises(DataError, match="'window' must be a whole number"):
        TASKS["language_model"].generate(0, {"window": "x"})
    with pytest.raises(DataError, match="has no option 'colour'"):
        TASKS["language_model"].generate(0, {"colour": "red"})


def test_the_editor_cannot_set_a_reference_whose_options_cannot_be():
    project = new_project("stacked_lstm")
    with pytest.raises(InvalidSettingError, match="'stride' must be"):
        project.set_dataset(DatasetReference("builtin", "language_model", {"stride": 0}))
    assert project.dataset.options == {}


def test_edit_refuses_a_data_option_the_data_has_not(tmp_path, capsys):
    path = tmp_path / "p.json"
    save(new_project("many_to_one"), path)
    before = path.read_bytes()
    file = EXAMPLES / "reviews.csv"
    code = main(["edit", str(path), "--data-file", "labelled", str(file), "--data-option", "x=1"])
    _out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "has no option 'x' (its options: text_column" in err
    code = main(
        ["edit", str(path), "--data-file", "labelled", str(file), "--data-option", "min_count=0"]
    )
    _out, err = capsys.readouterr()
    assert code == 2 and "'min_count' must be a whole number from 1" in err
    assert path.read_bytes() == before


def test_a_refusal_that_quotes_a_line_break_is_still_one_line(tmp_path):
    """Found by tests/fuzz: a split column named with a line break (a quoted CSV header can
    hold one) split the message in two; every error of the core is one line."""
    reviews = tmp_path / "r.csv"
    reviews.write_text('text,label,"part\nof it"\n' + "a b,x,train\nc d,y,train\n" * 3)
    with pytest.raises(DataError) as caught:
        read_data("labelled", reviews, {"split_column": "part\nof it"})
    assert "marks no row for validation" in str(caught.value)
    assert "\n" not in str(caught.value) and "'part\\nof it'" in str(caught.value)


def test_what_reading_a_file_with_a_very_long_word_works_out_is_saved_and_opened_again(
    tmp_path, capsys
):
    """A 12,000-character word went into the vocabulary, which a project file cannot hold: the
    project could not be saved (edit --fit) or, from the app, not opened again. A token longer
    than MAX_TOKEN reads as <unk>; a label or a column's name that long is refused in words."""
    from rnn_builder.training.vocabulary import MAX_TOKEN, UNKNOWN

    long = "v" * 12_000
    rows = [f"hello {long} there,pos" if i % 2 else "bad thing,neg" for i in range(40)]
    (tmp_path / "d.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    path = tmp_path / "p.json"
    save(new_project("many_to_one"), path)
    code = main(["edit", str(path), "--data-file", "labelled", "d.csv", "--fit"])
    _out, err = capsys.readouterr()
    assert code == 0, err
    options = loads(path.read_bytes()).dataset.options  # it opens again
    assert long not in options["vocabulary"] and "hello" in options["vocabulary"]
    assert all(len(token) <= MAX_TOKEN for token in options["vocabulary"])
    dataset = load_dataset(loads(path.read_bytes()), base=tmp_path)
    assert options["vocabulary"][0] == UNKNOWN
    texts = [example["words"] for example in dataset.train.examples]  # bound to the input
    assert any(len(text) == 3 and text[1] == 0 for text in texts)  # hello <unk> there
    (tmp_path / "l.csv").write_text("text,label\n" + f"a b,{long}\nc d,x\n" * 3)
    with pytest.raises(DataError, match="a label of 12,000 characters; at most 1,000"):
        read_data("labelled", tmp_path / "l.csv")
    (tmp_path / "h.csv").write_text(f"text,{long}\na b,x\nc d,y\n")
    with pytest.raises(DataError, match="a column's name is longer than 1,000 characters"):
        read_data("labelled", tmp_path / "h.csv")
    (tmp_path / "s.csv").write_text(
        f"month,{long}\n" + "".join(f"{i},{i + 1}\n" for i in range(40))
    )
    with pytest.raises(DataError, match="a column's name longer than 1,000 characters"):
        read_data("csv", tmp_path / "s.csv")
