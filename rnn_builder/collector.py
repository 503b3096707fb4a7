"""When Python's cyclic garbage collector may run: the process's one policy.

CPython collects cycles whenever an allocation pushes a generation's count over its threshold,
in whichever thread allocates and inside whatever call is running. In a Qt process that is
unsafe. Garbage cycles can hold Qt objects (closed windows, pyqtgraph menus), and their
destructors take Qt's signal-slot lock. Qt itself calls into Python while it holds that lock:
``QObject::disconnect``, run by PySide when the receiver of a connection dies, asks the
Python wrapper of the sender for a ``disconnectNotify`` override, and the failed attribute
lookup allocates an exception. If that allocation starts a collection that frees a Qt object
guarded by the same mutex (Qt keeps a pool of 131, chosen by address), the thread waits for
itself for ever. ``tests/ui/test_garbage_collection.py`` reproduces this with five closed
plot windows: without this policy the process hangs every time.

So a process with Qt objects (the app, the GUI tests) turns automatic collection off once,
with :func:`collect_at_safe_points`, and collects only where nothing of Qt's is on the stack:

- the GUI thread's event loop calls :func:`collect_if_due` from a timer
  (``ui.collector.SafePointCollector``); it does what the automatic collector would have done,
  by the same thresholds, so memory stays bounded as before;
- worker threads (training, data loading, the overlap helper) never collect: their cycles wait
  for the GUI thread's next tick.

A process without Qt (the CLI, the core's tests) keeps automatic collection. Code that only
wants the collector out of the way for a while (unrolling builds tens of thousands of small
acyclic objects) uses :func:`paused`, which nests across threads and never turns automatic
collection back on in a process that has turned it off.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pauses = 0
_automatic = True  # False once a process has chosen safe points


def collect_at_safe_points() -> None:
    """Turn automatic collection off for the rest of the process; the caller promises to call
    :func:`collect_if_due` (or :func:`gc.collect`) at safe points from then on."""
    global _automatic
    with _lock:
        _automatic = False
        gc.disable()


def collects_automatically() -> bool:
    return _automatic


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (from any thread; blocks may nest and overlap).
    Afterwards the collector is back on only if the process collects automatically."""
    global _pauses
    with _lock:
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _automatic:
                gc.enable()


def collect_if_due() -> int:
    """Collect the generation the automatic collector would collect now, if any (by the counts
    and thresholds of :func:`gc.get_count` / :func:`gc.get_threshold`, which CPython keeps up
    to date while automatic collection is off). Returns the generation collected, or -1."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if not thresholds[0] or counts[0] <= thresholds[0]:
        return -1
    generation = 0
    if counts[1] > thresholds[1]:
        generation = 2 if counts[2] > thresholds[2] else 1
    gc.collect(generation)
    return generation
