"""The training process's messages: each kind's fields and types are checked on both sides
against one schema (rnn_builder.training.messages.SCHEMAS), and whatever is not what its kind
holds is refused with one line, never an exception of another type."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import struct
from multiprocessing.connection import Connection

import pytest

from rnn_builder.training.messages import (
    FROM_CHILD,
    FROM_EDITOR,
    SCHEMAS,
    MessageError,
    StreamError,
    pack,
    receive,
    unpack,
)
from rnn_builder.training.trainer import Report, TrainingResult
from tests.hostile_child import terabyte_frame


def frame(header: dict, body: bytes = b"") -> bytes:
    """A message's bytes as ``pack`` lays them out, with no check of what they say."""
    encoded = json.dumps(header).encode("utf-8")
    return struct.pack("<I", len(encoded)) + encoded + body


def report_data(**changes) -> dict:
    report = Report("step", 3, 1, 2, 10, 0.5, 0.01, 1.0, 100.0, 0.1, 0.2, [0.6, 0.5, 0.5])
    return {**report.to_json(), **changes}


def done_data(**changes) -> dict:
    result = TrainingResult(10, 2, 1.5, 0.3, 0.4, 0.9, "accuracy", "finished")
    data = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    del data["history"]
    return {**data, "options": {"alphabet": "abc"}, **changes}


def refusal(buffer: bytes, kinds=FROM_CHILD) -> str:
    with pytest.raises(MessageError) as refused:
        unpack(buffer, kinds)
    assert type(refused.value) in (MessageError, StreamError)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 200, message
    return message


def test_the_schema_holds_the_trainers_report_and_result_field_for_field():
    assert set(SCHEMAS["report"].fields) == {f.name for f in dataclasses.fields(Report)}
    result = {f.name for f in dataclasses.fields(TrainingResult)} - {"history"}
    assert set(SCHEMAS["done"].fields) == result | {"options"}
    assert set(SCHEMAS) == FROM_EDITOR | FROM_CHILD and not FROM_EDITOR & FROM_CHILD
    message = unpack(pack("report", report_data()), FROM_CHILD)
    assert Report(**message.data) == Report(**report_data())


ARRAY = {"name": "w", "dtype": "<f4", "shape": [1]}


@pytest.mark.parametrize(
    "entry, words",
    [
        ({**ARRAY, "shape": [True]}, "an array of shape [True]"),  # numpy raised TypeError
        ({**ARRAY, "shape": [0, 2**63]}, "an array of shape [0, 9223372036854775808]"),
        ({**ARRAY, "shape": [2**40]}, "an array of shape [1099511627776]"),
        ({**ARRAY, "shape": [1] * 40}, "an array of shape [1, 1, "),
        ({**ARRAY, "name": ["w"]}, "a damaged array entry"),  # unhashable: TypeError
        ({**ARRAY, "dtype": ["<f4"]}, "an array of type ['<f4']"),
        ({**ARRAY, "dtype": "|O"}, "an array of type '|O'"),
    ],
)
def test_damaged_array_entries_are_refused_in_one_line(entry, words):
    data = {"step": 1, "epoch_end": False, "val_loss": None}
    buffer = frame({"kind": "weights", "data": data, "arrays": [entry]}, bytes(4))
    assert words in refusal(buffer)


def test_two_arrays_of_one_name_and_headers_that_are_not_ours_are_refused():
    data = {"step": 1, "epoch_end": False, "val_loss": None}
    twice = frame({"kind": "weights", "data": data, "arrays": [ARRAY, ARRAY]}, bytes(8))
    assert refusal(twice) == "a 'weights' message with two arrays named 'w'"
    assert "kind its sender never sends, ['report']" in refusal(
        frame({"kind": ["report"], "data": {}, "arrays": []})
    )
    assert refusal(frame({"kind": "ready"})) == "a message whose header is not ours"
    huge = b'{"kind": "ready", "data": {"n": ' + b"9" * 5000 + b'}, "arrays": []}'
    assert refusal(struct.pack("<I", len(huge)) + huge) == "a message whose header is not JSON"


@pytest.mark.parametrize(
    "kind, data, words",
    [
        ("report", {k: v for k, v in report_data().items() if k != "losses"}, "without its"),
        ("report", report_data(val_loss="low"), "whose 'val_loss' is 'low', not null or a"),
        ("report", report_data(step=-1), "whose 'step' is -1, not a whole number ≥ 0"),
        ("report", report_data(step=True), "whose 'step' is True"),
        ("report", report_data(losses=[0.5, "x"]), "whose 'losses' is [0.5, 'x']"),
        ("report", report_data(state_grad_norms={"cell": [1.0]}), "'state_grad_norms'"),
        ("report", report_data(colour="red"), "with an unknown field 'colour'"),
        ("done", {k: v for k, v in done_data().items() if k != "steps"}, "without its 'steps'"),
        ("done", done_data(options=["alphabet"]), "whose 'options' is ['alphabet'], not an obj"),
        ("done", done_data(options={"f": float("nan")}), "whose 'options' is"),
        ("weights", {"step": 1, "epoch_end": "yes", "val_loss": None}, "'epoch_end' is 'yes'"),
        ("paused", {}, "a 'paused' message without its 'step'"),
        ("failed", {"message": None}, "whose 'message' is None, not text"),
        ("ready", {"extra": 1}, "a 'ready' message with an unknown field 'extra'"),
        ("ready", "text", "a 'ready' message whose data is not an object"),
    ],
)
def test_a_message_from_the_child_whose_fields_are_not_its_kinds_is_refused(kind, data, words):
    assert words in refusal(frame({"kind": kind, "data": data, "arrays": []}))
    with pytest.raises(MessageError):  # and none is sent
        pack(kind, data)


def test_the_editors_messages_are_checked_in_the_child_too():
    good = {"project": {}, "base": None, "max_steps": None, "report_every": 0.2, "plugins": []}
    good["outside_data"] = []
    assert unpack(pack("train", good), FROM_EDITOR).data == good
    cases = {
        "report_every": (float("nan"), "'report_every' is nan, not a finite number ≥ 0"),
        "max_steps": (2.5, "'max_steps' is 2.5, not null or a whole number ≥ 0"),
        "plugins": ([["module"]], "'plugins' is [['module']], not a list of [module, name]"),
        "project": ("{}", "'project' is '{}', not an object"),
    }
    for name, (value, words) in cases.items():
        buffer = frame({"kind": "train", "data": {**good, name: value}, "arrays": []})
        assert words in refusal(buffer, FROM_EDITOR), name
    stop = frame({"kind": "stop", "data": {}, "arrays": [ARRAY]}, bytes(4))
    assert refusal(stop, FROM_EDITOR) == "a 'stop' message with arrays, which it never has"


def test_a_frame_declaring_a_terabyte_is_refused_before_it_is_read():
    ours, theirs = socket.socketpair()
    reader, writer = Connection(ours.detach()), Connection(theirs.detach())
    try:
        writer.send_bytes(pack("ready"))
        assert receive(reader, FROM_CHILD).kind == "ready"
        os.write(writer.fileno(), terabyte_frame())
        with pytest.raises(StreamError) as refused:
            receive(reader, FROM_CHILD)  # MemoryError, or a terabyte read, before
        assert str(refused.value).startswith("a message of more than 2,16")
        with pytest.raises(StreamError):  # and stays lost: the next frame cannot be found
            receive(reader, FROM_CHILD)
    finally:
        reader.close()
        writer.close()
