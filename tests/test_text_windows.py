"""A text's windows are made when asked for, over one array of ids (issue 22, item 8: a 19.9 MB
text cost 150 times its size, 2.96 GB, made up front as a dict of two views a window), and
they are the windows they were: the same ids, in the same order, so training gives the same
numbers."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.files.project import DatasetReference
from rnn_builder.files.serialization import project_from_dict, project_to_dict
from rnn_builder.files.templates import new_project
from rnn_builder.training.data import Dataset, Split, WindowExamples
from rnn_builder.training.tasks import TASKS, load_dataset
from rnn_builder.training.tasks.text import UNKNOWN
from rnn_builder.training.trainer import Trainer


def _windows_as_they_were(text: str, vocabulary: int, window: int, stride: int):
    """The code this replaced: a list of dicts of views into one int64 array."""
    counts = Counter(text)
    ordered = sorted(counts, key=lambda c: (-counts[c], c))
    if len(ordered) <= vocabulary:
        characters = sorted(ordered)
    else:
        characters = [*sorted(c for c in ordered[: vocabulary - 1] if c != UNKNOWN), UNKNOWN]
    index = {c: i for i, c in enumerate(characters)}
    unknown = index.get(UNKNOWN, len(characters) - 1)
    ids = np.array([index.get(c, unknown) for c in text], dtype=np.int64)
    cut = int(len(ids) * 0.9)

    def windows(start, stop, step):
        return [
            {"text": ids[i : i + window], "next_char": ids[i + 1 : i + window + 1]}
            for i in range(start, stop - window - 1, step)
        ]

    return "".join(characters), windows(0, cut, stride), windows(cut, len(ids), window // 2)


def _text(tmp_path, length: int = 30_000, seed: int = 0) -> str:
    """Words and lines, with characters beyond Latin-1 and more kinds than the vocabulary."""
    rng = np.random.default_rng(seed)
    letters = [*"abcdefghijklmnopqrstuvwxyz ,.?\n", "é", "ß", "ж", "漢", "🙂", "\u2028"]
    weights = np.linspace(2.0, 0.1, len(letters))
    chosen = rng.choice(len(letters), size=length, p=weights / weights.sum())
    text = "".join(letters[i] for i in chosen)
    (tmp_path / "t.txt").write_text(text, encoding="utf-8")
    return text


@pytest.mark.parametrize(("vocabulary", "window", "stride"), [(48, 24, 3), (20, 7, 1), (30, 5, 4)])
def test_the_windows_are_the_ones_made_before_in_the_same_order(
    tmp_path, vocabulary, window, stride
):
    text = _text(tmp_path)
    options = {"path": str(tmp_path / "t.txt"), "vocabulary": vocabulary, "window": window}
    options["stride"] = stride
    dataset = TASKS["language_model"].generate(0, options)
    alphabet, train, validation = _windows_as_they_were(text, vocabulary, window, stride)
    assert dataset.info["options"]["alphabet"] == alphabet
    for made, before in ((dataset.train, train), (dataset.validation, validation)):
        assert isinstance(made.examples, WindowExamples)
        assert len(made) == len(before)
        for i in (0, 1, len(before) // 2, len(before) - 1):
            for field in ("text", "next_char"):
                assert made.examples[i][field].dtype == np.int64
                np.testing.assert_array_equal(made.examples[i][field], before[i][field])
        assert all(
            np.array_equal(a["text"], b["text"]) and np.array_equal(a["next_char"], b["next_char"])
            for a, b in zip(made.examples[:], before, strict=True)
        )


def test_training_on_them_gives_the_same_numbers(tmp_path):
    _text(tmp_path, 12_000)
    project = new_project("stacked_lstm")
    project.set_dataset(DatasetReference("text", str(tmp_path / "t.txt"), {}))
    project.training.batch_size = 16
    dataset = load_dataset(project)
    text = (tmp_path / "t.txt").read_text(encoding="utf-8")
    _alphabet, train, validation = _windows_as_they_were(text, 48, 24, 3)
    listed = Dataset(
        dataset.name,
        dataset.spec,
        Split(train),
        Split(validation[:40]),
        dataset.metric,
        dataset.target,
        dataset.info,
    )
    lazy = Dataset(
        dataset.name,
        dataset.spec,
        dataset.train,
        Split(dataset.validation.examples[:40]),
        dataset.metric,
        dataset.target,
        dataset.info,
    )
    results = []
    for data in (lazy, listed):
        executor = Executor(project.graph, seed=0)
        result = Trainer(executor, data, project.training, max_steps=6).train()
        weights = {name: value.copy() for name, value in executor.parameters.items()}
        assert result.steps == 6
        results.append((result.loss, result.val_loss, weights))
    assert results[0][:2] == results[1][:2]
    for name, value in results[0][2].items():
        np.testing.assert_array_equal(value, results[1][2][name])


def test_making_a_texts_data_costs_a_few_times_the_file_not_150(tmp_path):
    """Counted by tracemalloc (numpy's arrays included), so not by the machine: the peak of
    what making the data allocates, against the file's size."""
    text = _text(tmp_path, 1_000_000)
    size = len(text.encode("utf-8"))
    del text
    options = {"path": str(tmp_path / "t.txt")}
    tracemalloc.start()
    try:
        dataset = TASKS["language_model"].generate(0, options)
        first = dataset.train.examples[len(dataset.train) - 1]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first["text"].shape == (24,)
    assert peak <= 10 * size, f"{peak / size:.1f}× the file"


def test_a_graph_that_reads_the_text_by_another_name_still_gets_windows_on_demand(tmp_path):
    _text(tmp_path, 5_000)
    document = json.loads(json.dumps(project_to_dict(new_project("stacked_lstm"))))
    text = json.dumps(document).replace('"text"', '"chars"')
    document = json.loads(text)
    document["dataset"] = {"kind": "text", "name": str(tmp_path / "t.txt"), "options": {}}
    dataset = load_dataset(project_from_dict(document))
    assert isinstance(dataset.train.examples, WindowExamples)
    assert set(dataset.train.examples[0]) == {"chars", "next_char"}


def test_the_lengths_examples_made_on_demand_know_are_the_ones_they_make(tmp_path):
    from rnn_builder.training.summary import lengths_of, read_data

    _text(tmp_path, 5_000)
    examples = read_data("text", tmp_path / "t.txt")[1].train.examples
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("text,label\n" + "a b c,x\nd e,y\nf,x\ng h i j,y\n" * 5)
    rows = read_data("labelled", reviews)[1].train.examples
    for made, name in ((examples, "text"), (rows, "text")):
        known = lengths_of(made, name)
        assert known is not None and len(known) == len(made)
        np.testing.assert_array_equal(known, [len(e[name]) for e in made])
