"""RNN Builder's core: recurrent networks as graphs, checked, classified and unrolled in time.

This package never imports Qt (a test enforces it): everything the GUI does to a graph can be
done here and through ``python -m rnn_builder``.
"""

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.project import Project
from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project
from rnn_builder.graph.layouts import Layout
from rnn_builder.graph.model import Edge, Graph, Node
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.unroll import UnrolledGraph, UnrolledKey, unroll
from rnn_builder.graph.validation import Problem, ValidationReport, classify, validate

__version__ = "0.1.0"

__all__ = [
    "Edge",
    "Graph",
    "Layout",
    "Node",
    "NodeRegistry",
    "Problem",
    "Project",
    "RNNBuilderError",
    "UnrolledGraph",
    "UnrolledKey",
    "ValidationReport",
    "__version__",
    "classify",
    "default_registry",
    "load",
    "new_project",
    "save",
    "unroll",
    "validate",
]
