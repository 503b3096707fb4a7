"""What every operation shares: the ``Op`` base class, the ``OpLayout`` an executor hands it (its
ports' shapes and axes), and ``dense``, which turns token ids into one-hot rows where a layer
needs numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_builder.graph.nodes import Shape

if TYPE_CHECKING:
    from rnn_builder.engine.run import Run

Array = np.ndarray


def dense(value: Array, width: int, dtype) -> Array:
    """Token ids as one-hot vectors (``-1`` gives zeros); real values unchanged."""
    if value.dtype.kind not in "iu":
        return value
    one_hot = np.zeros((*value.shape, width), dtype=dtype)
    valid = value >= 0
    np.put_along_axis(
        one_hot, np.where(valid, value, 0)[..., None], valid[..., None].astype(dtype), axis=-1
    )
    return one_hot


@dataclass
class OpLayout:
    """Where a node sits: the shapes of its ports and its time axes (from validation)."""

    inputs: dict[str, Shape]
    outputs: dict[str, Shape]
    axis: str | None
    source_axis: str | None
    grad_ports: frozenset[str] = frozenset()  # inputs whose gradient anything upstream needs
    input_axes: dict[str, str] | None = None  # each wired sequence input's time axis, by port


class Op:
    """Base of the node operations. ``params``/``grads`` map PyTorch names to array views."""

    def __init__(
        self, node, node_type, layout: OpLayout, params: dict[str, Array], grads: dict[str, Array]
    ) -> None:
        self.id = node.id
        self.name = node.name
        self.settings = dict(node.params)
        self.node_type = node_type
        self.params = params
        self.grads = grads
        self.in_shapes = layout.inputs
        self.out_shapes = layout.outputs
        self.axis = layout.axis  # the time axis of this node's copies (None for vector nodes)
        self.source_axis = layout.source_axis  # the axis of the sequence it reads, if any
        self.grad_ports = layout.grad_ports
        self.input_axes = dict(layout.input_axes or {})

    def initialise(self, rng: np.random.Generator) -> None:
        """Fill this node's weights in place (nothing for weightless nodes)."""

    def forward(self, run: Run, inputs: dict[str, Array]) -> tuple[dict[str, Array], Any]:
        raise NotImplementedError

    def backward(self, run: Run, cache: Any, grads: dict[str, Array | None]) -> dict[str, Array]:
        return {}

    def width(self, port: str) -> int:
        return self.in_shapes[port].width
