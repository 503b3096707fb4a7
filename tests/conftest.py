"""Shared fixtures. Qt needs a platform before it starts: tests run headless."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from rnn_builder.graph import Graph


@pytest.fixture
def graph() -> Graph:
    return Graph()
