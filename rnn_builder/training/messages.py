"""The messages between the editor and its training process, as bytes: a JSON header and raw
arrays of floats (:func:`pack` / :func:`unpack`), never pickles, so nothing the child sends is
unpickled by the editor.

Every kind of message is described once, here (:data:`SCHEMAS`): its fields, the type of each,
and whether it carries arrays. :func:`pack` checks a message against it before it is sent and
:func:`unpack` when it arrives, on both sides, so that no field is used before it is checked: a
message that is not one this module writes — damaged, of another kind than its sender sends, a
field missing, unknown or of the wrong type — is refused with :class:`MessageError`, one line.

Frames: each message is one frame of ``multiprocessing.connection`` (its length, then its
bytes). A frame is read only up to :data:`MAX_MESSAGE_BYTES`; one that declares more cannot be
skipped without reading it, so the stream is lost and its reader ends the conversation.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_builder.values import is_plain_value, short

Array = np.ndarray


MAX_HEADER_BYTES = 16_000_000
# The largest frame read: the header and 2 GB of arrays (500 million float32 weights, far
# beyond what trains on a CPU here). A frame declaring more is refused before it is allocated.
MAX_MESSAGE_BYTES = MAX_HEADER_BYTES + 2**31
ARRAY_TYPES = {"<f4", "<f8", "<i8"}  # what a message's arrays may be (no objects, no pickles)


class MessageError(ValueError):
    """A message that is not one this module writes (one line saying why). The stream goes
    on: the next message can be read."""


class StreamError(MessageError):
    """A frame that cannot be read (longer than :data:`MAX_MESSAGE_BYTES`, or than the memory
    free): the stream cannot go on, and its reader ends the conversation."""


@dataclass
class Message:
    """One message: its kind, JSON data and arrays by name."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)


# --- what each kind of message holds ---------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    """The type of a message's field: what it is called in a refusal, and its check."""

    name: str
    check: Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _maybe(kind: FieldType) -> FieldType:
    return FieldType(f"null or {kind.name}", lambda v: v is None or kind.check(v))


def _list_of(kind: FieldType, plural: str) -> FieldType:
    return FieldType(f"a list of {plural}", lambda v: type(v) is list and all(map(kind.check, v)))


def _object_of(kind: FieldType, plural: str) -> FieldType:
    return FieldType(
        f"an object of {plural} by name",
        lambda v: type(v) is dict and all(type(k) is str and kind.check(x) for k, x in v.items()),
    )


# NaN and the infinities are numbers here: a loss can be NaN (training stops on one and says so).
NUMBER = FieldType("a number", _is_number)
COUNT = FieldType("a whole number ≥ 0", lambda v: type(v) is int and v >= 0)
TEXT = FieldType("text", lambda v: type(v) is str)
TRUTH = FieldType("true or false", lambda v: type(v) is bool)
SECONDS = FieldType("a finite number ≥ 0", lambda v: _is_number(v) and 0 <= v < math.inf)
NUMBERS = _list_of(NUMBER, "numbers")
OPTIONS = _object_of(FieldType("a plain value", is_plain_value), "plain values")
PROJECT = FieldType("an object", lambda v: type(v) is dict)  # its own strict reader checks it
PLUGIN = FieldType(
    "[module, name]", lambda v: type(v) is list and len(v) == 2 and all(type(p) is str for p in v)
)


@dataclass(frozen=True)
class Schema:
    """A kind of message: its fields (all required, none other) and whether it has arrays."""

    fields: dict[str, FieldType]
    arrays: bool = False


