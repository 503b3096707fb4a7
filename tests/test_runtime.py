"""A pass runs with the runtime's settings and puts them back; the executor's results do not
depend on whether the process was configured."""

from __future__ import annotations

import numpy as np

from rnn_builder.executor import Executor
from rnn_builder.runtime import Runtime, runtime
from rnn_builder.templates import new_project
from rnn_builder.threads import _blas

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
