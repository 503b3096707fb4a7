"""How the numerics run in this process, in one place: BLAS threads, subnormal floats, the
allocator, and the helper thread beside the time loop.

Two kinds of setting, kept apart:

* **For a pass** (:meth:`Runtime.pass_settings`, entered by every forward and backward pass of
  the executor and put back when it ends): BLAS limited to ``blas_threads`` (a second OpenBLAS
  thread spins and slows both the GUI and a second process), subnormal floats flushed to zero
  (:mod:`.floats`), NumPy's ufunc buffer held to ``ufunc_buffer`` elements (below), and the
  helper thread beside the time loop — whether the pass may use it (``helper_thread``), and
  telling it when the pass's loops end (:mod:`.overlap`).
* **For the process** (:meth:`Runtime.configure`, called once by the programs that own their
  process — ``main.py``, the command line, the training process, the benchmarks — never by a
  library call such as the executor's constructor): glibc's allocator keeps freed memory for
  the next step (:mod:`.memory`), BLAS runs on ``blas_threads`` outside the passes too (so a
  pass finds it so and need not switch it, ~5 µs a pass); and, for the command line and the
  training process, which have the machine's cores to themselves, ``loop_threads=2``: a large
  cell's time loop may run its products on two BLAS threads where measuring shows it pays
  (:meth:`Runtime.cell_loop`, :mod:`.two_cores`). The editor keeps every pass on one thread,
  beside the window.

NumPy's ufuncs go through a buffer of 8192 elements by default. Where an array is not
contiguous as a whole — each step's block of rows, taken over all steps at once, as the cells do
for the factors their backward pass multiplies by — NumPy gathers several steps' blocks into that
buffer and copies the result back instead of working on the blocks where they are: at hidden 32
(blocks of 32 × 32) a multiply over 50 steps took 17 µs instead of 6, and a buffer of 1024
elements made a whole training step of an LSTM or GRU at hidden 8–32 0.94–0.95 of its time
(no change at 128–256, whose blocks are larger than any buffer NumPy fills; casts and sums
measured alike with either size). NumPy keeps the setting per thread; the helper takes the pass's
(:mod:`.overlap`).

``runtime()`` is the process's one :class:`Runtime`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import numpy as np

from rnn_builder.engine.floats import subnormals_flushed
from rnn_builder.engine.memory import keep_freed_memory
from rnn_builder.engine.overlap import loops_ended
from rnn_builder.engine.threads import blas_threads, set_blas_threads
from rnn_builder.engine.two_cores import LoopThreads


@dataclass
class Runtime:
    blas_threads: int = 1
    loop_threads: int = 1
    flush_subnormals: bool = True
    helper_thread: bool = True
    ufunc_buffer: int = 1024  # elements (see the module's docstring)
    keep_freed_memory: bool = True
    configured: bool = False
    loops: LoopThreads = field(default_factory=LoopThreads, repr=False)

    def configure(self, loop_threads: int | None = None) -> Runtime:
        """Apply the process-wide settings (the allocator's once; later calls leave it), and
        set :attr:`loop_threads` when given."""
        if not self.configured:
            if self.keep_freed_memory:
                keep_freed_memory()
            set_blas_threads(self.blas_threads)  # so that a pass need not switch them
            self.configured = True
        if loop_threads is not None:
            self.loop_threads = loop_threads
        return self

    def cell_loop(self, key: Hashable | None, steps: int) -> AbstractContextManager:
        """The settings of one cell's loop inside a pass: the pass's own, or, with
        ``loop_threads`` 2 and a loop large enough (``key`` not None, see
        ``two_cores.loop_key``), one or two BLAS threads as measured to pay."""
        if key is None or self.loop_threads < 2:
            return contextlib.nullcontext(1)
        return self.loops.loop(key, steps)

    @contextlib.contextmanager
    def pass_settings(self) -> Iterator[None]:
        """The settings of one pass, put back when it ends however it ends."""
        with (
            blas_threads(self.blas_threads),
            subnormals_flushed(self.flush_subnormals),
            ufunc_buffer(self.ufunc_buffer),
            loops_ended(helper=self.helper_thread),
        ):
            yield


@contextlib.contextmanager
def ufunc_buffer(elements: int) -> Iterator[None]:
    """Within the block, NumPy's ufuncs on this thread buffer at most ``elements``."""
    previous = np.setbufsize(elements)
    try:
        yield
    finally:
        np.setbufsize(previous)


_RUNTIME = Runtime()


def runtime() -> Runtime:
    """The process's runtime (configure it where the process starts)."""
    return _RUNTIME
