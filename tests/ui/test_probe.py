"""Probe with your own input: a sentence, numbers or a chord typed into the hidden-state view or
the stepping toolbar runs the prediction, the heatmaps and the walk on it — and says what
``rnn-builder predict --input`` says, checked against the CLI run on the saved project.

Every wait is on a condition or a signal; typing is real key events into the box.
"""

from __future__ import annotations

import html
import io

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnn_builder.cli.main import main as cli_main
from rnn_builder.engine.executor import Executor
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer
from ui.editor.document import GraphDocument
from ui.training.probe import ERROR_COLOUR

SENTENCE = "the film was not bad at all"


def _train_a_little(window, steps: int = 40) -> None:
    """A few steps of the core trainer, its weights handed to the document (as the training
    panel does at the end of a run): weights that are no longer the initial ones."""
    document = window.document
    dataset = load_dataset(document.project)  # keeps what the data worked out, as training does
    executor = Executor(document.graph, seed=document.project.training.seed)
    Trainer(executor, dataset, document.project.training, max_steps=steps).train()
    document.set_weights(executor.get_parameters())


def _type(qtbot, box, text: str) -> None:
    """Select what the box holds, type ``text`` over it and press Enter, as a person would."""
    box.edit.setFocus()
    box.edit.selectAll()
    qtbot.keyClicks(box.edit, text)
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)


def _tick_words(hidden) -> list[list[str]]:
    """The time-axis labels of every heatmap of the hidden-state view, as drawn."""
    words = []
    for plot in hidden.layout_widget.ci.items:
        levels = plot.getAxis("bottom")._tickLevels  # pyqtgraph keeps set ticks only here
        words.append([label for _value, label in levels[0]] if levels else [])
    return words


def _cli_predict(tmp_path, window, text: str) -> str:
    """``rnn-builder predict`` on the window's project and weights, saved to a file."""
    path = window.document.save(tmp_path / "probed.json")
    out = io.StringIO()
    code = cli_main(
        [
            "predict",
            str(path),
            "--weights",
            str(GraphDocument.weights_path(path)),
            "--input",
            text,
            "--allow-outside-data",  # the project's own file, chosen in the app, is elsewhere
        ],
        stdout=out,
    )
    assert code == 0
    return out.getvalue().strip()


def test_a_typed_sentence_is_predicted_shown_and_stepped_then_clearing_goes_back(
    make_window, qtbot, tmp_path
):
    window = make_window("many_to_one")
    _train_a_little(window)
    live = window.live
    hidden = live.hidden
    hidden.redraw()
    validation_words = _tick_words(hidden)
    assert validation_words[0] and validation_words[0] != SENTENCE.split()
    with qtbot.waitSignal(live.probe.changed):
        _type(qtbot, hidden.probe_box, SENTENCE)

    # the prediction, in words, under the box and in the toolbar
    prediction = live.probe.prediction
    assert prediction.split()[0] in ("positive", "negative") and "(p = " in prediction
    for box in (hidden.probe_box, live.probe_box):
        assert box.message.isVisibleTo(window)
        assert html.escape(prediction) in box.message.text()
        assert ERROR_COLOUR not in box.message.text()
    assert live.probe_box.edit.text() == SENTENCE  # both boxes show what is in use

    # every heatmap (h and the LSTM's four gates) reads the typed words along its time axis
    assert _tick_words(hidden) == [SENTENCE.split()] * 5
    assert all(image.shape[1] == 7 for image in hidden.images.values())
    assert "the film was not bad at all" in hidden.sequence.text()
    assert not hidden.example.isEnabled() and not live.example.isEnabled()

    # the walk through the unrolled network runs on it too, word by word
    assert live.step_forward()
    words = np.asarray(live.stepper.batch.inputs["words"])[:, 0]
    assert [live.context.token_name(int(w)) for w in words] == SENTENCE.split()
    assert len([s for s in live.stepper.steps if s.t is not None]) == 7

    # what the CLI's predict prints for it, on the same project and weights
    assert _cli_predict(tmp_path, window, SENTENCE) == prediction

    # clearing the box goes back to the validation examples (and ends the walk)
    with qtbot.waitSignal(live.probe.changed):
        hidden.probe_box.edit.clear()
    assert live.context.typed is None and live.stepper is None
    assert _tick_words(hidden) == validation_words
    assert hidden.example.isEnabled() and live.example.isEnabled()
    assert not hidden.probe_box.message.isVisibleTo(window)
    assert live.probe_box.edit.text() == ""


