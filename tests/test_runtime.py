"""A pass runs with the runtime's settings and puts them back; the executor's results do not
depend on whether the process was configured."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine import floats, overlap
from rnn_builder.engine import runtime as runtime_module
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.runtime import Runtime, runtime
from rnn_builder.engine.threads import _blas
from rnn_builder.files.templates import TEMPLATES, new_project

from .numerics import random_batch


def test_a_pass_limits_blas_threads_and_puts_them_back():
    libraries = _blas()
    before = [library.num_threads for library in libraries]
    seen = []
    with Runtime(blas_threads=1).pass_settings():
        seen = [library.num_threads for library in libraries]
    assert all(count == 1 for count in seen)
    assert [library.num_threads for library in libraries] == before


def test_configuring_the_process_changes_no_result():
    executor = Executor(new_project("many_to_one").graph, dtype=np.float64, seed=2)
    batch = random_batch(executor, lengths=[4, 2, 3])
    first = executor.forward(batch, train=True)
    executor.backward(first)
    grads = {k: v.copy() for k, v in executor.gradients.items()}
    runtime().configure()
    again = executor.forward(batch, train=True)
    executor.backward(again)
    assert float(first.loss) == float(again.loss)
    for name, value in executor.gradients.items():
        np.testing.assert_array_equal(value, grads[name], err_msg=name)


@pytest.mark.skipif(floats._FENV is None, reason="x86-64 glibc only")
def test_a_pass_sets_the_thread_s_modes_and_puts_them_back():
    libraries = _blas()
    outside = [library.num_threads for library in libraries], floats.flushing(), np.getbufsize()
    with Runtime().pass_settings():
        assert floats.flushing() and overlap._this_thread.helper
        assert np.getbufsize() == Runtime().ufunc_buffer != outside[2]
    with Runtime(flush_subnormals=False, helper_thread=False, ufunc_buffer=4096).pass_settings():
        assert not floats.flushing() and not overlap._this_thread.helper
        assert np.getbufsize() == 4096
    assert ([lib.num_threads for lib in libraries], floats.flushing(), np.getbufsize()) == outside
    assert overlap._this_thread.helper


def test_running_an_executor_leaves_the_thread_and_blas_as_they_were():
    libraries = _blas()
    outside = [library.num_threads for library in libraries], floats.flushing()
    executor = Executor(new_project("many_to_one").graph)
    executor.backward(executor.forward(random_batch(executor)))
    assert ([library.num_threads for library in libraries], floats.flushing()) == outside


def gradients_in(chosen: Runtime, name: str, monkeypatch) -> tuple[float, dict]:
    monkeypatch.setattr(runtime_module, "_RUNTIME", chosen)
    executor = Executor(new_project(name).graph, dtype=np.float64, seed=3)
    run = executor.loss_and_gradients(random_batch(executor, batch=4, steps=7))
    return run.loss, {key: value.copy() for key, value in executor.gradients.items()}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_runtime_gives_the_same_results(name, monkeypatch):
    """The pass settings change speed only: flushing touches values below 2e-308 in float64,
    NumPy's buffer size changes where it copies, not what it computes, and without the helper
    thread each cell does the same chunks itself (chunks forced here on every cell, however
    small), so the results are the same bits."""
    monkeypatch.setattr(overlap, "OVERLAP_MACS", 0)
    monkeypatch.setattr(overlap, "OVERLAP_ELEMENTS", 0)
    loss, grads = gradients_in(Runtime(), name, monkeypatch)

    def no_helper():
        raise AssertionError("a runtime without the helper thread handed it work")

    monkeypatch.setattr(overlap, "_helper", no_helper)
    plain = Runtime(blas_threads=1, flush_subnormals=False, helper_thread=False, ufunc_buffer=8192)
    plain_loss, plain_grads = gradients_in(plain, name, monkeypatch)
    assert plain_loss == loss
    for key in grads:
        np.testing.assert_array_equal(plain_grads[key], grads[key], err_msg=key)
