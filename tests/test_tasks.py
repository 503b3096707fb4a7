"""Built-in tasks and user data: shapes that fit their templates, words that read back, and bad
files refused with one clear message."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.project import DatasetReference
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import validate
from rnn_builder.training.binding import bind
from rnn_builder.training.data import DataSpec, InputSpec, make_batch
from rnn_builder.training.tasks import TASKS, load_dataset
from rnn_builder.training.tasks.numbers import digits, words
from rnn_builder.training.tasks.sentiment import ORDER_SHAPES
from rnn_builder.training.trainer import Trainer, evaluate


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_trains_on_its_task_with_fitting_shapes(name):
    project = new_project(name)
    dataset = load_dataset(project)
    assert len(dataset.train) > 50 and len(dataset.validation) > 0
    executor = Executor(project.graph)
    batch = make_batch(dataset.train.examples[:8], executor.report, executor.graph)
    run = executor.forward(batch)
    assert np.isfinite(run.loss) and run.loss > 0
    executor.backward(run)
    assert np.abs(executor.store.grad_flat).max() > 0


def test_every_task_is_the_default_of_a_template():
    assert {t.task for t in TEMPLATES.values()} == set(TASKS)


def test_same_seed_same_data_and_different_seed_different_split():
    a = TASKS["sentiment"].generate(3)
    b = TASKS["sentiment"].generate(3)
    c = TASKS["sentiment"].generate(4)
    assert [list(e["words"]) for e in a.train.examples[:50]] == [
        list(e["words"]) for e in b.train.examples[:50]
    ]
    assert [list(e["words"]) for e in a.train.examples[:50]] != [
        list(e["words"]) for e in c.train.examples[:50]
    ]


def test_padding_and_masks_follow_each_axis():
    project = new_project("encoder_decoder_feedback")
    dataset = load_dataset(project)
    executor = Executor(project.graph)
    examples = sorted(dataset.train.examples, key=lambda e: len(e["words"]))[::100][:6]
    batch = make_batch(examples, executor.report, executor.graph)
    lengths = [len(e["words"]) for e in examples]
    assert batch.inputs["words"].shape == (max(lengths), len(examples))
    np.testing.assert_array_equal(batch.masks["words"].sum(axis=0), lengths)
    assert (batch.inputs["words"][batch.masks["words"] == 0] == -1).all()
    target_lengths = [len(e["digits"]) for e in examples]
    if len(set(target_lengths)) > 1:
        np.testing.assert_array_equal(batch.masks["previous_digit"].sum(0), target_lengths)


def test_number_words():
    assert words(312) == ["three", "hundred", "and", "twelve"]
    assert words(40) == ["forty"] and words(7) == ["seven"] and words(900) == ["nine", "hundred"]
    assert digits(312) == [3, 1, 2, 11]


def test_sentiment_has_sentences_whose_words_alone_do_not_decide():
    dataset = TASKS["sentiment"].generate(0)
    bags = {}
    for example in dataset.train.examples:
        if example["_shape"] in ORDER_SHAPES:
            bags.setdefault(tuple(sorted(example["words"])), set()).add(example["sentiment"])
    assert sum(len(labels) == 2 for labels in bags.values()) > 20


def test_a_bag_of_words_model_fails_where_order_matters_and_the_rnn_does_not():
    project = new_project("many_to_one")
    dataset = load_dataset(project)
    bag = Graph()
    bag.add_node("sequence_input", node_id="words", params={"vocabulary": 40})
    bag.add_node("embedding", node_id="embed", params={"vocabulary": 40, "dimension": 16})
    bag.add_node("mean_over_time", node_id="bag")
    bag.add_node("dense", node_id="hidden", params={"units": 32, "activation": "tanh"})
    bag.add_node("dense", node_id="scores", params={"units": 2})
    bag.add_node("output", node_id="sentiment", params={"target": "sentiment"})
    for args in (
        ("words", "y", "embed", "tokens"),
        ("embed", "y", "bag", "x"),
        ("bag", "y", "hidden", "x"),
        ("hidden", "y", "scores", "x"),
        ("scores", "y", "sentiment", "x"),
    ):
        bag.connect(*args)
    order = [e for e in dataset.validation.examples if e["_shape"] in ORDER_SHAPES]
    other = [e for e in dataset.validation.examples if e["_shape"] not in ORDER_SHAPES]
    from dataclasses import replace

    from rnn_builder.training.data import Split

    # The LSTM is right on every ordered sentence after one epoch: two are plenty. The bag is
    # trained until its validation loss stops improving, so its failure is not for want of it.
    runs = {
        "rnn": (project.graph, replace(project.training, epochs=2)),
        "bag": (bag, replace(project.training, patience=3)),
    }
    scores, elsewhere = {}, {}
    for name, (graph, settings) in runs.items():
        executor = Executor(graph, seed=0)
        Trainer(executor, dataset, settings).train()
        scores[name] = evaluate(executor, dataset, Split(order)).metric
        elsewhere[name] = evaluate(executor, dataset, Split(other)).metric
    assert scores["rnn"] >= 0.95
    assert scores["bag"] <= 0.75  # about a coin toss on the sentences that need order
    assert elsewhere["bag"] >= 0.9  # while it has learned the sentences that do not


def test_typed_input_reads_and_predictions_read_back():
    sentiment = TASKS["sentiment"]
    example = sentiment.encode("The plot was NOT bad at all", {})
    assert example["words"].dtype.kind == "i" and len(example["words"]) == 7
    assert sentiment.decode(np.array([0.1, 0.9]), example, {}) == "positive (p = 0.90)"
    with pytest.raises(DataError, match="does not know the word 'superb'"):
        sentiment.encode("superb", {})
    music = TASKS["arpeggio"]
    chord = music.encode("A minor", {})
    notes = np.eye(24)[[9, 12, 16, 21]]
    assert music.decode(notes, chord, {}) == "A4 C5 E5 A5"
    with pytest.raises(DataError, match="'A minor'"):
        music.encode("H major", {})
    assert TASKS["numbers"].decode(np.eye(12)[[3, 1, 2, 11]], {}, {}) == "3 1 2"


# --- user files -----------------------------------------------------------------------------


def csv_project(path, **options):
    project = new_project("forecast")
    project.dataset = DatasetReference("csv", str(path), options)
    return project


BAD_CSV = [
    ("", "is empty"),
    ("Month,Passengers\n", "header row and at least one row"),
    (
        "Month,Passengers\n" + "".join(f"19{i:02d},{100 + i}\n" for i in range(40)) + "1999,abc\n",
        "row 42, column 'Passengers': 'abc' is not a number",
    ),
    (
        "Month,Passengers\n" + "".join(f"19{i:02d},{100 + i}\n" for i in range(30)) + "1999,\n",
        "row 32, column 'Passengers': the cell is empty",
    ),
    ("Month,Passengers\n1949,1\n1950,2\n", "a window of 12"),
    ("Month,Name\nJan,x\nFeb,y\n", "no column of numbers"),
]


@pytest.mark.parametrize(("content", "message"), BAD_CSV)
def test_bad_csv_files_are_refused_with_one_clear_message(tmp_path, content, message):
    path = tmp_path / "series.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_dataset(csv_project(path))


SERIES_ROWS = ["Month,Passengers"] + [
    f"19{i // 12 + 49}-{i % 12 + 1:02d},{100 + i * 3 % 17}" for i in range(40)
]


@pytest.mark.parametrize("ending", ["\r", "mixed", "\r\n"], ids=["CR only", "mixed", "CRLF"])
def test_csv_line_endings_of_every_kind_read_as_the_same_series(tmp_path, ending):
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(SERIES_ROWS) + "\n", encoding="utf-8", newline="")
    path = tmp_path / "series.csv"
    if ending == "mixed":
        endings = ["\r", "\n", "\r\n"]
        text = "".join(row + endings[k % 3] for k, row in enumerate(SERIES_ROWS))
    else:
        text = ending.join(SERIES_ROWS) + ending
    path.write_text(text, encoding="utf-8", newline="")
    expected, read = load_dataset(csv_project(plain)), load_dataset(csv_project(path))
    assert len(read.train.examples) == len(expected.train.examples) > 10
    for ours, theirs in zip(read.train.examples, expected.train.examples, strict=True):
        np.testing.assert_array_equal(ours["history"], theirs["history"])
        np.testing.assert_array_equal(ours["next"], theirs["next"])


def test_a_csv_field_over_the_csv_modules_limit_is_refused_naming_its_line(tmp_path):
    path = tmp_path / "series.csv"
    long_field = '"' + "x" * 131_073 + '"'
    path.write_text("\n".join([*SERIES_ROWS[:3], f"1999,{long_field}", *SERIES_ROWS[3:]]))
    with pytest.raises(DataError) as refused:
        load_dataset(csv_project(path))
    assert str(refused.value) == (
        f"the CSV file '{path}', line 4: a field is longer than 131,072 characters"
    )


def test_csv_errors_for_columns_encoding_size_and_absence(tmp_path, monkeypatch):
    path = tmp_path / "series.csv"
    path.write_text("Month,Passengers\n" + "".join(f"{i},{i + 1}\n" for i in range(50)))
    with pytest.raises(DataError, match="no column 'Sales'; its columns are: Month, Passengers"):
        load_dataset(csv_project(path, target="Sales"))
    path.write_bytes("Mois,Passagers\n1949,\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        load_dataset(csv_project(path))
    import rnn_builder.training.tasks.files as files

    monkeypatch.setattr(files, "MAX_TEXT_BYTES", 10)
    path.write_text("Month,Passengers\n1,2\n")
    with pytest.raises(DataError, match="at most"):
        load_dataset(csv_project(path))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(csv_project(tmp_path / "missing.csv"))


def test_a_csv_with_several_columns_and_a_horizon(tmp_path):
    rows = "".join(f"{i},{100 + 3 * i + (i % 12)},{50 + i}\n" for i in range(120))
    path = tmp_path / "shop.csv"
    path.write_text("week,sales,visitors\n" + rows)
    project = csv_project(path, target="sales", inputs=["sales", "visitors"], window=8, horizon=2)
    project.graph.set_param("history", "features", 2)
    dataset = load_dataset(project)
    assert dataset.train.examples[0]["history"].shape == (8, 2)
    assert project.dataset.options["normalisation"]["sales"] == {"shift": 0.0, "scale": 1.0}
    wrong = csv_project(path, inputs=["sales", "visitors"])
    with pytest.raises(DataError, match="2 features, but it is set to 1"):
        load_dataset(wrong)


def test_text_files_are_read_safely(tmp_path):
    project = new_project("stacked_lstm")
    path = tmp_path / "story.txt"
    path.write_text("short")
    project.dataset = DatasetReference("text", str(path), {})
    with pytest.raises(DataError, match="needs at least"):
        load_dataset(project)
    path.write_bytes(b"\xff\xfe" + "héllo wörld ".encode("utf-16-le") * 50)
    with pytest.raises(DataError, match="not UTF-8"):
        load_dataset(project)
    alphabet = "".join(chr(0x4E00 + i) for i in range(80))  # more characters than the model
    path.write_text((alphabet + " ") * 20, encoding="utf-8")
    dataset = load_dataset(project)
    assert len(project.dataset.options["alphabet"]) == 48
    assert project.dataset.options["alphabet"][-1] == "?"
    assert max(int(e["text"].max()) for e in dataset.train.examples) <= 47


def test_data_that_does_not_fit_the_graph_says_what_to_change():
    graph = new_project("many_to_one").graph
    report = validate(graph)
    spec = DataSpec({"words": InputSpec("seq", 50, tokens=True)}, {})
    errors = {p.code: p for p in bind(spec, graph, report).errors}
    assert errors["data_no_target"].node == "sentiment"  # the data has no target for it
    problem = errors["data_width"]
    assert problem.node == "words" and problem.fix == "fit"
    assert "vocabulary of 50, but it is set to 40" in problem.message
    project = new_project("many_to_one")
    project.graph.set_param("scores", "units", 3)
    with pytest.raises(DataError, match="set Dense 'scores' to 2 units"):
        load_dataset(project)


def test_pick_draws_what_generator_choice_draws():
    """The sentence tasks pick shapes with ``pick`` (16× faster); it must draw exactly what
    ``Generator.choice`` draws from the same generator, or the data sets would change."""
    from rnn_builder.training.tasks.base import cumulative, pick

    for probabilities in ([0.2, 0.2, 0.12, 0.12, 0.18, 0.18], np.array([3, 3, 2, 1.0]) / 9):
        ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
        cdf = cumulative(probabilities)
        drawn = [pick(ours, cdf) for _ in range(20_000)]
        assert drawn == [int(theirs.choice(len(cdf), p=probabilities)) for _ in range(20_000)]
        assert ours.random() == theirs.random()  # and leave the generator where choice does


def test_generative_tasks_say_what_sampling_starts_from():
    music, text = TASKS["arpeggio"], TASKS["language_model"]
    chords = music.prime_choices({})
    assert len(chords) == 36 and music.default_prime in chords
    for chord in chords:  # every offered chord is one the task reads
        music.encode(chord, {})
    assert text.prime_choices({}) is None and text.default_prime == "the "
    graph = new_project("one_to_many").graph
    executor = Executor(graph, seed=0)
    rng = np.random.default_rng(0)
    # the chord decides the notes: a cold sample follows the network's most likely notes
    a_minor = music.sample(executor, "A minor", 4, 0.01, rng, {})
    expected = music.decode(
        executor.forward(
            make_batch([music.encode("A minor", {})], executor.report, graph), train=False
        ).predictions["notes"][:, 0],
        {},
        {},
    )
    assert a_minor == expected