def test_an_unknown_word_is_shown_in_red_with_the_reason_and_nothing_else_changes(
    make_window, qtbot
):
    window = make_window("many_to_one")
    live, hidden = window.live, window.live.hidden
    _type(qtbot, live.probe_box, "the film was great")  # typed in the toolbar this time
    assert live.context.typed is not None
    shown = [list(words) for words in _tick_words(hidden)]
    assert shown[0] == ["the", "film", "was", "great"]
    with qtbot.assertNotEmitted(live.probe.changed):
        _type(qtbot, live.probe_box, "the film was yummy")
    for box in (hidden.probe_box, live.probe_box):
        assert f"color:{ERROR_COLOUR}" in box.message.text()
        assert "border: 2px solid" in box.edit.styleSheet()
        assert box.message.isVisibleTo(window)
    assert "does not know the word 'yummy'" in html.unescape(hidden.probe_box.message.text())
    assert "yummy" in live.probe_box.message.toolTip()  # the whole reason, if cut beside the box
    assert _tick_words(hidden) == shown  # the views keep what they showed
    # correcting the word takes the red away
    _type(qtbot, hidden.probe_box, "the film was dull")
    assert live.probe.error == ""
    assert ERROR_COLOUR not in hidden.probe_box.message.text()
    assert hidden.probe_box.edit.styleSheet() == ""
    assert _tick_words(hidden)[0] == ["the", "film", "was", "dull"]


@pytest.mark.parametrize(
    ("template", "typed", "steps"),
    [
        ("forecast", "112, 118, 132, 129, 121, 135", 6),  # real-valued: one step a value
        ("one_to_many", "A minor", 4),  # a chord: the four notes of its arpeggio
    ],
)
def test_numbers_and_a_chord_are_predicted_as_the_cli_predicts_them(
    make_window, qtbot, tmp_path, template, typed, steps
):
    window = make_window(template)
    _train_a_little(window, steps=20)
    live, hidden = window.live, window.live.hidden
    with qtbot.waitSignal(live.probe.changed):
        _type(qtbot, hidden.probe_box, typed)
    assert live.probe.error == ""
    assert html.escape(live.probe.prediction) in hidden.probe_box.message.text()
    assert hidden.images["h"].shape[1] == steps
    assert _cli_predict(tmp_path, window, typed) == live.probe.prediction


@pytest.mark.parametrize(
    ("template", "typed", "reason"),
    [
        ("forecast", "112, 11 8x, 132", "'8x' (value 3 of 4) is not a number"),
        ("forecast", "112, inf", "'inf' (value 2 of 2) is not finite"),
        ("one_to_many", "H minor", "name a chord as a root and a quality"),
    ],
)
def test_a_bad_number_or_chord_says_why_in_red(make_window, qtbot, template, typed, reason):
    window = make_window(template)
    box = window.live.hidden.probe_box
    _type(qtbot, box, typed)
    assert window.live.context.typed is None  # still on the validation examples
    assert reason in html.unescape(box.message.text())
    assert f"color:{ERROR_COLOUR}" in box.message.text()


def test_a_task_that_reads_no_typed_input_disables_the_box(make_window):
    window = make_window("adding_problem")
    for box in (window.live.hidden.probe_box, window.live.probe_box):
        assert not box.edit.isEnabled()
        assert "does not read typed input" in box.edit.placeholderText()
    window = make_window("many_to_one")
    assert window.live.probe_box.edit.isEnabled()
    assert "not bad at all" in window.live.probe_box.edit.placeholderText()


def test_the_screenshot_option_probe_types_into_the_box(make_window):
    import main

    window = make_window("many_to_one")
    args = main.parse_args(["--screenshot", "x.png", "--show", "hidden", "--probe", SENTENCE])
    main.prepare_picture(window, args)
    assert window.live.hidden.probe_box.edit.text() == SENTENCE
    assert _tick_words(window.live.hidden)[0] == SENTENCE.split()


def test_the_probe_reads_an_unknown_word_of_ones_own_data_as_predict_does(
    make_window, qtbot, tmp_path
):
    """Issue 21: predict, the probe and both exports give the same answer for a sentence with
    a word training never saw (the exports: tests/test_own_data_exports.py); the probe says
    which word it read as <unk>."""
    from pathlib import Path

    from rnn_builder.training.summary import use_data

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    window = make_window("many_to_one")
    project = window.document.project.copy()
    use_data(project, "labelled", str(examples / "reviews.csv"), {})
    window.document.set_dataset(project.dataset)
    window.document.set_param("words", "vocabulary", 44)
    window.document.set_param("embed", "vocabulary", 44)
    _train_a_little(window)
    live = window.live
    sentence = "the qwzx was not good"
    with qtbot.waitSignal(live.probe.changed):
        _type(qtbot, live.probe_box, sentence)
    said = _cli_predict(tmp_path, window, sentence)
    assert live.probe.prediction == said and "read as <unk>: 'qwzx'" in said
    assert live.probe.error == ""
