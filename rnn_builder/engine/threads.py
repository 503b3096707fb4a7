"""How many threads BLAS may use, and the process's own one-thread pools.

The executor's time loops make many small matrix products, for which a second BLAS thread only
costs: waking it, and its spinning afterwards, which on a two-core machine slows the GUI thread
and whatever else runs (measured here: a second OpenBLAS thread made the weight-gradient product
faster but PyTorch, run next, up to three times slower). So the executor runs BLAS on one
thread. The second core is used on purpose instead: for large cells, the work that does not
have to wait for the time loop runs beside it on a helper thread (see ``overlap.Chunked``);
and in a process that is ours alone, a large cell's loop may run on two BLAS threads where
measuring shows it pays (``two_cores``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # a plain NumPy still works, only without the thread control
    ThreadpoolController = None

_libraries: list | None = None

# OpenBLAS's idle threads spin before they sleep: by default 2^28 processor cycles, ~0.1 s,
# after each of its products on two threads. Within a two-thread loop a step's element-wise work
# is ~10-20 µs between two products, so 2^18 cycles (~0.1 ms) keeps the second thread awake
# through a loop and lets it sleep after; spinning on, it took the second core from whatever ran
# next: PyTorch's step 2.3 times as long right after one two-thread product, 1.3 with 2^18, and
# the loops that chose one thread with the helper beside them (two_cores) (OpenBLAS reads it when
# it loads: the programs that own their process set it before NumPy is imported).
SPIN_VARIABLE, SHORT_SPIN = "OPENBLAS_THREAD_TIMEOUT", "18"


def short_blas_spin(environment: dict | os._Environ = os.environ) -> None:
    """Ask for OpenBLAS's short spin in ``environment`` (this process's, before NumPy is
    imported, or a child's), unless it says otherwise already."""
    environment.setdefault(SPIN_VARIABLE, SHORT_SPIN)


def _blas() -> list:
    global _libraries
    if _libraries is None:
        _libraries = []
        if ThreadpoolController is not None:
            _libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


@contextlib.contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` BLAS threads, and put the count back after. Setting it
    is skipped where it already is (a switch and back costs ~5 µs a pass; the programs that own
    their process set it once, see :func:`set_blas_threads`)."""
    switched = [
        (library, count)
        for library in _blas()
        if (count := library.num_threads) is not None and count != threads
    ]
    for library, _ in switched:
        library.set_num_threads(threads)
    try:
        yield
    finally:
        for library, count in switched:
            library.set_num_threads(count)


def set_blas_threads(threads: int) -> None:
    """Set the process's BLAS threads for good (``Runtime.configure``)."""
    for library in _blas():
        library.set_num_threads(threads)


_pools: dict[str, ThreadPoolExecutor] = {}


def one_thread(name: str) -> ThreadPoolExecutor:
    """The process's one-thread pool called ``name``, made on first use (thread names
    ``rnn-builder-<name>``): the overlap helper, the editor's data loader."""
    pool = _pools.get(name)
    if pool is None:
        pool = _pools[name] = ThreadPoolExecutor(1, thread_name_prefix=f"rnn-builder-{name}")
    return pool
