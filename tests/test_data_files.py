"""A person's data files (issue 21): each format read by its reader, every refusal one line that
names the file and the line, nothing read whole to refuse it; and the four kinds of own data
trained from the command line, with what they work out kept for predict."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from rnn_builder.cli.main import main
from rnn_builder.errors import DataError
from rnn_builder.files import data_readers
from rnn_builder.files.data_readers import DataFileError, lines, read_table, read_tagged
from rnn_builder.files.project import DatasetReference
from rnn_builder.files.serialization import load
from rnn_builder.files.templates import new_project
from rnn_builder.training.summary import guess_kind, length_bins, read_data, summarise
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.vocabulary import UNKNOWN, Tokenizer, Vocabulary

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the readers ------------------------------------------------------------------------------


def test_line_endings_of_every_kind_read_as_lines(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r3,4\n5,6")
    assert list(lines(path)) == [(1, "a,b"), (2, "1,2"), (3, "3,4"), (4, "5,6")]


def test_a_crlf_split_between_two_blocks_is_one_line_ending(tmp_path, monkeypatch):
    monkeypatch.setattr(data_readers, "BLOCK", 4)
    path = tmp_path / "blocks.txt"
    path.write_bytes(b"abc\r\ndef\r\n\r\nxyz")
    assert [text for _n, text in lines(path)] == ["abc", "def", "", "xyz"]


def test_quoted_fields_keep_their_line_breaks_and_rows_their_first_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('text,label\n"one\ntwo",a\nthree,b\n', encoding="utf-8")
    header, rows = read_table(path)
    rows = list(rows)
    assert header == ["text", "label"]
    assert [(r.line, r.values["text"]) for r in rows] == [(2, "one\ntwo"), (4, "three")]


@pytest.mark.parametrize(
    ("name", "content", "words", "line"),
    [
        ("binary.csv", b"text,label\nok,1\n\x00\x01\x02,2\n", "binary data", 3),
        ("empty.csv", b"", "is empty", None),
        ("blank.csv", b"\n\n  \n", "only blank lines", None),
        ("latin1.csv", "text,label\ncafé,1\n".encode("latin-1"), "not UTF-8", 2),
        ("ragged.csv", b"text,label\nfine,1\nnot, fine,2\n", "3 fields where the header has 2", 3),
        ("quote.csv", b'text,label\n"open,1\n', "cannot be read as CSV", None),
        ("header.csv", b"text,,label\nx,y,z\n", "has no name", 1),
        ("twice.csv", b"a,a\n1,2\n", "names the column 'a' twice", 1),
        ("json.jsonl", b'{"a": 1}\n[1, 2]\n', "a JSON list where an object is due", 2),
        ("broken.jsonl", b'{"a": 1}\n{"a": \n', "not a JSON object at column", 2),
        ("missing.jsonl", b'{"a": 1, "b": 2}\n{"a": 3}\n', "the object has no 'b'", 2),
    ],
)
def test_a_file_that_is_not_its_format_is_refused_with_its_line(
    tmp_path, name, content, words, line
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFileError) as caught:
        _header, rows = read_table(path)
        list(rows)
    message = str(caught.value)
    assert words in message and str(path) in message and "\n" not in message
    assert caught.value.line == line or line is None


def test_a_field_over_the_cap_is_refused_with_its_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("text,label\nshort,1\n" + "x" * (data_readers.MAX_FIELD + 1) + ",2\n")
    with pytest.raises(DataFileError, match=r"line 3: a field is longer than 100,000"):
        list(read_table(path)[1])


def test_a_file_over_the_size_cap_is_refused_from_its_size_before_any_read(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as stream:  # 1 GB, sparse: nothing is written but its size
        stream.truncate(1 << 30)
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=r"is 1\.1 GB; at most 536\.9 MB can be read"):
            read_table(path)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing of the file was read


def test_a_bad_row_is_refused_without_reading_the_rest_of_the_file(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("text,label\nok,1\nbad,row,here\n")
        stream.writelines("fine,1\n" for _ in range(200_000))
    read = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        stream = real_open(file, mode, *args, **kwargs)
        real_read = stream.read
        stream_read = lambda size=-1: read.append(size) or real_read(size)  # noqa: E731
        return _Wrapped(stream, stream_read)

    monkeypatch.setattr(data_readers, "open", counting_open, raising=False)
    with pytest.raises(DataFileError, match="line 3"):
        list(read_table(path)[1])
    assert len(read) == 1 and os.path.getsize(path) > data_readers.BLOCK  # one block of many


class _Wrapped:
    def __init__(self, stream, read) -> None:
        self._stream, self.read = stream, read

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stream.close()


def test_tagged_sentences_are_split_at_blank_lines_and_a_line_without_a_tag_is_refused(tmp_path):
    path = tmp_path / "t.conll"
    path.write_text("# comment\nthe\tDET\ncat\tNOUN\n\n\ndogs NOUN\nbark\tVERB\n", encoding="utf-8")
    sentences = list(read_tagged(path))
    assert [(s.line, s.tokens, s.tags) for s in sentences] == [
        (2, ["the", "cat"], ["DET", "NOUN"]),
        (6, ["dogs", "bark"], ["NOUN", "VERB"]),
    ]
    path.write_text("the\tDET\ncat\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"line 2: 'cat' has no tag"):
        list(read_tagged(path))


# --- tokens and vocabularies ------------------------------------------------------------------


def test_words_and_characters_with_an_unknown_token_first():
    assert Tokenizer()("Don't panic, it's FINE.") == ["don't", "panic", ",", "it's", "fine", "."]
    assert Tokenizer("characters", lowercase=False)("Ab c") == ["A", "b", " ", "c"]
    from collections import Counter

    vocabulary = Vocabulary.build(Counter("a a a b b c d".split()), min_count=2, max_size=10)
    assert vocabulary.tokens == [UNKNOWN, "a", "b"]
    assert vocabulary.ids(["b", "zzz", "a"]).tolist() == [2, 0, 1]
    assert Vocabulary.build(Counter("a a a b b c".split()), max_size=2).tokens == [UNKNOWN, "a"]


# --- the four kinds, read ---------------------------------------------------------------------


def test_the_vocabulary_comes_from_the_training_part_only(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"common words here,{'a' if i % 2 else 'b'}" for i in range(40)]
    rows[0] = "rareword only once,a"
    path.write_text("text,label\n" + "\n".join(rows), encoding="utf-8")
    for seed in range(10):  # a seed that holds the rare row out
        _task, dataset = read_data("labelled", path, {"validation": 0.5}, seed)
        held = [e for e in dataset.validation.examples if e["_line"] == 2]
        if held:
            break
    vocabulary = dataset.info["options"]["vocabulary"]
    assert "rareword" not in vocabulary and "common" in vocabulary
    assert held[0]["text"][0] == 0  # read as <unk> on validation


def test_a_split_column_says_which_rows_are_held_out(tmp_path):
    path = tmp_path / "s.tsv"
    body = [f"text {i}\t{'x' if i % 2 else 'y'}\t{'test' if i < 4 else 'train'}" for i in range(20)]
    path.write_text("text\tlabel\tsplit\n" + "\n".join(body), encoding="utf-8")
    _task, dataset = read_data("labelled", path, {"split_column": "split"})
    assert sorted(e["_line"] for e in dataset.validation.examples) == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("kind", "content", "words"),
    [
        ("labelled", "text,label\nonly one row,a\n", "at least two rows"),
        ("labelled", "text,label\n", "at least two rows"),
        (
            "labelled",
            "text,label\ngood,pos\nbad,neg\nfine,pos\n",
            "the label 'neg' has one example",
        ),
        ("labelled", "words,label\nx,a\ny,a\n", "one label only"),
        ("labelled", "text,label\nok,a\nok,a\nok,b\n,b\n", "the text in column 'text' is empty"),
        ("sequences", "values,label\n1 2 3,a\n1 nan 3,a\n4 5,b\n5 6,b\n", "NaN or infinity"),
        ("sequences", "values,label\n1 2 3,a\n1 x 3,a\n", "not a sequence of numbers"),
        ("sequences", "values,label\n1 2;3 4,a\n1 2 3;4,a\n", "ragged"),
        ("pairs", "source,target\nhello there,hola\n", "at least two rows"),
        ("labelled", "text,label\nok,a\nok,a\n", "'missing' (the data option"),
    ],
)
def test_data_that_cannot_train_is_refused_with_file_and_line(tmp_path, kind, content, words):
    path = tmp_path / "d.csv"
    path.write_text(content, encoding="utf-8")
    options = {"label_column": "missing"} if "missing" in words else {}
    with pytest.raises(DataError) as caught:
        read_data(kind, path, options)
    message = str(caught.value)
    assert words in message and str(path) in message and "\n" not in message


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_count", "x"),
        ("max_vocabulary", 2),
        ("tokens", "bytes"),
        ("validation", 1.5),
        ("lowercase", "yes"),
        ("target", "both"),
        ("format", "xls"),
    ],
)
def test_an_option_of_the_wrong_kind_is_said_not_raised(option, value):
    with pytest.raises(DataError, match=f"the data option '{option}' must be"):
        read_data("labelled", EXAMPLES / "reviews.csv", {option: value})


def test_a_numeric_label_with_many_values_is_a_regression_target(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [json.dumps({"text": f"word{i % 7} other", "score": i * 0.5}) for i in range(60)]
    path.write_text("\n".join(rows), encoding="utf-8")
    _task, dataset = read_data("labelled", path, {"label_column": "score"})
    options = dataset.info["options"]
    assert "classes" not in options and dataset.metric == "mse"
    assert dataset.spec.targets["label"].loss == "mse"
    stats = options["normalisation"]["label"]
    values = np.concatenate([e["label"] for e in dataset.train.examples])
    assert abs(values.mean()) < 1e-9 and abs(values.std() - 1) < 1e-9 and stats["scale"] > 0


def test_a_watched_read_reports_its_progress_and_stops_when_cancelled(tmp_path, monkeypatch):
    """The app's data view reads on a helper thread: it sees the bytes read and can stop the
    read at the next line, and a read on another thread is neither watched nor stopped."""
    monkeypatch.setattr(data_readers, "BLOCK", 1 << 12)
    path = tmp_path / "long.csv"
    path.write_text("text,label\n" + "a fine day,yes\nno good,no\n" * 2000, encoding="utf-8")
    size = path.stat().st_size
    seen = []

    class Recording(data_readers.ReadWatch):
        def progress(self, done, total):
            super().progress(done, total)
            seen.append((done, total))
            if len(seen) == 3:
                self.cancel()  # as the Cancel button does, from the middle of the file

    watch = Recording()
    with data_readers.watched(watch), pytest.raises(data_readers.ReadCancelled):
        read_data("labelled", path)
    assert [total for _done, total in seen] == [size] * 3
    assert seen[0][0] == 1 << 12 and watch.done == 3 << 12 < size  # stopped where it was
    assert list(lines(path))[-1][0] == 4001  # unwatched, the same file reads to its end
    finished = data_readers.ReadWatch()
    with data_readers.watched(finished):
        read_data("labelled", path)
    assert finished.done == finished.total == size


def test_a_cancelled_read_stops_between_the_steps_after_reading(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("text,label\ngood,yes\nbad,no\nfine,yes\nawful,no\n", encoding="utf-8")

    class Cancelling(data_readers.ReadWatch):
        ends = 0

        def progress(self, done, total):
            super().progress(done, total)
            self.ends += done == total
            if self.ends == 2:  # the empty block after the last: every line has been read
                self.cancel()

    watch = Cancelling()
    with data_readers.watched(watch), pytest.raises(data_readers.ReadCancelled):
        read_data("labelled", path)
    assert watch.ends == 2


def test_a_histogram_of_lengths_has_whole_bins_each_holding_whole_lengths():
    task, dataset = read_data("labelled", EXAMPLES / "reviews.csv")
    stats = summarise("labelled", EXAMPLES / "reviews.csv", task, dataset).lengths["text"]
    assert (stats["min"], stats["max"]) == (5, 12)
    assert stats["edges"] == [4.5 + k for k in range(9)]  # one bin a length
    sizes = [len(e["text"]) for e in dataset.train.examples]
    assert stats["histogram"] == [sizes.count(n) for n in range(5, 13)]
    for low, high in ((1, 100), (1, 95), (3, 3), (7, 17)):
        edges = length_bins(np.array([low, high]))
        widths = np.diff(edges)
        assert len(edges) - 1 <= 10 and edges[0] == low - 0.5 and edges[-1] >= high + 0.5
        assert np.all(widths == widths[0]) and widths[0] == int(widths[0])


def test_the_unknown_rate_counts_unknown_tokens_only(tmp_path):
    """A text's alphabet has no unknown token first: its id 0 is a character ('\\n'), which
    the summary counted as unknown."""
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat\nand the dog sat on the log\n" * 40, encoding="utf-8")
    task, dataset = read_data("text", path)
    assert summarise("text", path, task, dataset).unknown_rate is None
    task, dataset = read_data("labelled", EXAMPLES / "reviews.csv")
    rate = summarise("labelled", EXAMPLES / "reviews.csv", task, dataset).unknown_rate
    assert rate is not None and 0 <= rate < 0.05


def test_each_example_file_is_guessed_as_its_kind():
    assert guess_kind(EXAMPLES / "reviews.csv") == "labelled"
    assert guess_kind(EXAMPLES / "pos_tags.conll") == "tagged"
    assert guess_kind(EXAMPLES / "english_spanish.tsv") == "pairs"
    assert guess_kind(EXAMPLES / "shapes.csv") == "sequences"


# --- from the command line --------------------------------------------------------------------


def test_the_data_command_says_what_a_file_holds_and_what_it_fits(capsys):
    code, out, _err = run(capsys, "data", EXAMPLES / "reviews.csv", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["kind"] == "labelled" and summary["format"] == "CSV"
    assert summary["train"] + summary["validation"] == 4000
    assert set(summary["classes"]) == {"negative", "positive"}
    assert summary["vocabulary"] == len(summary["options"]["vocabulary"])
    assert summary["templates"] == ["many_to_one"]
    code, out, _err = run(capsys, "data", EXAMPLES / "pos_tags.conll")
    assert code == 0 and "classes (6" in out and "many-to-many, equal lengths" in out


def test_the_data_command_exits_1_with_the_line_and_the_reason(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nfine,a\nfine,b\nbroken, row,c\n", encoding="utf-8")
    code, out, err = run(capsys, "data", path, "--kind", "labelled")
    assert code == 1 and out == ""
    assert f"'{path}', line 4: 3 fields where the header has 2" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("template", "kind", "file", "metric", "reached"),
    [
        ("many_to_one", "labelled", "reviews.csv", "accuracy", 0.9),
        ("bidirectional_tagger", "tagged", "pos_tags.conll", "token_accuracy", 0.9),
        ("encoder_decoder_feedback", "pairs", "english_spanish.tsv", "sequence_accuracy", 0.8),
        ("adding_problem", "sequences", "shapes.csv", "accuracy", 0.8),
    ],
)
def test_each_kind_of_file_binds_fits_and_trains_from_the_cli(
    capsys, tmp_path, template, kind, file, metric, reached
):
    project = tmp_path / "p.json"
    shutil.copy(EXAMPLES / file, tmp_path / file)  # in the project's folder (else: allowed)
    run(capsys, "new", template, "-o", project)
    code, out, _ = run(capsys, "edit", project, "--data-file", kind, tmp_path / file, "--fit")
    assert code == 0, out
    assert "valid" in out.splitlines()[-1]
    code, out, _ = run(capsys, "validate", project)
    assert code == 0, out
    run(capsys, "edit", project, "--setting", "epochs", "8")
    code, out, err = run(capsys, "train", project, "--json")
    assert code == 0, err
    final = json.loads(out.splitlines()[-1])
    assert final["metric"] == metric and final[f"val_{metric}"] >= reached, final
    saved = load(project).dataset
    assert saved.kind == kind and saved.options["vocabulary" if kind != "sequences" else "features"]
    assert saved.binding  # the binding found is kept in the project


def test_predict_reads_an_unknown_word_as_unknown_and_says_so(capsys, tmp_path):
    project = tmp_path / "p.json"
    run(capsys, "new", "many_to_one", "-o", project)
    argv = ["--data-file", "labelled", EXAMPLES / "reviews.csv", "--fit"]
    run(capsys, "edit", project, *argv)
    run(capsys, "edit", project, "--setting", "epochs", "2")
    code, _out, err = run(capsys, "train", project)  # the examples are outside its folder
    assert code == 2 and "--allow-outside-data" in err
    project_with_flag = [project, "--allow-outside-data"]
    assert run(capsys, "train", *project_with_flag)[0] == 0
    weights = project.with_suffix(".npz")
    code, out, _ = run(
        capsys, "predict", *project_with_flag, "--weights", weights, "--input", "the qwzx was good"
    )
    assert code == 0 and "read as <unk>: 'qwzx'" in out
    assert out.split()[0] in ("positive", "negative")


def test_a_project_file_names_its_data_relative_to_itself(capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "r.csv").write_text((EXAMPLES / "reviews.csv").read_text(encoding="utf-8"))
    project = tmp_path / "p.json"
    run(capsys, "new", "many_to_one", "-o", project)
    code, out, _ = run(capsys, "edit", project, "--data-file", "labelled", "data/r.csv", "--fit")
    assert code == 0, out
    elsewhere = tmp_path / "x"
    elsewhere.mkdir()
    cwd = os.getcwd()
    os.chdir(elsewhere)
    try:
        assert run(capsys, "validate", project)[0] == 0
        dataset = load_dataset(load(project), base=project.parent)
    finally:
        os.chdir(cwd)
    assert len(dataset.train) == 3200


def test_a_data_file_binding_survives_a_round_trip_and_old_projects_bind_by_id(tmp_path):
    from rnn_builder.files.serialization import dumps, loads

    project = new_project("many_to_one")
    project.dataset = DatasetReference(
        "labelled", "r.csv", {"vocabulary": ["<unk>", "a"]}, {"text": "words", "label": "sentiment"}
    )
    again = loads(dumps(project))
    assert again.dataset.binding == {"text": "words", "label": "sentiment"}
    from rnn_builder.files.serialization import CURRENT_VERSION

    text = dumps(new_project("many_to_one"))
    assert f'"version": {CURRENT_VERSION}' in text
    text = text.replace(f'"version": {CURRENT_VERSION}', '"version": 2')
    old = loads(text)
    assert old.dataset.binding == {} and len(load_dataset(old).train) > 0


def test_a_data_path_typed_in_a_shell_is_the_shells_and_kept_relative_to_the_project(
    capsys, tmp_path, monkeypatch
):
    """`edit proj/p.json --data-file labelled data/r.csv` run from the folder above: the path
    is where the shell is, and the project keeps it relative to its own folder."""
    (tmp_path / "proj" / "data").mkdir(parents=True)
    (tmp_path / "proj" / "data" / "r.csv").write_bytes((EXAMPLES / "reviews.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    run(capsys, "new", "many_to_one", "-o", "proj/p.json")
    code, out, _ = run(capsys, "edit", "proj/p.json", "--data-file", "labelled", "proj/data/r.csv")
    assert code in (0, 1), out
    assert load(tmp_path / "proj" / "p.json").dataset.name == "data/r.csv"
    assert run(capsys, "edit", "proj/p.json", "--fit")[0] == 0


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    [
        ("labelled", {"text_column": "a", "label_column": "a"}, "the text and the label"),
        ("pairs", {"source_column": "b", "target_column": "b"}, "the source and the target"),
        ("sequences", {"label_column": "a"}, "the sequence and the label"),
    ],
)
def test_an_input_and_a_target_from_the_same_column_are_refused(tmp_path, kind, options, words):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1 2,x\n3 4,y\n1 2,x\n3 4,y\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_data(kind, path, options)
    assert f"{words} are the same column" in str(caught.value)
