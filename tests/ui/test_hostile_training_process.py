"""A training process whose message is not what its kind holds: the window's session ends the
run as a failure in one line, keeps the run and the best weights received, and never raises in
a slot. The process is a real one over the real socket (tests/hostile_child.py), sending what
the test scripts: the editor's side cannot tell it from a child gone wrong."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnn_builder.engine.executor import Executor
from rnn_builder.training import process as training_process
from rnn_builder.training.messages import pack
from rnn_builder.training.process import TrainingProcess
from rnn_builder.training.trainer import Report
from tests import hostile_child

TIMEOUT = 120_000  # ms; every wait ends on a condition


def frame(kind: str, data) -> bytes:
    """A message's bytes as ``pack`` lays them out, with no check of what they say."""
    encoded = json.dumps({"kind": kind, "data": data, "arrays": []}).encode("utf-8")
    return struct.pack("<I", len(encoded)) + encoded


def report(step: int, losses: list[float], **changes) -> dict:
    data = Report("step", step, 1, 3, 30, losses[-1], 0.01, 1.0, 100.0, 0.1, 0.2, losses)
    return {**data.to_json(), **changes}


def done(**changes) -> dict:
    data = {"steps": 3, "epochs": 1, "seconds": 0.1, "loss": 0.5, "val_loss": 0.5}
    data |= {"val_metric": 0.9, "metric": "accuracy", "stopped": "finished", "message": ""}
    return {**data, "options": {}, **changes}


WITHOUT_LOSSES = {k: v for k, v in report(3, [0.5]).items() if k != "losses"}
WITHOUT_STEPS = {k: v for k, v in done().items() if k != "steps"}

REFUSED = {
    "a report without a field": (frame("report", WITHOUT_LOSSES), "without its 'losses'"),
    "a text val_loss": (
        frame("report", report(3, [0.5], kind="epoch", val_loss="low")),
        "a 'report' message whose 'val_loss' is 'low', not null or a number",
    ),
    "done without steps": (frame("done", WITHOUT_STEPS), "a 'done' message without its 'steps'"),
    "options as a list": (
        frame("done", done(options=["alphabet"])),
        "a 'done' message whose 'options' is ['alphabet'], not an object",
    ),
    "steps that go back": (pack("report", report(1, [0.4])), "a report of step 1 after step 2"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_message_ends_the_run_as_a_failure_keeping_the_best_weights(
    make_window, qtbot, tmp_path, monkeypatch, case
):
    bad, words = REFUSED[case]
    window = make_window("one_to_one")
    session, document = window.live.session, window.live.session.document
    best = Executor(document.graph, seed=5).get_parameters()
    script = hostile_child.frames_script(
        tmp_path / "script.json",
        ("frame", pack("weights", {"step": 2, "epoch_end": True, "val_loss": 0.6}, best)),
        ("frame", pack("report", report(2, [0.7, 0.6]))),
        ("frame", bad),
    )
    hostile = TrainingProcess(hostile_child.command(script))
    hostile.warm()
    spares = [hostile]
    monkeypatch.setattr(training_process, "_spares", spares)  # the next Start takes it
    finished = []
    session.finished.connect(finished.append)
    try:
        qtbot.mouseClick(window.live.panel.run_controls.start_button, Qt.MouseButton.LeftButton)
        assert session.running
        qtbot.waitUntil(lambda: not session.running, timeout=TIMEOUT)
        assert session.state == "idle" and finished == [None]
        title, message = window.errors[-1]
        assert title == "Training" and "\n" not in message
        assert message.startswith(
            "Training stopped: the training process sent a message that was refused: "
        )
        assert words in message and message.endswith(
            "The weights of its best epoch so far are kept. Start trains again."
        )
        for name, value in best.items():
            np.testing.assert_array_equal(document.weights[name], value, err_msg=name)
        run = document.runs[-1]
        assert run.stopped == "process died" and run.curve.last_step == 2
        assert not hostile.alive and session.process is None
    finally:
        # the session warms a new spare for the next Start: closed here, with the list
        qtbot.waitUntil(lambda: any(p.alive for p in spares), timeout=TIMEOUT)
        for process in spares:
            process.close()
