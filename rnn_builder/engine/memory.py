"""Keeping freed memory in the process, so that a training step does not fault in fresh pages.

A training step allocates its temporaries anew — gate activations, the factors the backward pass
multiplies by, transposed copies; about 16 MB at an LSTM of hidden 128 — and frees them at the
end. glibc's allocator gives blocks above its *mmap threshold* straight back to the operating
system, and trims the heap's free top beyond its *trim threshold*; both start at 128 KiB. The
next step then gets fresh pages, and the kernel zero-fills each one on its first write: measured
here 4,000 page faults per step at an LSTM of hidden 128, and 40–45 % of the step's time at
hidden 32 to 256 (``benchmarks/train_step.py``, with and without this).

:func:`keep_freed_memory` raises both thresholds (the mmap threshold to glibc's maximum, 32 MiB),
so freed blocks stay in the heap and the next step reuses pages already mapped. The price is
that the process keeps up to the peak of its temporaries mapped (a few hundred MB at most for
the largest graphs the editor builds). Only glibc has these knobs; elsewhere (and when the user
set ``MALLOC_*`` variables or ``GLIBC_TUNABLES`` themselves) it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  # from <malloc.h>
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's upper limit on 64-bit systems
TRIM_THRESHOLD = 512 * 2**20

_kept: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they are raised."""
    global _kept
    if _kept is None:
        _kept = _raise_thresholds()
    return _kept


def _raise_thresholds() -> bool:
    if not sys.platform.startswith("linux") or _user_tuned():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def _user_tuned() -> bool:
    return any(name.startswith("MALLOC_") for name in os.environ) or "malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    )
