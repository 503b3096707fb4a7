"""Shared fixtures. Qt needs a platform before it starts: tests run headless."""

from __future__ import annotations

import faulthandler
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from rnn_builder import collector
from rnn_builder.engine import overlap as chunking
from rnn_builder.graph.model import Graph


def pytest_addoption(parser) -> None:
    parser.addini("hang_limit", "seconds a test may take before the run ends loudly", default=120)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A hung test fails loudly: after ``hang_limit`` seconds faulthandler's own C thread prints
    every thread's stack to the real stderr and ends the process with status 1. It needs no
    interpreter lock, so it fires even when the hung thread holds it (a deadlock inside native
    code, where neither a signal handler nor a Python watchdog thread would ever run)."""
    from _pytest.faulthandler import fault_handler_stderr_fd_key

    limit = float(item.config.getini("hang_limit"))
    stderr = item.config.stash.get(fault_handler_stderr_fd_key, None)
    faulthandler.dump_traceback_later(limit, exit=True, file=stderr or sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def collect_between_tests():
    """Between two tests is a safe point: collect what the automatic collector would have
    (it is off once the GUI tests have installed the app's policy)."""
    yield
    collector.collect_if_due()


@pytest.fixture
def graph() -> Graph:
    return Graph()


@pytest.fixture(params=["whole", "in chunks"])
def overlap(request, monkeypatch) -> str:
    """Run a test twice: as small graphs normally run (each cell's weight gradients and
    backward factors in one piece) and with every such piece split into chunks of steps that a
    helper thread takes while the time loop goes on (what large graphs do)."""
    if request.param == "in chunks":
        monkeypatch.setattr(chunking, "OVERLAP_MACS", 0)
        monkeypatch.setattr(chunking, "OVERLAP_ELEMENTS", 0)
    return request.param
