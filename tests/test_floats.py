"""The executor's passes compute with subnormal floats flushed to zero, and only its passes."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine import floats
from rnn_builder.engine import overlap as chunking
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.ops import CellOp
from rnn_builder.graph.model import Graph

from .helpers import wire
from .numerics import random_batch

pytestmark = pytest.mark.skipif(floats._FENV is None, reason="x86-64 glibc only")

TINY, SMALL = np.float32(1e-30), np.float32(1e-10)  # their product, 1e-40, is subnormal


def test_the_block_flushes_subnormals_and_puts_the_mode_back_even_after_an_error():
    assert TINY * SMALL > 0 and not floats.flushing()
    with floats.subnormals_flushed():
        assert TINY * SMALL == 0 and floats.flushing()
        assert np.all(np.full(8, TINY) * SMALL == 0)  # NumPy's vector loops too
    assert TINY * SMALL > 0 and not floats.flushing()
    with pytest.raises(RuntimeError), floats.subnormals_flushed():
        raise RuntimeError
    assert not floats.flushing()
    with floats.subnormals_flushed(flush=False):
        assert TINY * SMALL > 0


def test_forward_and_backward_run_flushed_and_leave_the_thread_as_it_was(monkeypatch):
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("rnn", node_id="cell", params={"hidden_size": 4})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "cell.x", "cell.y", "out.x")
    executor = Executor(g, seed=1)
    seen = []
    forward, backward = CellOp.forward, CellOp.backward

    def watched_forward(self, run, inputs):
        seen.append(("forward", float(TINY * SMALL)))
        return forward(self, run, inputs)

    def watched_backward(self, run, cache, grads):
        seen.append(("backward", float(TINY * SMALL)))
        return backward(self, run, cache, grads)

    monkeypatch.setattr(CellOp, "forward", watched_forward)
    monkeypatch.setattr(CellOp, "backward", watched_backward)
    executor.backward(executor.forward(random_batch(executor, steps=5)))
    assert seen == [("forward", 0.0), ("backward", 0.0)]
    assert not floats.flushing() and TINY * SMALL > 0


@pytest.mark.parametrize("flush", [True, False])
def test_the_helper_thread_takes_its_callers_mode(flush):
    modes = []

    def work(lo, hi):
        modes.append(floats.flushing())

    with floats.subnormals_flushed(flush):
        chunks = chunking.Chunked(12, work, big=True)
        for t in range(12):
            chunks.ready(t)
        chunks.results()
    assert len(modes) == chunking.CHUNKS and set(modes) == {flush}


@pytest.mark.parametrize("buffer", [512, 8192])
def test_the_helper_thread_takes_its_callers_numpy_buffer(buffer):
    sizes = []

    def work(lo, hi):
        sizes.append(np.getbufsize())

    previous = np.setbufsize(buffer)
    try:
        chunks = chunking.Chunked(12, work, big=True)
        for t in range(12):
            chunks.ready(t)
        chunks.results()
    finally:
        np.setbufsize(previous)
    assert len(sizes) == chunking.CHUNKS and set(sizes) == {buffer}


def test_the_helper_thread_takes_its_callers_numpy_error_handling():
    """The helper keeps the modes it was last given between chunks; a caller with other
    settings still gets its own, in either order."""

    def work(lo, hi):
        return np.ones(2, np.float32) / np.zeros(2, np.float32)

    def chunked():
        chunks = chunking.Chunked(12, work, big=True)
        for t in range(12):
            chunks.ready(t)
        return chunks.results()

    for _ in range(2):
        with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
            chunked()
        with np.errstate(divide="ignore"):
            assert all(np.isinf(part).all() for part in chunked())


def test_vanishing_gradients_leave_no_subnormals_behind():
    """A tanh RNN whose gradient vanishes over 200 steps: flushed, d loss / d h reaches exact
    zeros without passing through the slow subnormal range (almost: plain copies keep what
    they copy); unflushed, thousands of its entries are subnormal."""
    from rnn_builder.engine.cells import CellWeights, ElmanCell

    rng = np.random.default_rng(0)
    hidden, features, batch, steps = 16, 4, 8, 200
    weights = CellWeights(
        rng.uniform(-0.2, 0.2, (hidden, features)).astype(np.float32),
        (rng.standard_normal((hidden, hidden)) * 0.3 / np.sqrt(hidden)).astype(np.float32),
        np.zeros(hidden, np.float32),
        np.zeros(hidden, np.float32),
    )
    cell = ElmanCell()
    x = rng.standard_normal((steps, batch, features)).astype(np.float32)
    dy = np.zeros((steps, batch, hidden), np.float32)
    dy[-1] = 1.0

    def subnormal_entries() -> int:
        _y, _final, cache = cell.forward(weights, x, (np.zeros((batch, hidden), np.float32),))
        dhs = cell.backward(weights, cache, dy, (None,))[3]
        return int(((np.abs(dhs) < np.finfo(np.float32).tiny) & (dhs != 0)).sum())

    unflushed = subnormal_entries()
    with floats.subnormals_flushed():
        flushed = subnormal_entries()
    assert unflushed > 1000 and flushed < unflushed / 100, (unflushed, flushed)
