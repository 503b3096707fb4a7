"""Training in a child process: its messages are bytes we read without unpickling, it gives
the command line's weights bit for bit, stop answers between two steps, and a child that is
killed or fails leaves the editor's side able to say so and start again."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import time
from multiprocessing.connection import Connection

import numpy as np
import pytest

from rnn_builder.cli.main import main
from rnn_builder.engine.executor import Executor
from rnn_builder.files.serialization import project_to_dict, save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import read_weights
from rnn_builder.training.messages import (
    FROM_CHILD,
    FROM_EDITOR,
    Message,
    MessageError,
    pack,
    receive,
    unpack,
)
from rnn_builder.training.process import TrainingProcess
from tests import hostile_child
from tests.hostile_child import frames_script, terabyte_frame

DEADLINE = 120.0  # seconds for anything a child does here (it takes ~1 s on this machine)


def _until(process: TrainingProcess, kinds: set[str], seen: list | None = None):
    """Collect messages until one of ``kinds`` arrives; fail after DEADLINE."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        process.wait(0.5)
        for message in process.messages():
            if seen is not None:
                seen.append(message)
            if message.kind in kinds:
                return message
    pytest.fail(f"no {sorted(kinds)} within {DEADLINE} s")


@pytest.fixture(scope="module")
def child():
    process = TrainingProcess()
    process.warm()
    yield process
    process.close()


def _long(template: str = "many_to_one"):
    project = new_project(template)
    project.training.epochs = 500  # far longer than any test waits
    return project


def test_messages_are_json_and_raw_arrays_and_anything_else_is_refused():
    arrays = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array([1.5])}
    said = {"step": 3, "epoch_end": True, "val_loss": float("nan")}
    message = unpack(pack("weights", said, arrays), FROM_CHILD)
    assert message.kind == "weights" and message.data["step"] == 3
    assert np.isnan(message.data["val_loss"])
    for name, value in arrays.items():
        np.testing.assert_array_equal(message.arrays[name], value)
        assert message.arrays[name].dtype == value.dtype
    good = pack("weights", said, {"a": np.zeros(4)})
    for bad in (b"", good[:-1], good + b"\0", b"\xff\xff\xff\x7f" + good[4:], good[:4] + b"{]"):
        with pytest.raises(MessageError):
            unpack(bad, FROM_CHILD)
    with pytest.raises(MessageError):
        pack("weights", said, {"objects": np.array([object()])})
    pickled = pack("weights", said, {"a": np.zeros(1)}).replace(b"<f8", b"|O8")
    with pytest.raises(MessageError):
        unpack(pickled, FROM_CHILD)
    with pytest.raises(MessageError, match="a message of a kind its sender never sends, 'weights'"):
        unpack(good, FROM_EDITOR)  # the editor never hears its own kinds


def test_the_child_trains_to_the_command_lines_weights_bit_for_bit(child, tmp_path):
    project = new_project("one_to_one")
    project.training.epochs = 3
    path = save(project, tmp_path / "spirals.json")
    assert main(["train", str(path), "--weights", str(tmp_path / "cli.npz")]) == 0
    cli = read_weights(tmp_path / "cli.npz")

    seen = []
    child.train(project_to_dict(project), str(tmp_path))
    done = _until(child, {"done", "failed", "died"}, seen)
    assert done.kind == "done", done.data
    assert done.data["stopped"] == "finished" and done.data["epochs"] == 3
    assert set(done.arrays) == set(cli)
    for name, value in cli.items():
        np.testing.assert_array_equal(done.arrays[name], value, err_msg=name)
    reports = [m for m in seen if m.kind == "report"]
    assert [r.data["kind"] for r in reports].count("epoch") == 3


def test_stop_answers_between_two_steps_and_the_weights_come_back(child):
    child.train(project_to_dict(_long()), max_steps=None, report_every=0.05)
    first = _until(child, {"report", "failed", "died"})
    assert first.kind == "report"
    child.want_weights()
    weights = _until(child, {"weights"})
    assert weights.arrays["reader.weight_hh"].shape == (128, 32)
    child.stop()
    done = _until(child, {"done", "failed", "died"})
    assert done.kind == "done" and done.data["stopped"] == "cancelled"
    # stopped where it was, not at the end of its 500 epochs (however fast the machine is)
    assert weights.data["step"] <= done.data["steps"]
    assert done.data["epochs"] < 500
    assert np.isfinite(done.arrays["reader.weight_hh"]).all()


