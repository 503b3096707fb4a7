"""A training step reuses the pages of the step before instead of faulting in fresh ones."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the thresholds are glibc's",
)

# Runs in a fresh process (page faults are counted per process) and prints the minor page faults
# of ten training steps after two warm-up steps. With "return", glibc's thresholds are put back
# to its defaults after the runtime raised them, to show what the count measures.
SCRIPT = textwrap.dedent(
    """
    import ctypes, resource, sys
    import numpy as np
    from rnn_builder.engine.executor import Batch, Executor
    from rnn_builder.graph.model import Graph
    from rnn_builder.engine.optim import Adam
    from rnn_builder.engine.runtime import runtime

    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 16})
    graph.add_node("lstm", node_id="cell", params={"hidden_size": 64})
    graph.add_node("dense", node_id="head", params={"units": 16})
    graph.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    graph.connect("x", "y", "cell", "x")
    graph.connect("cell", "y", "head", "x")
    graph.connect("head", "y", "out", "x")
    executor = Executor(graph)
    runtime().configure()  # as main.py, the CLI and the training process do
    if sys.argv[1] == "return":
        mallopt = ctypes.CDLL(None).mallopt
        mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
        mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 32, 16)).astype(np.float32)
    batch = Batch({"x": x}, {"y": rng.standard_normal((50, 32, 16)).astype(np.float32)})
    optimizer = Adam(executor.store.flat, executor.store.grad_flat)

    def step():
        executor.backward(executor.forward(batch))
        optimizer.step()

    step(); step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(result.stdout.split()[-1])


def test_training_steps_reuse_freed_pages():
    kept, returned = faults("keep"), faults("return")
    # Each step allocates ~8 MB of temporaries: ~2,000 pages if they came fresh.
    assert kept < 100, kept
    assert returned > 10 * max(kept, 20), (kept, returned)


def test_user_settings_are_left_alone(monkeypatch):
    from rnn_builder.engine import memory

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert memory._user_tuned()
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000")
    assert memory._user_tuned()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.nns=4")
    assert not memory._user_tuned()


CONSTRUCT_ONLY = textwrap.dedent(
    """
    from rnn_builder.engine import memory
    from rnn_builder.engine.executor import Executor
    from rnn_builder.engine.runtime import runtime
    from rnn_builder.files.templates import new_project

    executor = Executor(new_project("many_to_one").graph)
    executor.forward  # built, ready: and the process untouched
    print(memory._kept, end=" ")
    runtime().configure()
    print(memory._kept)
    """
)


def test_building_an_executor_changes_nothing_process_wide_the_runtime_does():
    result = subprocess.run(
        [sys.executable, "-c", CONSTRUCT_ONLY], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["None", "True"]
