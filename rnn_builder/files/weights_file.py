"""Reading ``.npz`` weights files without trusting them.

An ``.npz`` is a zip of ``.npy`` members, and a member's header declares its shape and dtype
in a few hundred bytes. A hostile file can declare a 6 GB array that deflates to a few MB:
``numpy.load`` decompresses all of it before anyone sees the shape (measured on a 6 GB bomb,
tests/test_weights_file.py: 42 s and 6 GB; refused here in 0.01 s and 0.1 MB). So
:func:`read_weights` checks the whole file from what it declares first — the zip's central
directory (its size read from the end record before ``zipfile`` parses it), the members' names,
compression and declared sizes, and each member's ``.npy`` header (read with numpy's header
readers, never unpickling: object dtypes are refused) — and reads arrays only when all of it
fits. Reading then costs the declared bytes (at most
twice the model's, as float64 for a float32 model) plus numpy's 256 KB read buffer.

With the graph's parameter shapes and ``strict``, names and shapes must be the graph's exactly.
Otherwise (a project's companion weights, which may hold weights of an earlier graph) arrays
that fit the graph are read, and the rest share a fixed budget, :data:`MAX_OTHER_BYTES`.
"""

from __future__ import annotations

import io
import math
import os
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

import numpy as np
from numpy.lib import format as npy

from rnn_builder.errors import WeightsFileError
from rnn_builder.files.disk import atomic_write
from rnn_builder.values import names_mismatch, short

if TYPE_CHECKING:
    from rnn_builder.engine.executor import Executor

MAX_MEMBERS = 10_000  # or the graph's count of tensors, if larger
# What zipfile reads and parses to list the members, per member (at least 46 bytes each).
DIRECTORY_BYTES_PER_MEMBER = 400
MAX_OTHER_BYTES = 64_000_000  # arrays that do not fit the graph (or with no graph)
MAX_HEADER_BYTES = 10_000  # numpy's own default limit on a header
_NUMBER_KINDS = "fiu"  # floats and integers, as the executor converts them to its dtype
_MOST_VALUES = 2**60  # beyond any file a zip can hold (2**64 bytes)
_HEADER_READERS = {
    (1, 0): ("<H", npy.read_array_header_1_0),
    (2, 0): ("<I", npy.read_array_header_2_0),
}
_END_RECORD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


class _Member(NamedTuple):
    info: zipfile.ZipInfo
    name: str  # without ".npy"


class _Header(NamedTuple):
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    size: int  # bytes of data declared


def size_text(count: float) -> str:
    """A byte count in words: '40.0 GB', '12.3 MB', '512 bytes'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{int(count)} bytes"


def read_weights(
    path: str | os.PathLike[str],
    expected: Mapping[str, tuple[int, ...]] | None = None,
    strict: bool = True,
) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` by name, checked before any is read; raises
    :class:`WeightsFileError` with one line naming the file and the problem. With
    ``expected`` (name -> shape) and ``strict``, the names and shapes must be exactly those;
    see the module docstring for the other cases."""
    path = Path(path)
    expected = {} if expected is None else {k: tuple(v) for k, v in expected.items()}
    strict = strict and bool(expected)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise WeightsFileError(f"'{path}' is not a weights file (a folder, device or pipe?)")
        most = max(MAX_MEMBERS, len(expected))
        with open(path, "rb") as stream:
            _check_central_directory(path, stream, info.st_size, most)
            with zipfile.ZipFile(stream) as archive:
                members = _members(path, archive, most)
                declared = {m.name: _declared(path, archive, m) for m in members}
                _check_fit(path, declared, expected, strict, info.st_size)
                return {m.name: _read_array(path, archive, m, declared[m.name]) for m in members}
    except FileNotFoundError:
        raise WeightsFileError(f"there is no weights file '{path}'") from None
    except PermissionError:
        raise WeightsFileError(f"'{path}' cannot be read: permission denied") from None
    except MemoryError:
        raise WeightsFileError(f"'{path}' holds more weights than fit in memory") from None
    except (
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        struct.error,
        zipfile.BadZipFile,
        zlib.error,
    ) as error:
        raise WeightsFileError(f"'{path}' is not a readable .npz weights file ({error})") from None


