"""RNN Builder's core: recurrent networks as graphs, checked, classified and unrolled in time.

This package never imports Qt (a test enforces it): everything the GUI does to a graph can be
done here and through ``python -m rnn_builder``.
"""

from .errors import RNNBuilderError
from .graph import Edge, Graph, Node
from .layouts import Layout, classify
from .project import Project
from .registry import NodeRegistry, default_registry
from .serialization import load, save
from .templates import new_project
from .unroll import UnrolledGraph, UnrolledKey, unroll
from .validation import Problem, ValidationReport, validate

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