# The trainer's Report, field for field (training.trainer.Report.to_json).
REPORT = Schema(
    {
        "kind": FieldType("step, epoch or final", lambda v: v in ("step", "epoch", "final")),
        "step": COUNT,
        "epoch": COUNT,
        "epochs": COUNT,
        "total_steps": COUNT,
        "loss": NUMBER,
        "learning_rate": NUMBER,
        "grad_norm": NUMBER,
        "examples_per_second": NUMBER,
        "elapsed": NUMBER,
        "remaining": _maybe(NUMBER),
        "losses": NUMBERS,  # every step's loss since the report before, ending at ``step``
        "train_metric": _maybe(NUMBER),
        "val_loss": _maybe(NUMBER),
        "val_metric": _maybe(NUMBER),
        "metric": TEXT,
        "state_grad_norms": _object_of(_object_of(NUMBERS, "lists of numbers"), "objects"),
        "connectivity": _object_of(_object_of(NUMBERS, "lists of numbers"), "objects"),
        "message": TEXT,
    }
)

SCHEMAS: dict[str, Schema] = {
    # the editor's
    "train": Schema(
        {
            "project": PROJECT,
            "base": _maybe(TEXT),
            # the data files outside the project's folder the user allowed (files.data_paths)
            "outside_data": _list_of(TEXT, "paths"),
            "max_steps": _maybe(COUNT),
            "report_every": SECONDS,
            "plugins": _list_of(PLUGIN, "[module, name] pairs"),
        },
        arrays=True,  # the weights to continue from
    ),
    "pause": Schema({}),
    "resume": Schema({}),
    "stop": Schema({}),
    "want_weights": Schema({}),
    "quit": Schema({}),
    # the training process's
    "ready": Schema({}),
    "report": REPORT,
    "weights": Schema({"step": COUNT, "epoch_end": TRUTH, "val_loss": _maybe(NUMBER)}, arrays=True),
    "paused": Schema({"step": COUNT}),
    "done": Schema(
        {
            "steps": COUNT,
            "epochs": COUNT,
            "seconds": NUMBER,
            "loss": NUMBER,
            "val_loss": _maybe(NUMBER),
            "val_metric": _maybe(NUMBER),
            "metric": TEXT,
            "stopped": TEXT,
            "message": TEXT,
            "options": OPTIONS,  # what making the data worked out
        },
        arrays=True,  # the trained weights
    ),
    "failed": Schema({"message": TEXT}),
    "refused": Schema({"message": TEXT}),  # a message from the editor the child could not use
}
FROM_EDITOR = frozenset({"train", "pause", "resume", "stop", "want_weights", "quit"})
FROM_CHILD = frozenset(SCHEMAS) - FROM_EDITOR