def _check_central_directory(path: Path, stream: BinaryIO, file_size: int, most: int) -> None:
    """Refuse a central directory too large to list, found as ``zipfile`` finds it (the end
    record at the very end, else the last one in the final 64 KB), before it parses it."""
    tail_size = min(file_size, _END_RECORD.size + 65535)
    stream.seek(file_size - tail_size)
    tail = stream.read(tail_size)
    at = len(tail) - _END_RECORD.size
    if at < 0 or not (tail[at:].startswith(b"PK\x05\x06") and tail.endswith(b"\x00\x00")):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        raise WeightsFileError(f"'{path}' is not a readable .npz weights file (not a zip file)")
    fields = _END_RECORD.unpack_from(tail, at)
    entries, directory_size = fields[4], fields[5]
    locator_at = file_size - tail_size + at - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        stream.seek(locator_at)
        locator = stream.read(_ZIP64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            stream.seek(file_size - tail_size + at - _ZIP64_LOCATOR.size - _ZIP64_END_RECORD.size)
            record = stream.read(_ZIP64_END_RECORD.size)
            if len(record) == _ZIP64_END_RECORD.size and record[:4] == b"PK\x06\x06":
                zip64 = _ZIP64_END_RECORD.unpack(record)
                entries, directory_size = zip64[7], zip64[8]
    if entries > most or directory_size > most * DIRECTORY_BYTES_PER_MEMBER:
        raise WeightsFileError(
            f"'{path}' lists {entries:,} arrays in {size_text(directory_size)}; a weights "
            f"file here holds at most {most:,}"
        )


def _members(path: Path, archive: zipfile.ZipFile, most: int) -> list[_Member]:
    infos = archive.infolist()
    if len(infos) > most:  # the end record can understate it; the listing cannot
        raise WeightsFileError(
            f"'{path}' holds {len(infos):,} arrays; a weights file here holds at most {most:,}"
        )
    members, seen = [], set()
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if not info.filename.endswith(".npy") or info.is_dir():
            raise WeightsFileError(f"'{path}': '{info.filename}' is not a .npy array")
        if name in seen:
            raise WeightsFileError(f"'{path}' holds '{name}' twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Others are never written by numpy; LZMA's decoder may want gigabytes.
            raise WeightsFileError(f"'{path}': '{name}' is compressed in a way numpy never writes")
        if info.flag_bits & 0x1:
            raise WeightsFileError(f"'{path}': '{name}' is encrypted")
        seen.add(name)
        members.append(_Member(info, name))
    return members


def _header(path: Path, stream: BinaryIO, name: str) -> _Header:
    """A member's ``.npy`` header, read with numpy's readers (which never unpickle) once its
    length is checked here: numpy's own refusal of a long header is three lines."""
    version = npy.read_magic(stream)
    if version not in _HEADER_READERS:  # 3.0 only adds UTF-8 field names, never weights
        raise WeightsFileError(f"'{path}': '{name}' is a .npy of version {version}")
    length_format, read_header = _HEADER_READERS[version]
    length_bytes = stream.read(struct.calcsize(length_format))
    (length,) = struct.unpack(length_format, length_bytes)
    if length > MAX_HEADER_BYTES:
        raise WeightsFileError(
            f"'{path}': '{name}' has a .npy header of {length:,} bytes; a weights file's "
            f"headers hold at most {MAX_HEADER_BYTES:,}"
        )
    text = stream.read(length)
    if len(text) != length:
        raise EOFError(f"'{name}' ends in its header")
    try:
        # numpy parses the text as a Python literal: what a damaged one raises is numpy's
        # parser's business (tokenize.TokenError, SyntaxError, MemoryError when too complex,
        # ...), and each means the same here. A Python 2 header is mended with a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape, fortran_order, dtype = read_header(
                io.BytesIO(length_bytes + text), MAX_HEADER_BYTES
            )
    except Exception:
        raise WeightsFileError(
            f"'{path}': '{name}' has a damaged .npy header (not the dictionary numpy writes)"
        ) from None
    if dtype.hasobject or dtype.kind not in _NUMBER_KINDS or dtype.itemsize > 8:
        raise WeightsFileError(f"'{path}': '{name}' holds {dtype} values, not numbers")
    # Booleans pass numpy's check of whole numbers; two negatives would multiply to a size;
    # and a size no file can hold would overflow the arithmetic of the checks after this.
    if any(isinstance(n, bool) or n < 0 for n in shape) or math.prod(shape) > _MOST_VALUES:
        raise WeightsFileError(
            f"'{path}': '{name}' declares an impossible shape {short(shape, 60)}"
        )
    return _Header(shape, fortran_order, dtype, math.prod(shape) * dtype.itemsize)


def _declared(path: Path, archive: zipfile.ZipFile, member: _Member) -> _Header:
    """A member's header, which must agree with the zip's declared size of the member."""
    with archive.open(member.info) as stream:
        header = _header(path, stream, member.name)
        header_size = stream.tell()
    if header_size + header.size != member.info.file_size:
        raise WeightsFileError(
            f"'{path}': '{member.name}' declares shape {header.shape}, "
            f"{size_text(header.size)}, but the zip holds "
            f"{size_text(member.info.file_size - header_size)} for it (a damaged file)"
        )
    return header


def _check_fit(
    path: Path,
    declared: dict[str, _Header],
    expected: dict[str, tuple[int, ...]],
    strict: bool,
    file_size: int,
) -> None:
    mismatch = names_mismatch(expected, declared) if strict else None
    if mismatch:
        raise WeightsFileError(f"'{path}': {mismatch}")
    other = 0
    for name, (shape, _fortran_order, _dtype, size) in declared.items():
        if expected.get(name) == shape:
            continue
        if strict:
            raise WeightsFileError(
                f"'{path}': '{name}' declares shape {shape}, {size_text(size)}; the graph "
                f"expects {expected[name]}"
            )
        other += size
        if other > MAX_OTHER_BYTES:
            if not expected:
                fit, rest = "", "weights read without a graph"
            elif name in expected:
                fit, rest = f" (the graph expects {expected[name]})", "weights that do not fit"
            else:
                fit, rest = " (not in the graph)", "weights that do not fit"
            raise WeightsFileError(
                f"'{path}': '{name}' declares shape {shape}, {size_text(size)}{fit}; "
                f"{rest} may take at most {size_text(MAX_OTHER_BYTES)}"
            )
    # Compressed data can outgrow its data only by deflate's few bytes a block; much more is
    # padding that would take time to decompress for nothing.
    total = sum(header.size for header in declared.values())
    room = total + total // 64 + (DIRECTORY_BYTES_PER_MEMBER + 1024) * (len(declared) + 64)
    if file_size > room:
        raise WeightsFileError(
            f"'{path}' is {size_text(file_size)}, far more than the "
            f"{size_text(total)} of weights it declares"
        )


def _read_array(
    path: Path, archive: zipfile.ZipFile, member: _Member, declared: _Header
) -> np.ndarray:
    """The member's data as its checked header declared it (a header that changed since, in
    a file rewritten meanwhile, is refused, not trusted), read in slices straight into the
    array: no second copy of it."""
    with archive.open(member.info) as stream:
        if _header(path, stream, member.name) != declared:
            raise WeightsFileError(f"'{path}' changed while it was read")
        array = np.empty(math.prod(declared.shape), declared.dtype)
        view = memoryview(array).cast("B")
        for start in range(0, declared.size, npy.BUFFER_SIZE):
            chunk = view[start : start + npy.BUFFER_SIZE]
            if stream.readinto(chunk) != len(chunk):
                raise EOFError(f"'{member.name}' ends early")
    if declared.fortran_order:
        return array.reshape(declared.shape[::-1]).transpose()
    return array.reshape(declared.shape)


def save_weights(executor: Executor, path: str | os.PathLike[str]) -> Path:
    """Write an executor's parameters as ``.npz`` (atomically), named as in its
    :attr:`~rnn_builder.engine.executor.Executor.parameters`: what :func:`read_weights` and
    :func:`~rnn_builder.export.weights_import.load_weights` read back."""
    buffer = io.BytesIO()
    np.savez(buffer, **dict(executor.parameters.items()))
    path = Path(path)
    atomic_write(path, buffer.getvalue())
    return path
