"""Hostile weights files for the tests: an ``.npz`` whose member declares gigabytes of zeros
and deflates to a few megabytes (a zip bomb), built without ever holding the zeros.

Deflate after a full flush starts again with an empty history, so one chunk of zeros
compressed after a full flush gives the same bytes every time: the stream is the header's
bytes, then that chunk's bytes repeated, then the final block. The zip around it is written by
hand (zip64 sizes, as a member over 4 GB needs). Its CRC is left 0: computing the real one would
take seconds, and a reader that gets as far as the CRC has already decompressed everything,
which is the harm these files test for.
"""

from __future__ import annotations

import contextlib
import gc
import io
import resource
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHUNK = 15_000_000  # zeros compressed once and repeated: ~15 KB of deflate each


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A version 1.0 ``.npy`` header, padded as numpy pads it."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    text = repr(header).encode("latin1")
    prefix = b"\x93NUMPY\x01\x00"
    padding = 64 - (len(prefix) + 2 + len(text) + 1) % 64
    text += b" " * padding + b"\n"
    return prefix + struct.pack("<H", len(text)) + text


def deflated_zeros(header: bytes, zero_bytes: int) -> bytes:
    """Raw deflate of ``header`` followed by ``zero_bytes`` zeros (a multiple of CHUNK)."""
    if zero_bytes % CHUNK:
        raise ValueError(f"zero_bytes must be a multiple of {CHUNK}")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    chunk = compressor.compress(bytes(CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    return start + chunk * (zero_bytes // CHUNK) + end


def write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of deflated ``(name, deflate_stream, uncompressed_size, crc)`` members, with
    zip64 sizes for every member."""
    local, central = bytearray(), bytearray()
    for name, stream, size, crc in members:
        encoded = name.encode()
        offset = len(local)
        zip64 = struct.pack("<HHQQ", 1, 16, size, len(stream))
        local += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            45,
            0,
            8,
            0,
            0x21,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(encoded),
            len(zip64),
        )
        local += encoded + zip64 + stream
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            45,
            45,
            0,
            8,
            0,
            0x21,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(encoded),
            len(zip64),
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded + zip64
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path


def write_bomb(
    path: Path, name: str = "cell.weight_ih", gigabytes: float = 6.0, others: dict | None = None
) -> Path:
    """An ``.npz`` whose ``name`` declares ``gigabytes`` GB of float32 zeros (a few MB on
    disk), beside the small arrays ``others`` (name -> array, stored as numpy would)."""
    zero_bytes = int(gigabytes * 1e9) // CHUNK * CHUNK
    header = npy_header((zero_bytes // 4,))
    members = [(name + ".npy", deflated_zeros(header, zero_bytes), len(header) + zero_bytes, 0)]
    for other, value in (others or {}).items():
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value))
        raw = buffer.getvalue()
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        members.append(
            (
                other + ".npy",
                compressor.compress(raw) + compressor.flush(),
                len(raw),
                zlib.crc32(raw),
            )
        )
    return write_zip(path, members)


class Cost:
    """What a block of code cost: seconds, the peak of traced allocations (numpy reports its
    arrays to tracemalloc, so an array allocated and never touched counts too) and the growth
    of the process's peak resident memory."""

    seconds = traced_peak = rss_growth = 0.0

    def __repr__(self) -> str:
        return (
            f"{self.seconds:.2f} s, traced peak {self.traced_peak / 1e6:.1f} MB, "
            f"peak RSS growth {self.rss_growth / 1e6:.1f} MB"
        )


@contextlib.contextmanager
def measured() -> Iterator[Cost]:
    cost = Cost()
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KB on Linux
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - start
        cost.traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        cost.rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
