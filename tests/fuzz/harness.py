"""What every fuzz case holds to, and the figures the run keeps.

Each case must end in one of two ways: accepted, or refused with the project's own error (an
``RNNBuilderError``, or the message and runs modules' own) whose message is one line; through
the CLI, an exit status other than 3 ("internal error") and one line on stderr for a refusal.
No case may hang: each runs under a deadline (:func:`deadline`), generous because the machine's
speed is not the question, and ``tests/conftest.py`` ends a stuck test after ``hang_limit``.

How many cases run: a few in CI, thousands on demand (``RNN_BUILDER_FUZZ=full``); each test
runs in batches (:func:`batches`) so that one batch stays well inside the hang limit. The
counts, the refusals, and the worst time and memory of each kind are printed at the end of
the run (``tests/fuzz/conftest.py``) and, with ``RNN_BUILDER_FUZZ_REPORT=FILE``, written there
as JSON.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from rnn_builder.cli.main import main

FULL = os.environ.get("RNN_BUILDER_FUZZ", "").lower() == "full"
CASE_SECONDS = 120  # a case taking longer has hung (the slowest honest one takes seconds)


def batches(small: int, full: int, per_batch: int) -> list[tuple[int, int]]:
    """``(batch, cases in it)`` for the count of this run (CI's ``small`` or the ``full``)."""
    total = full if FULL else small
    return [(b, min(per_batch, total - b * per_batch)) for b in range(-(-total // per_batch))]


def seeds(target: str, batch: int, count: int) -> Iterator[int]:
    base = sum(ord(c) * 131**i for i, c in enumerate(target)) % 1_000_003
    for case in range(count):
        yield base * 1_000_000 + batch * 10_000 + case


class Hang(Exception):
    pass


@contextlib.contextmanager
def deadline(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread if the block takes longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Figures:
    cases: int = 0
    refused: int = 0
    deep: int = 0  # cases that went past the reader: trained, read, loaded
    worst_seconds: float = 0.0
    worst_case: str = ""
    peak_bytes: int = 0
    peak_case: str = ""
    notes: list[str] = field(default_factory=list)


FIGURES: dict[str, Figures] = {}


@contextlib.contextmanager
def case(target: str, name: str) -> Iterator[Figures]:
    """One case of ``target``: counted, timed, its memory peak noted, under a deadline."""
    figures = FIGURES.setdefault(target, Figures())
    before = peak_bytes()
    start = time.perf_counter()
    with deadline():
        yield figures
    seconds = time.perf_counter() - start
    figures.cases += 1
    if seconds > figures.worst_seconds:
        figures.worst_seconds, figures.worst_case = seconds, name
    after = peak_bytes()
    if after > figures.peak_bytes:
        figures.peak_bytes = after
        if after > before:
            figures.peak_case = name


def one_line(message: str, what: str) -> None:
    assert message and "\n" not in message.rstrip("\n"), f"{what}: not one line: {message!r}"
    assert "Traceback" not in message, f"{what}: a traceback: {message!r}"


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli(*args: object, what: str = "") -> Result:
    """Run the CLI in this process and hold it to the rules: never exit 3, never a traceback,
    a refusal (exit 2) in one line on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main([str(a) for a in args], stdout=out)
    result = Result(code, out.getvalue(), err.getvalue())
    where = f"{what} {' '.join(str(a) for a in args)[:300]}"
    assert code != 3 and "internal error" not in result.err, f"{where}: {result.err}"
    assert "Traceback" not in result.out + result.err, where
    if code == 2:
        assert result.err.count("\n") == 1 and result.err.startswith("rnn-builder: error: "), (
            f"{where}: {result.err!r}"
        )
    return result
