"""The node canvas: a scene that follows a graph model's events, and the view that shows it."""

from .scene import GraphScene
from .view import GraphView

__all__ = ["GraphScene", "GraphView"]
