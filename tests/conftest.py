"""Shared fixtures. Qt needs a platform before it starts: tests run headless."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from rnn_builder import overlap as chunking
from rnn_builder.graph import Graph


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
