"""Both cores for a large cell's time loop where the process is ours, chosen by measuring as
it runs.

A cell's time loop makes one matrix product per step each way. From about 1 M multiply-adds a
product (hidden 96 and up at batch 32) OpenBLAS splits it between two threads: at hidden 128
the forward step's product took 30 µs on two threads against 52 µs on one, and a training step
of an LSTM of hidden 128 took 0.68 of its time with the helper thread beside the loop
(``overlap``). The weight-gradient product over all steps, 10 M multiply-adds at hidden 32,
took 0.16 ms on two threads against 0.26 ms.

On a machine whose second core is taken by another process it goes the other way, and far:
two OpenBLAS threads meet at the end of every product, and one the scheduler has put aside
holds the other up for a time slice. With two test suites running beside it, the same LSTM
step took 2–8 times as long on two threads as on one. So no size alone says whether two
threads pay; running both and comparing does. Each kind of loop (:func:`loop_key`: the cell,
forward or backward, its sizes) runs either

* on **one** BLAS thread with the helper thread beside it (``overlap``), or
* on **two** BLAS threads, the helper's chunks done in the loop (three threads on two cores
  measured slower than either),

and the median time per step of its last three runs on each decides which runs next. The
other is tried again now and then — after 8 runs, then 16, 32, … up to 128 while it keeps
losing, at once again when a try beats the median, after 8 once the winner changes — so a
machine that gets busy is followed within three runs and one that gets quiet within 130, at the
price of a slow run now and then.

Only programs that own their process ask for this (``Runtime.loop_threads``: the command
line, the training process); the editor keeps its passes on one thread, beside the window.
The choice changes no result: OpenBLAS splits a product's rows and columns between its
threads, never a sum, so each element comes out the same (``tests/test_two_cores.py``), and
the helper's chunks are the same chunks when the loop does them.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

from rnn_builder.engine.overlap import loops_ended
from rnn_builder.engine.threads import blas_threads

# Loops whose products all stay below what OpenBLAS splits are not timed (two threads cannot
# change them): the largest product of a pass, the weight gradients over all steps.
SPLIT_MACS = 2_000_000
FIRST_PROBE, LAST_PROBE = 8, 128  # runs between two tries of the losing choice
KEPT = 3  # the last runs of each choice, whose median decides


@dataclass
class Choice:
    """What one kind of loop measured on one and on two threads, and what runs next."""

    seconds: dict[int, deque] = field(
        default_factory=lambda: {1: deque(maxlen=KEPT), 2: deque(maxlen=KEPT)}
    )
    best: int = 1
    interval: int = FIRST_PROBE
    since: int = 0  # runs of the best since the other was last tried

    def next(self) -> int:
        """How many threads the next run uses: each choice until it has KEPT runs, then the
        faster, and the other once after ``interval`` runs of it."""
        ones, twos = len(self.seconds[1]), len(self.seconds[2])
        if min(ones, twos) < KEPT:
            return 1 if ones <= twos else 2
        return 3 - self.best if self.since >= self.interval else self.best

    def record(self, threads: int, seconds_per_step: float) -> None:
        self.seconds[threads].append(seconds_per_step)
        if threads == self.best:
            self.since += 1
        else:
            self.since = 0
        if min(len(times) for times in self.seconds.values()) < KEPT:
            return
        medians = {n: sorted(times)[KEPT // 2] for n, times in self.seconds.items()}
        best = medians[self.best]
        faster = min(medians, key=medians.__getitem__)
        if faster != self.best:
            self.best, self.interval, self.since = faster, FIRST_PROBE, 0
        elif threads != self.best:
            if seconds_per_step < best:  # faster this time: look again at once
                self.since = self.interval
            else:  # tried again, and lost again: try it less often
                self.interval = min(2 * self.interval, LAST_PROBE)


class LoopThreads:
    """The process's choices, one per kind of loop (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.choices: dict[Hashable, Choice] = {}

    @contextlib.contextmanager
    def loop(self, key: Hashable, steps: int) -> Iterator[int]:
        """Run the block (one cell's loop of ``steps`` steps) on the threads chosen for
        ``key``; yields the number of BLAS threads."""
        choice = self.choices.get(key)
        if choice is None:
            choice = self.choices[key] = Choice()
        threads = choice.next()
        start = self.clock()
        if threads == 1:
            yield 1
        else:
            with blas_threads(2), loops_ended(helper=False):
                yield 2
        choice.record(threads, (self.clock() - start) / max(steps, 1))


def loop_key(cell, direction: str, steps: int, batch: int, features: int, hidden: int, dtype):
    """The kind of a cell's loop, or None for one too small for two threads to matter."""
    macs = cell.gates * hidden * (features + 1 + hidden) * batch * steps
    if macs < SPLIT_MACS:
        return None
    return (type(cell).__qualname__, direction, batch, features, hidden, str(dtype))
