"""Both cores for a large cell's loop where the process is ours (``engine.two_cores``): which
choice runs next, what a loop on two threads changes for the pass (threads, helper) and what it
does not (results); and only the programs that own their process ask for it."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from rnn_builder.cli.main import main as cli_main
from rnn_builder.engine import overlap, two_cores
from rnn_builder.engine import runtime as runtime_module
from rnn_builder.engine.cells import LSTMCell
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.runtime import Runtime, runtime
from rnn_builder.engine.threads import _blas
from rnn_builder.engine.two_cores import FIRST_PROBE, KEPT, LAST_PROBE, Choice, LoopThreads
from rnn_builder.files.templates import new_project

from .numerics import random_batch


def run(choice: Choice, seconds: dict[int, float], runs: int) -> list[int]:
    """The threads of ``runs`` runs when one thread takes seconds[1] a step and two seconds[2]."""
    taken = []
    for _ in range(runs):
        threads = choice.next()
        taken.append(threads)
        choice.record(threads, seconds[threads])
    return taken


def test_each_choice_is_tried_then_the_faster_runs_and_the_slower_is_tried_less_and_less():
    choice = Choice()
    first = run(choice, {1: 2.0, 2: 1.0}, 2 * KEPT)
    assert sorted(first) == [1] * KEPT + [2] * KEPT and first[:2] == [1, 2]  # alternating
    assert choice.best == 2
    later = run(choice, {1: 2.0, 2: 1.0}, 1000)
    tries = [k for k, threads in enumerate(later) if threads == 1]
    gaps = np.diff([-1, *tries]) - 1  # runs of the faster between two tries of the slower
    assert list(gaps[:5]) == [FIRST_PROBE, 2 * FIRST_PROBE, 4 * FIRST_PROBE, 8 * FIRST_PROBE, 128]
    assert max(gaps) == LAST_PROBE


def test_a_machine_that_gets_busy_is_followed_within_a_few_runs():
    choice = Choice()
    run(choice, {1: 2.0, 2: 1.0}, 200)  # quiet: two threads win
    assert choice.best == 2
    busy = run(choice, {1: 2.5, 2: 8.0}, 3)  # another process takes the second core
    assert busy[-1] == 1 and choice.best == 1 and choice.interval == FIRST_PROBE
    run(choice, {1: 2.5, 2: 8.0}, 1000)
    assert choice.best == 1 and choice.interval == LAST_PROBE
    quiet = run(choice, {1: 2.0, 2: 1.0}, LAST_PROBE + KEPT)  # quiet again
    assert choice.best == 2 and quiet[-KEPT:] == [2] * KEPT


def test_a_loop_on_two_threads_gives_up_the_helper_and_puts_both_back(monkeypatch):
    libraries = _blas()
    if not libraries:
        pytest.skip("no BLAS that threadpoolctl controls")
    ticks = iter(range(100))
    loops = LoopThreads(clock=lambda: float(next(ticks)))
    monkeypatch.setattr(Choice, "next", lambda self: 2)
    before = [library.num_threads for library in libraries]
    with loops.loop("key", steps=4) as threads:
        inside = [library.num_threads for library in libraries], overlap._this_thread.helper
    assert threads == 2 and inside == ([2] * len(libraries), False)
    assert [library.num_threads for library in libraries] == before
    assert getattr(overlap._this_thread, "helper", True)
    assert list(loops.choices["key"].seconds[2]) == [0.25]  # one tick over four steps


def test_small_loops_and_the_editor_s_runtime_time_nothing():
    assert two_cores.loop_key(LSTMCell(), "forward", 50, 32, 16, 8, np.float32) is None
    big = two_cores.loop_key(LSTMCell(), "forward", 50, 32, 16, 128, np.float32)
    assert big is not None
    editor = Runtime()  # as main.py configures it: one thread
    with editor.cell_loop(big, 50) as threads:
        assert threads == 1
    assert not editor.loops.choices


def test_the_command_line_asks_for_both_cores_and_puts_the_setting_back(tmp_path, monkeypatch):
    seen = []
    original = Runtime.cell_loop

    def spy(self, key, steps):
        seen.append((self.loop_threads, key is not None))
        return original(self, key, steps)

    monkeypatch.setattr(Runtime, "cell_loop", spy)
    before = runtime().loop_threads
    project = str(tmp_path / "p.json")
    out = io.StringIO()
    assert cli_main(["new", "adding_problem", "-o", project], stdout=out) == 0
    assert cli_main(["train", project, "--steps", "2"], stdout=out) == 0
    assert seen and {threads for threads, _ in seen} == {2} and any(big for _, big in seen)
    assert runtime().loop_threads == before


@pytest.mark.parametrize("name", ["adding_problem", "bidirectional_tagger", "many_to_many_equal"])
def test_two_threads_or_one_give_the_same_bits(name, monkeypatch):
    """A loop on two BLAS threads (its helper's chunks done in the loop) against one thread with
    the helper: OpenBLAS splits rows and columns, never a sum, so every value is the same."""
    monkeypatch.setattr(two_cores, "SPLIT_MACS", 0)  # every loop chooses
    monkeypatch.setattr(overlap, "OVERLAP_MACS", 0)  # and hands chunks to the helper
    monkeypatch.setattr(overlap, "OVERLAP_ELEMENTS", 0)
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(Choice, "next", lambda self, n=threads: n)
        monkeypatch.setattr(runtime_module, "_RUNTIME", Runtime(loop_threads=2))
        graph = new_project(name).graph
        for node in list(graph):
            if "hidden_size" in node.params:  # products large enough for OpenBLAS to split
                graph.set_param(node.id, "hidden_size", 128)
        executor = Executor(graph, dtype=np.float32, seed=3)
        run_ = executor.loss_and_gradients(random_batch(executor, batch=32, steps=12))
        results.append((run_.loss, executor.store.grad_flat.copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_the_programs_that_own_their_process_ask_openblas_for_a_short_spin():
    """Set before NumPy loads OpenBLAS: by the command line's entry point (importing the
    runtime's threads module does not import NumPy) and in the training process's
    environment; never over what the user set."""
    from rnn_builder.engine.threads import SHORT_SPIN, SPIN_VARIABLE, short_blas_spin

    environment = {}
    short_blas_spin(environment)
    assert environment == {SPIN_VARIABLE: SHORT_SPIN}
    environment = {SPIN_VARIABLE: "26"}
    short_blas_spin(environment)
    assert environment == {SPIN_VARIABLE: "26"}
    child = (
        "import os, sys; import rnn_builder.__main__; "
        f"print(os.environ.get('{SPIN_VARIABLE}'), 'numpy' in sys.modules)"
    )
    clean = {k: v for k, v in os.environ.items() if k != SPIN_VARIABLE}
    out = subprocess.run([sys.executable, "-c", child], env=clean, capture_output=True, text=True)
    assert out.stdout.split() == [SHORT_SPIN, "True"], out.stderr
    before = "import sys; import rnn_builder.engine.threads; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", before], env=clean, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
