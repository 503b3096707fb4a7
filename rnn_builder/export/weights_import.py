"""Bringing trained weights back: ``.npz``, the PyTorch export's ``.safetensors``, and the
checkpoints its ``train.py`` writes — all read without trusting them and without unpickling.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's dtype,
shape and byte offsets, and a ``__metadata__`` of strings), then the raw bytes. This module
checks all of it before reading a byte of data: the header's length against a cap and the file,
the JSON's form, every tensor's dtype (floats only), shape and offsets (inside the file, the
size its shape needs), and then the names and shapes against the graph's, strictly. Only then
are the graph's tensors read, each exactly its declared bytes, by NumPy from the file (no
library code runs on an unchecked file, and reading costs the model's size).

Names: the export's are the module's ``state_dict`` keys (:mod:`.torch_names` maps them back);
a checkpoint (metadata ``format: rnn-builder-checkpoint``) holds them under ``model.`` beside
the optimizer's state, which is skipped.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnn_builder.errors import WeightsFileError
from rnn_builder.export.pytorch_forms import torch_spellings
from rnn_builder.export.torch_names import ours_from_torch
from rnn_builder.files.weights_file import read_weights
from rnn_builder.values import short

if TYPE_CHECKING:
    from rnn_builder.engine.executor import Executor

NOT_WEIGHTS = "is not a readable .npz or .safetensors weights file"
MAX_HEADER_BYTES = 16_000_000  # ~100,000 tensors' entries; a model has dozens
CHECKPOINT_FORMAT = "rnn-builder-checkpoint"
FLOAT_TYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "BF16": "<u2"}
ITEM_SIZES = {"F16": 2, "F32": 4, "F64": 8, "BF16": 2}


def read_trained_weights(
    path: str | os.PathLike[str],
    parameter_shapes: Mapping[str, tuple[int, ...]],
    names: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, np.ndarray]:
    """Our ``<node>.<tensor>`` arrays from an ``.npz`` (:func:`~rnn_builder.files.weights_file.
    read_weights`), an exported ``weights.safetensors`` or a ``train.py`` checkpoint, with
    exactly the names and shapes of ``parameter_shapes``. Anything else — a damaged or hostile
    file, a missing, extra or misshapen tensor — raises :class:`WeightsFileError`, one line.
    ``names``: PyTorch names by ours, where a node type's form gives its own
    (:func:`~rnn_builder.export.torch_names.ours_from_torch`)."""
    path = Path(path)
    shapes = {name: tuple(shape) for name, shape in parameter_shapes.items()}
    try:
        with open(path, "rb") as stream:
            magic = stream.read(4)
    except FileNotFoundError:
        raise WeightsFileError(f"there is no weights file '{path}'") from None
    except IsADirectoryError:
        raise WeightsFileError(f"'{path}' is not a weights file (a folder?)") from None
    except OSError as error:
        raise WeightsFileError(f"'{path}' cannot be read: {error.strerror or error}") from None
    if magic == b"PK\x03\x04" or path.suffix == ".npz":
        return read_weights(path, shapes, strict=True)
    return read_safetensors(path, shapes, names)


def read_safetensors(
    path: Path,
    parameter_shapes: Mapping[str, tuple[int, ...]],
    names: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, np.ndarray]:
    """See the module docstring: checked header, strict names and shapes, then the data."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise WeightsFileError(f"'{path}' is not a weights file (a folder, device or pipe?)")
        with open(path, "rb") as stream:
            header, data_start = _header(path, stream, info.st_size)
            metadata, entries = _entries(path, header, info.st_size - data_start)
            checkpoint = metadata.get("format") == CHECKPOINT_FORMAT
            if checkpoint:
                entries = {
                    k[len("model.") :]: v for k, v in entries.items() if k.startswith("model.")
                }
            what = f"'{path}'" + (" (a training checkpoint)" if checkpoint else "")
            chosen = ours_from_torch(entries, parameter_shapes, what, names)
            for ours, (_dtype, shape, _begin, _end) in chosen.items():
                if shape != tuple(parameter_shapes[ours]):
                    raise WeightsFileError(
                        f"{what}: '{ours}' has shape {shape}, but this graph needs "
                        f"{tuple(parameter_shapes[ours])}"
                    )
            return {ours: _read(stream, data_start, *entry) for ours, entry in chosen.items()}
    except PermissionError:
        raise WeightsFileError(f"'{path}' cannot be read: permission denied") from None
    except (OSError, ValueError, struct.error) as error:
        raise WeightsFileError(f"'{path}' is not a readable weights file ({error})") from None


def _header(path: Path, stream, size: int) -> tuple[dict, int]:
    raw = stream.read(8)
    if len(raw) < 8:
        raise WeightsFileError(f"'{path}' {NOT_WEIGHTS} (too short)")
    (length,) = struct.unpack("<Q", raw)
    if length > MAX_HEADER_BYTES or 8 + length > size:
        raise WeightsFileError(f"'{path}' {NOT_WEIGHTS} (its header claims {length} bytes)")
    text = stream.read(length)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise WeightsFileError(f"'{path}' {NOT_WEIGHTS} (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise WeightsFileError(f"'{path}' is damaged: its header is not a JSON object")
    return header, 8 + length


def _entries(path: Path, header: dict, data_size: int) -> tuple[dict[str, str], dict]:
    """The metadata, and (dtype, shape, begin, end) by name, every one checked."""
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise WeightsFileError(f"'{path}' is damaged: its metadata is not text by name")
    entries = {}
    for name, entry in header.items():
        shown = short(name)  # a name is the file's: quoted with its line breaks escaped
        if not isinstance(entry, dict):
            raise WeightsFileError(f"'{path}' is damaged: the entry of {shown} is not an object")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in FLOAT_TYPES:  # a dict is not hashable
            raise WeightsFileError(
                f"'{path}': {shown} holds {short(dtype)}, not floating-point numbers; weights "
                "are floats"
            )
        if not (
            isinstance(shape, list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
            and isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        ):
            raise WeightsFileError(f"'{path}' is damaged: {shown} has no valid shape or offsets")
        begin, end = offsets
        needed = math.prod(shape) * ITEM_SIZES[dtype]
        if not 0 <= begin <= end <= data_size or end - begin != needed:
            raise WeightsFileError(
                f"'{path}' is damaged: the bytes of {shown} lie outside the file or do not "
                f"match its shape {tuple(shape)}"
            )
        entries[name] = (dtype, tuple(shape), begin, end)
    return metadata, entries


def _read(stream, data_start: int, dtype: str, shape: tuple, begin: int, end: int) -> np.ndarray:
    stream.seek(data_start + begin)
    raw = stream.read(end - begin)
    if len(raw) != end - begin:
        raise ValueError("the file ends early")
    values = np.frombuffer(raw, dtype=FLOAT_TYPES[dtype])
    if dtype == "BF16":  # the high half of a float32
        values = (values.astype(np.uint32) << 16).view(np.float32)
    return values.reshape(shape).copy()


def load_weights(executor: Executor, path: str | os.PathLike[str]) -> None:
    """Set an executor's parameters from an ``.npz`` (:func:`~rnn_builder.files.weights_file.
    save_weights`), the PyTorch export's ``.safetensors`` weights or a training checkpoint,
    checked against its graph's names and shapes before any array is read
    (:func:`read_trained_weights`). On any problem the current weights stay as they were."""
    shapes = {name: value.shape for name, value in executor.parameters.items()}
    values = read_trained_weights(path, shapes, torch_spellings(executor.graph, shapes))
    executor.set_parameters(values)  # cast there, once checked to fit its dtype