def check(kind: str, data: Any, arrays: Collection[str] = ()) -> None:
    """Raise :class:`MessageError` unless ``data`` (and having ``arrays``) is what a ``kind``
    message holds (:data:`SCHEMAS`)."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise MessageError(f"a message of an unknown kind, {short(kind)}")
    if type(data) is not dict:
        raise MessageError(f"a '{kind}' message whose data is not an object")
    for name, expected in schema.fields.items():
        if name not in data:
            raise MessageError(f"a '{kind}' message without its '{name}'")
        if not expected.check(data[name]):
            raise MessageError(
                f"a '{kind}' message whose '{name}' is {short(data[name], 30)}, not {expected.name}"
            )
    unknown = sorted(set(data) - set(schema.fields), key=str)
    if unknown:
        raise MessageError(f"a '{kind}' message with an unknown field {short(unknown[0], 30)}")
    if arrays and not schema.arrays:
        raise MessageError(f"a '{kind}' message with arrays, which it never has")


# --- bytes -------------------------------------------------------------------------------------


def pack(kind: str, data: dict[str, Any] | None = None, arrays: dict[str, Array] | None = None):
    """``kind`` and ``data`` as JSON, then each array's raw bytes (little-endian floats);
    checked first as :func:`unpack` will check it."""
    data, arrays = data or {}, arrays or {}
    check(kind, data, arrays)
    described, parts = [], []
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        dtype = value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else value.dtype
        value = value.astype(dtype, copy=False)
        if dtype.str not in ARRAY_TYPES:
            raise MessageError(f"array '{name}' has type {dtype}, not a float or int64")
        described.append({"name": name, "dtype": dtype.str, "shape": list(value.shape)})
        parts.append(value.tobytes())
    header = json.dumps({"kind": kind, "data": data, "arrays": described}).encode("utf-8")
    return b"".join([struct.pack("<I", len(header)), header, *parts])


def unpack(buffer: bytes, kinds: Collection[str]) -> Message:
    """The message :func:`pack` wrote, of one of ``kinds`` (:data:`FROM_EDITOR` or
    :data:`FROM_CHILD`: what the other side sends); raises :class:`MessageError` on anything
    else."""
    if len(buffer) < 4:
        raise MessageError("a message too short for its header")
    (length,) = struct.unpack_from("<I", buffer)
    if length > MAX_HEADER_BYTES or 4 + length > len(buffer):
        raise MessageError(f"a message whose header claims {length} bytes")
    try:
        header = json.loads(bytes(buffer[4 : 4 + length]).decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, an integer of 4,300 digits
        raise MessageError("a message whose header is not JSON") from None
    if type(header) is not dict or set(header) != {"kind", "data", "arrays"}:
        raise MessageError("a message whose header is not ours")
    kind, data, described = header["kind"], header["data"], header["arrays"]
    if type(kind) is not str or kind not in kinds:
        raise MessageError(f"a message of a kind its sender never sends, {short(kind, 30)}")
    if type(described) is not list or not all(type(entry) is dict for entry in described):
        raise MessageError(f"a '{kind}' message whose list of arrays is damaged")
    check(kind, data, described)
    arrays, offset = {}, 4 + length
    for entry in described:
        name, dtype, shape = _array_entry(kind, entry)
        if name in arrays:
            raise MessageError(f"a '{kind}' message with two arrays named {short(name, 30)}")
        size = math.prod(shape) * dtype.itemsize
        if offset + size > len(buffer):
            raise MessageError(
                f"a '{kind}' message whose array {short(name, 30)} runs past its end"
            )
        count = size // dtype.itemsize
        arrays[name] = (
            np.frombuffer(buffer, dtype, count=count, offset=offset).reshape(shape).copy()
        )
        offset += size
    if offset != len(buffer):
        raise MessageError(f"a '{kind}' message with bytes after its arrays")
    return Message(kind, data, arrays)


def receive(connection, kinds: Collection[str]) -> Message:
    """The next message on a ``multiprocessing.connection.Connection`` (waiting for it), of one
    of ``kinds``, checked. Raises ``EOFError`` or ``OSError`` when the other side is gone,
    :class:`StreamError` when a frame cannot be read, :class:`MessageError` when a message is
    refused (the next one can still be read)."""
    try:
        buffer = connection.recv_bytes(MAX_MESSAGE_BYTES)
    except MemoryError:
        raise StreamError("a message larger than the memory free") from None
    except OSError:
        if connection.closed or connection.readable:
            raise  # the connection itself failed
        # recv_bytes read a length over the limit, left the rest unread and stopped reading
        raise StreamError(f"a message of more than {MAX_MESSAGE_BYTES:,} bytes") from None
    return unpack(buffer, kinds)


def _array_entry(kind: str, entry: dict) -> tuple[str, np.dtype, tuple[int, ...]]:
    """An array's name, type and shape as its entry in the header gives them, checked."""
    name, dtype, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
    if set(entry) != {"name", "dtype", "shape"} or type(name) is not str:
        raise MessageError(f"a '{kind}' message with a damaged array entry")
    if type(dtype) is not str or dtype not in ARRAY_TYPES:
        raise MessageError(f"a '{kind}' message with an array of type {short(dtype, 30)}")
    # Whole numbers only (True passes isinstance(int), and numpy refuses it as a length), each
    # no longer than a frame (numpy refuses a dimension of 2**63 even in an empty array).
    if (
        type(shape) is not list
        or len(shape) > 32
        or not all(type(n) is int and 0 <= n <= MAX_MESSAGE_BYTES for n in shape)
    ):
        raise MessageError(f"a '{kind}' message with an array of shape {short(shape, 30)}")
    return name, np.dtype(dtype), tuple(shape)
