"""Damaged frames between the editor and its training process (``training.messages``; issue
22: at full count ≥ 50 frames): read by :func:`unpack` on either side, they are messages whose
fields the session can use, or refused in one line. The real child answers each refused frame
with ``refused`` and reads on (a run trains after them); the editor's side of a child that
sends them never raises, and ends the child as died."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import time
from multiprocessing.connection import Connection

import numpy as np
import pytest

from rnn_builder.files.serialization import project_to_dict
from rnn_builder.files.templates import new_project
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
from rnn_builder.training.trainer import Report, TrainingResult
from tests import hostile_child
from tests.fuzz.harness import FULL, batches, case, one_line, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=1_000, full=5_000, per_batch=1_000)
DEADLINE = 60.0  # s for the child to answer; it answers in milliseconds


def _train(max_steps: int = 1) -> dict:
    project = new_project("one_to_one")
    return {
        "project": project_to_dict(project),
        "base": None,
        "outside_data": [],
        "max_steps": max_steps,
        "report_every": 0.05,
        "plugins": [],
    }


def _report() -> dict:
    report = Report("epoch", 3, 1, 3, 30, 0.5, 0.01, 1.0, 100.0, 0.1, 0.2, [0.7, 0.6, 0.5])
    return {**report.to_json(), "val_loss": 0.4, "val_metric": 0.9}


WEIGHTS = {"point.weight": np.ones((2, 3), np.float32), "scores.bias": np.zeros(2)}
DONE = {
    "steps": 3,
    "epochs": 1,
    "seconds": 0.1,
    "loss": 0.5,
    "val_loss": 0.5,
    "val_metric": 0.9,
    "metric": "accuracy",
    "stopped": "finished",
    "message": "",
    "options": {"alphabet": "ab"},
}
EDITOR_FRAMES = [
    pack("train", _train(), WEIGHTS),
    pack("pause"),
    pack("want_weights"),
    pack("stop"),
]
CHILD_FRAMES = [
    pack("ready"),
    pack("report", _report()),
    pack("weights", {"step": 3, "epoch_end": True, "val_loss": 0.4}, WEIGHTS),
    pack("done", DONE, WEIGHTS),
    pack("failed", {"message": "the data could not be read"}),
    pack("refused", {"message": "it could not read ours"}),
]


def _damaged(mutator: Mutator, frame: bytes) -> bytes:
    """The frame's bytes damaged, or its JSON header changed as JSON (its length right)."""
    if mutator.rng.random() < 0.4:
        return mutator.bytes(frame)
    (length,) = struct.unpack_from("<I", frame)
    header = json.loads(frame[4 : 4 + length])
    changed = json.dumps(mutator.json(header), allow_nan=True).encode("utf-8")
    return struct.pack("<I", len(changed)) + changed + frame[4 + length :]


def _used(message: Message) -> None:
    """What the session does with a message that passed its schema."""
    if message.kind == "report":
        Report(**message.data)
    elif message.kind == "done":
        TrainingResult(**{k: v for k, v in message.data.items() if k != "options"})
        assert isinstance(message.data["options"], dict)
    for value in message.arrays.values():
        assert value.dtype.kind in "fi"


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_damaged_frames_are_messages_or_refused_in_one_line(batch, count):
    for seed in seeds("frames", batch, count):
        mutator = Mutator(seed)
        editor = mutator.rng.random() < 0.4
        frame = mutator.rng.choice(EDITOR_FRAMES if editor else CHILD_FRAMES)
        damaged = _damaged(mutator, frame)
        with case("frames", f"seed {seed}") as figures:
            try:
                message = unpack(damaged, FROM_EDITOR if editor else FROM_CHILD)
            except MessageError as error:
                one_line(str(error), f"seed {seed}")
                figures.refused += 1
                continue
            _used(message)
            figures.deep += 1


def _refused_editor_frames(start: int, count: int) -> list[bytes]:
    """Damaged editor frames that ``unpack`` refuses (a valid one would be obeyed: a stop, a
    quit, a run)."""
    frames: list[bytes] = []
    seed = start
    while len(frames) < count:
        mutator = Mutator(seed)
        damaged = _damaged(mutator, mutator.rng.choice(EDITOR_FRAMES))
        seed += 1
        try:
            unpack(damaged, FROM_EDITOR)
        except MessageError:
            frames.append(damaged)
    return frames


def _next(connection: Connection, kinds: set[str]) -> Message:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if connection.poll(0.2):
            message = receive(connection, FROM_CHILD)
            if message.kind in kinds:
                return message
    pytest.fail(f"no {sorted(kinds)} from the child within {DEADLINE} s")


def test_the_child_refuses_each_damaged_frame_and_trains_after_them():
    frames = _refused_editor_frames(7_000_000, 150 if FULL else 20)
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [*TrainingProcess.CHILD, str(theirs.fileno())],
        pass_fds=(theirs.fileno(),),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    theirs.close()
    connection = Connection(ours.detach())
    try:
        assert _next(connection, {"ready"}).kind == "ready"
        for number, frame in enumerate(frames):
            with case("frames (child)", f"frame {number}") as figures:
                connection.send_bytes(frame)
                answer = _next(connection, {"refused", "done", "failed"})
                assert answer.kind == "refused", answer
                one_line(answer.data["message"], f"frame {number}")
                figures.refused += 1
        connection.send_bytes(pack("train", _train(max_steps=2)))
        done = _next(connection, {"done", "failed", "refused"})
        assert done.kind == "done" and done.data["steps"] == 2, done.data
        assert process.poll() is None  # alive, still reading
    finally:
        connection.close()
        process.kill()
        process.wait()


def test_the_editor_ends_a_child_that_sends_damaged_frames_as_died(tmp_path):
    children = 50 if FULL else 4
    for number in range(children):
        mutator = Mutator(8_000_000 + number)
        sent = [mutator.rng.choice(CHILD_FRAMES[1:3]) for _ in range(mutator.rng.randint(0, 3))]
        sent.append(_damaged(mutator, mutator.rng.choice(CHILD_FRAMES[1:])))
        script = hostile_child.frames_script(
            tmp_path / f"script{number}.json", *(("frame", frame) for frame in sent)
        )
        process = TrainingProcess(hostile_child.command(script))
        try:
            with case("frames (editor)", f"child {number}") as figures:
                process.warm()
                process.train(_train())
                received: list[Message] = []
                end = time.monotonic() + DEADLINE
                # every frame arrives as a message, or one is refused and the child is ended
                while len(received) < len(sent) and not any(m.kind == "died" for m in received):
                    assert time.monotonic() < end, f"child {number}: {received} of {len(sent)}"
                    process.wait(0.2)
                    received += [m for m in process.messages() if m.kind != "ready"]
                for message in received:
                    if message.kind == "died":
                        one_line(message.data["message"], f"child {number}")
                    else:
                        _used(message)
                figures.refused += received[-1].kind == "died"
                figures.deep += received[-1].kind != "died"
        finally:
            process.close()  # (a child that reads on is asked to end, then ended)
