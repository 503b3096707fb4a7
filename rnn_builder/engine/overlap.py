"""Work beside a time loop: what only needs steps the loop has finished runs chunk by chunk on
a helper thread while the loop goes on (NumPy lets go of the interpreter inside its products
and element-wise loops, so the two run on two cores)."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from queue import SimpleQueue

import numpy as np

from rnn_builder.engine.floats import flushing, set_flushing
from rnn_builder.engine.threads import one_thread

Array = np.ndarray


def gate_products(grad: Array, z: Array) -> Array:
    """Σ_t grad_t · z_tᵀ over every step and example, as one matrix product:
    ``grad (T, G, B)``, ``z (T+1, K, B)`` → ``(G, K)``."""
    steps, gates, batch = grad.shape
    by_gate = np.ascontiguousarray(grad.transpose(1, 0, 2)).reshape(gates, steps * batch)
    by_row = np.ascontiguousarray(z[:steps].transpose(1, 0, 2)).reshape(z.shape[1], -1)
    return by_gate @ by_row.T


# Work that only needs steps the time loop has finished — the weight gradients of the backward
# pass, the factors the forward pass keeps for it — runs chunk by chunk on a helper thread while
# the loop goes on: NumPy lets go of the interpreter inside its products and element-wise loops,
# so the two run on two cores. Below the thresholds the hand-off (~50 µs) costs more than it saves.
# Whether a pass may use the helper at all is the runtime's setting (``runtime.Runtime``).
OVERLAP_MACS = 20_000_000  # multiply-adds of a weight-gradient product
OVERLAP_ELEMENTS = 500_000  # elements of the forward pass's factors
CHUNKS = 6


def _helper() -> ThreadPoolExecutor:
    return one_thread("overlap")


# The NumPy error handling, buffer and subnormal mode the helper thread was last given (each chunk
# brings its caller's; setting them only when they change spares two ctypes calls and NumPy
# calls per chunk, measured 3-5 % of a pass at hidden 128: each lets go of the interpreter lock).
_helper_modes = threading.local()

# Per calling thread: whether its passes may use the helper, and its hand-offs still open.
_this_thread = threading.local()


class Chunked:
    """Calls ``work(lo, hi)`` for every chunk of steps ``lo:hi`` of a time loop, each as soon
    as the loop has finished its steps: the loop calls :meth:`ready` after step ``t`` (a forward
    loop counts up, a backward loop down), and the finished chunks go to the helper thread.
    :meth:`results` does the rest here and returns every chunk's result.

    The helper takes the chunks of one pass as one task, reading their bounds from a queue:
    handing on a chunk is then one ``put`` (~1 µs) instead of a submitted task with its future
    (measured ~25 µs of the loop's time each, and the helper's own bookkeeping took the
    interpreter lock from the loop once more per chunk).

    The chunks depend on the sizes alone: where the pass may not use the helper, the loop does
    each chunk itself when it is finished, so the results are the same bits either way (the
    helper's chunks sum in another order than one piece would)."""

    def __init__(self, steps: int, work, big: bool, backward: bool = False) -> None:
        self.work, self.backward = work, backward
        self.steps = steps
        self.edge = steps if backward else 0  # where the steps not yet handed on begin / end
        split = big and steps >= CHUNKS
        self.chunk = math.ceil(steps / CHUNKS) if split else steps + 1
        self.inline: list | None = None if getattr(_this_thread, "helper", True) else []
        errors = np.geterr()  # NumPy's error handling and buffer are per thread: the helper
        # gets ours, and so the subnormal modes
        self.modes = (tuple(sorted(errors.items())), np.getbufsize(), flushing())
        self.queue: SimpleQueue | None = None  # chunk bounds for the helper, None: the end
        self.task: Future | None = None

    def ready(self, t: int) -> None:
        if self.backward and self.edge - t >= self.chunk:
            self._hand_on(t, self.edge)
            self.edge = t
        elif not self.backward and t + 1 - self.edge >= self.chunk:
            self._hand_on(self.edge, t + 1)
            self.edge = t + 1

    def _hand_on(self, lo: int, hi: int) -> None:
        if self.inline is not None:  # no helper: the same chunk, done here
            self.inline.append(self.work(lo, hi))
            return
        if self.queue is None:
            _end_waiting()  # a thread runs its loops one at a time: any still open was cut short
            self.queue = SimpleQueue()
            _waiting().add(self.queue)
            self.task = _helper().submit(_take_chunks, self.queue, self.work, self.modes)
        self.queue.put((lo, hi))

    def results(self) -> list:
        lo, hi = (0, self.edge) if self.backward else (self.edge, self.steps)
        if self.queue is not None:
            self.queue.put(None)
            _waiting().discard(self.queue)
        rest = [self.work(lo, hi)] if lo < hi else []
        if self.inline is not None:
            return rest + self.inline
        return rest if self.task is None else rest + self.task.result()


def _take_chunks(queue: SimpleQueue, work, modes) -> list:
    """On the helper: every chunk of one pass handed on, until the end (None) comes."""
    if getattr(_helper_modes, "modes", None) != modes:
        errors, buffer, flush = modes
        np.seterr(**dict(errors))
        np.setbufsize(buffer)
        set_flushing(flush)
        _helper_modes.modes = modes
    parts = []
    while (bounds := queue.get()) is not None:
        parts.append(work(*bounds))
    return parts


def _waiting() -> set:
    """This thread's hand-offs whose helper task still waits for chunks."""
    waiting = getattr(_this_thread, "waiting", None)
    if waiting is None:
        waiting = _this_thread.waiting = set()
    return waiting


@contextlib.contextmanager
def loops_ended(helper: bool = True) -> Iterator[None]:
    """Within the block, this thread's time loops hand work to the helper only if ``helper``
    (outside any block they may: a kernel called on its own works as in a default pass). When
    the block ends, however it ends, tell the helper that this thread's unfinished loops will
    hand on nothing more. A loop cut short (an error, Ctrl-C) never asks for its results, and
    its task would otherwise wait on the one helper thread for ever, blocking every later pass
    and the interpreter's exit. Each of the executor's passes runs in one. (One context for
    both: a second one cost each pass 3 µs, measured.)"""
    previous = getattr(_this_thread, "helper", True)
    _this_thread.helper = helper
    try:
        yield
    finally:
        _this_thread.helper = previous
        _end_waiting()


def _end_waiting() -> None:
    waiting = _waiting()
    while waiting:
        waiting.pop().put(None)


class Products(Chunked):
    """:func:`gate_products` of ``grad (T, G, B)`` and ``z``, summed chunk by chunk during
    the backward loop."""

    def __init__(self, grad: Array, z: Array) -> None:
        steps, gates, batch = grad.shape
        big = gates * z.shape[1] * steps * batch >= OVERLAP_MACS
        super().__init__(steps, lambda lo, hi: gate_products(grad[lo:hi], z[lo:hi]), big, True)
        self.shape, self.dtype = (gates, z.shape[1]), grad.dtype

    def total(self) -> Array:
        total = np.zeros(self.shape, self.dtype)  # (no steps: no gradient)
        for part in self.results():
            total += part
        return total


def worth_it(elements: int) -> bool:
    """Whether element-wise work of this size is worth handing to the helper."""
    return elements >= OVERLAP_ELEMENTS