def test_a_failure_in_the_child_is_one_line_and_the_child_trains_again(child, tmp_path):
    project = new_project("forecast")
    project.dataset.kind, project.dataset.name = "csv", "missing.csv"
    child.train(project_to_dict(project), str(tmp_path))
    failed = _until(child, {"failed", "done", "died"})
    assert failed.kind == "failed" and "missing.csv" in failed.data["message"]
    assert "\n" not in failed.data["message"] and child.alive
    good = new_project("one_to_one")
    good.training.epochs = 1
    child.train(project_to_dict(good))
    assert _until(child, {"done", "failed", "died"}).kind == "done"


def test_a_killed_child_is_reported_and_a_new_one_trains(tmp_path):
    process = TrainingProcess()
    try:
        process.train(project_to_dict(_long()), report_every=0.05)
        assert _until(process, {"report", "failed", "died"}).kind == "report"
        process.kill()  # SIGKILL, as the out-of-memory killer would
        died = _until(process, {"died"})
        assert "signal 9" in died.data["message"] and not process.alive
        assert not process.training
        again = new_project("one_to_one")
        again.training.epochs = 1
        process.train(project_to_dict(again))  # a new child
        assert _until(process, {"done", "failed", "died"}).kind == "done"
    finally:
        process.close()


def test_a_pause_is_acknowledged_once_the_trainer_waits_and_no_step_follows(child):
    child.train(project_to_dict(_long()), report_every=0.05)
    assert _until(child, {"report", "failed", "died"}).kind == "report"
    child.pause()
    paused = _until(child, {"paused"})
    steps = paused.data["step"]
    child.want_weights()  # answered only at a report, which a paused trainer does not make
    child.resume()
    seen = []
    weights = _until(child, {"weights"}, seen)
    later = [m.data["step"] for m in seen if m.kind == "report"]
    assert weights.data["step"] >= steps and all(step >= steps for step in later)
    child.stop()
    assert _until(child, {"done", "failed", "died"}).kind == "done"


def test_each_epochs_weights_come_with_its_validation_loss(child):
    project = new_project("one_to_one")
    project.training.epochs = 2
    seen = []
    child.train(project_to_dict(project))
    _until(child, {"done", "failed", "died"}, seen)
    epochs = [m for m in seen if m.kind == "weights" and m.data["epoch_end"]]
    assert len(epochs) == 2 and all(np.isfinite(m.data["val_loss"]) for m in epochs)


def test_a_plugin_node_type_is_loaded_in_the_child(child):
    """The editor's registry may hold types that are not built in (tests/test_plugin_cell.py's
    gated unit): the child imports them by module and name, and trains the graph."""
    from rnn_builder.training.process import plugin_types

    from .test_plugin_cell import mgu_project

    project = mgu_project()
    plugins = plugin_types(project.graph.registry)
    assert plugins == [["tests.test_plugin_cell", "MinimalGatedUnit"]]
    child.train(project_to_dict(project), max_steps=3, plugins=plugins)
    done = _until(child, {"done", "failed", "died"})
    assert done.kind == "done", done.data
    assert done.data["steps"] == 3 and done.arrays["reader.weight_hh"].shape == (64, 32)
    child.train(project_to_dict(project), max_steps=3, plugins=[["no_such_module", "Cell"]])
    failed = _until(child, {"done", "failed", "died"})
    assert failed.kind == "failed" and "no_such_module.Cell" in failed.data["message"]


@pytest.fixture
def raw_child():
    """The real child, with the editor's end of its socket in the test's hands: to send it
    what the editor never would."""
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [*TrainingProcess.CHILD, str(theirs.fileno())],
        pass_fds=(theirs.fileno(),),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    theirs.close()
    connection = Connection(ours.detach())
    yield process, connection
    connection.close()
    process.kill()
    process.wait()


