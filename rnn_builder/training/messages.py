"""The messages between the editor and its training process, as bytes: a JSON header and raw
arrays of floats (:func:`pack` / :func:`unpack`), never pickles, so nothing the child sends is
unpickled by the editor; a message that is not one :func:`pack` writes is refused
(:class:`MessageError`)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray


MAX_HEADER_BYTES = 16_000_000
ARRAY_TYPES = {"<f4", "<f8", "<i8"}  # what a message's arrays may be (no objects, no pickles)


class MessageError(ValueError):
    """A message that is not one this module writes."""


@dataclass
class Message:
    """One message: its kind, JSON data and arrays by name."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)


def pack(kind: str, data: dict[str, Any] | None = None, arrays: dict[str, Array] | None = None):
    """``kind`` and ``data`` as JSON, then each array's raw bytes (little-endian floats)."""
    arrays = arrays or {}
    described, parts = [], []
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        dtype = value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else value.dtype
        value = value.astype(dtype, copy=False)
        if dtype.str not in ARRAY_TYPES:
            raise MessageError(f"array '{name}' has type {dtype}, not a float or int64")
        described.append({"name": name, "dtype": dtype.str, "shape": list(value.shape)})
        parts.append(value.tobytes())
    header = json.dumps({"kind": kind, "data": data or {}, "arrays": described}).encode("utf-8")
    return b"".join([struct.pack("<I", len(header)), header, *parts])


def unpack(buffer: bytes) -> Message:
    """The message :func:`pack` wrote; raises :class:`MessageError` on anything else."""
    if len(buffer) < 4:
        raise MessageError("a message too short for its header")
    (length,) = struct.unpack_from("<I", buffer)
    if length > MAX_HEADER_BYTES or 4 + length > len(buffer):
        raise MessageError(f"a message whose header claims {length} bytes")
    try:
        header = json.loads(buffer[4 : 4 + length].decode("utf-8"))
        kind, data, described = header["kind"], header["data"], header["arrays"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise MessageError("a message whose header is not ours") from None
    if not isinstance(kind, str) or not isinstance(data, dict) or not isinstance(described, list):
        raise MessageError("a message whose header is not ours")
    arrays, offset = {}, 4 + length
    for entry in described:
        try:
            name, dtype, shape = entry["name"], np.dtype(entry["dtype"]), tuple(entry["shape"])
        except (KeyError, TypeError, ValueError):
            raise MessageError("a message with a damaged array entry") from None
        if dtype.str not in ARRAY_TYPES or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise MessageError(f"a message with an array of type {dtype} or shape {shape}")
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset + size > len(buffer):
            raise MessageError(f"a message whose array '{name}' runs past its end")
        arrays[name] = np.frombuffer(buffer, dtype, count=size // dtype.itemsize, offset=offset)
        arrays[name] = arrays[name].reshape(shape).copy()
        offset += size
    if offset != len(buffer):
        raise MessageError("a message with bytes after its arrays")
    return Message(kind, data, arrays)
