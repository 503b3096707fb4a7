"""The node canvas: a scene that follows a graph model's events, and the view that shows it."""

from ui.canvas.scene import GraphScene
from ui.canvas.view import GraphView

__all__ = ["GraphScene", "GraphView"]