def _next(connection: Connection, kinds: set[str]) -> Message:
    """The next message from the child of one of ``kinds`` (others skipped); fail after
    DEADLINE."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if connection.poll(0.5):
            message = receive(connection, FROM_CHILD)
            if message.kind in kinds:
                return message
    pytest.fail(f"no {sorted(kinds)} within {DEADLINE} s")


def _train_data(project, **options) -> dict:
    data = {"project": project_to_dict(project), "base": None, "max_steps": None}
    return {**data, "report_every": 0.05, "plugins": [], "outside_data": [], **options}


def test_the_child_answers_a_message_it_refuses_in_one_line_and_reads_on(raw_child):
    """A shape of [true] raised TypeError in the thread that reads the editor's messages: it
    ended, and the child lived on without ever reading again."""
    _process, connection = raw_child
    assert _next(connection, {"ready"}).kind == "ready"
    project = new_project("one_to_one")
    project.training.epochs = 1
    shaped = {"name": "point.weight", "dtype": "<f4", "shape": [True]}
    header = json.dumps({"kind": "train", "data": _train_data(project), "arrays": [shaped]})
    encoded = header.encode("utf-8")
    connection.send_bytes(struct.pack("<I", len(encoded)) + encoded + bytes(4))
    refused = _next(connection, {"refused", "done", "failed"})
    assert refused.kind == "refused" and refused.data["message"] == (
        "the training process refused a message from the editor: a 'train' message with an "
        "array of shape [True]"
    )
    connection.send_bytes(b"\x05\x00\x00\x00{]}}}")
    assert "header is not JSON" in _next(connection, {"refused"}).data["message"]
    connection.send_bytes(pack("train", _train_data(project)))
    done = _next(connection, {"done", "failed", "refused"})
    assert done.kind == "done" and done.data["stopped"] == "finished", done.data


def test_a_frame_the_child_cannot_read_ends_it_after_the_runs_weights(raw_child):
    """A frame declaring a terabyte cannot be skipped without reading it (numpy asked for the
    terabyte: MemoryError, and the reader thread was gone): the child stops the run, sends its
    weights as a stop does, and ends, as when the editor goes."""
    process, connection = raw_child
    connection.send_bytes(pack("train", _train_data(_long())))
    assert _next(connection, {"report", "failed"}).kind == "report"
    os.write(connection.fileno(), terabyte_frame())
    done = _next(connection, {"done", "failed"})
    assert done.kind == "done" and done.data["stopped"] == "cancelled"
    assert np.isfinite(done.arrays["reader.weight_hh"]).all()
    assert process.wait(DEADLINE) == 0


def test_integer_or_half_precision_weights_reach_the_child_as_floats(child):
    """A weights file may hold them (read_weights takes any number type); a message carries
    float32, float64 and int64 only, and the refusal was swallowed: the run never started."""
    project = new_project("one_to_one")
    start = Executor(project.graph, seed=1).get_parameters()
    weights = {name: (value * 10).astype(np.int32) for name, value in start.items()}
    weights["scores.bias"] = start["scores.bias"].astype(np.float16)
    child.train(project_to_dict(project), weights=weights, max_steps=1)
    done = _until(child, {"done", "failed", "died"})
    assert done.kind == "done" and done.data["steps"] == 1, done.data


@pytest.mark.parametrize(
    "sent, why",
    [
        (
            [("frame", b"%b")],
            "the training process sent a message that was refused: a 'weights' message with "
            "an array of shape [True]",
        ),
        (
            [("raw", terabyte_frame())],
            "the training process sent a message that was refused: a message of more than "
            "2,163,483,648 bytes",
        ),
        (
            [("frame", pack("refused", {"message": "it could not read ours"}))],
            "it could not read ours",
        ),
    ],
    ids=["shape [true]", "a terabyte", "ours refused"],
)
def test_a_child_whose_message_is_refused_is_ended_and_said_to_have_died(tmp_path, sent, why):
    """TrainingProcess.messages() let numpy's TypeError and MemoryError escape."""
    weights = {"step": 1, "epoch_end": True, "val_loss": None}
    shaped = {"name": "w", "dtype": "<f4", "shape": [True]}
    header = json.dumps({"kind": "weights", "data": weights, "arrays": [shaped]}).encode()
    bad = struct.pack("<I", len(header)) + header + bytes(4)
    sent = [(kind, bad if data == b"%b" else data) for kind, data in sent]
    process = TrainingProcess(hostile_child.command(frames_script(tmp_path / "s.json", *sent)))
    try:
        process.train(project_to_dict(new_project("one_to_one")))
        died = _until(process, {"died", "done", "failed", "report"})
        assert died.kind == "died" and died.data["message"] == why
        assert not process.alive and not process.training
    finally:
        process.close()
