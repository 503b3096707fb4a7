"""What every cell shares: its four weight tensors (``CellWeights``) and the ``Cell`` base class
(initialisation schemes, ``prepare`` and ``project`` for stepping, the forward and backward it
promises).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

Array = np.ndarray


@dataclass
class CellWeights:
    """The four tensors of one direction of a cell (views into the executor's parameters)."""

    weight_ih: Array
    weight_hh: Array
    bias_ih: Array
    bias_hh: Array


class Cell:
    """Common structure; subclasses give the gate count and the step equations."""

    gates: ClassVar[int]
    state_names: ClassVar[tuple[str, ...]] = ("h",)

    # --- initialisation ---------------------------------------------------------------------

    def initialise(
        self,
        rng: np.random.Generator,
        weights: CellWeights,
        scheme: str = "pytorch",
        forget_bias: float = 0.0,
    ) -> None:
        """Fill ``weights`` in place. ``pytorch``: every tensor uniform in ±1/√H, as PyTorch
        does. ``xavier``: Glorot-uniform matrices, zero biases. ``orthogonal``: Glorot input
        weights, each gate block of the recurrent weights an orthogonal matrix, zero biases."""
        hidden = weights.weight_hh.shape[1]
        if scheme == "pytorch":
            bound = 1.0 / np.sqrt(hidden)
            for tensor in (weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh):
                tensor[...] = rng.uniform(-bound, bound, tensor.shape)
        else:
            for tensor in (weights.weight_ih, weights.weight_hh):
                rows, cols = tensor.shape
                fan_in, fan_out = cols, rows // self.gates
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                tensor[...] = rng.uniform(-bound, bound, tensor.shape)
            weights.bias_ih[...] = 0.0
            weights.bias_hh[...] = 0.0
            if scheme == "orthogonal":
                for gate in range(self.gates):
                    block = rng.standard_normal((hidden, hidden))
                    q, r = np.linalg.qr(block)
                    q *= np.sign(np.diag(r))  # a uniformly random orthogonal matrix
                    weights.weight_hh[gate * hidden : (gate + 1) * hidden] = q
        self._forget_bias(weights, forget_bias)

    def _forget_bias(self, weights: CellWeights, forget_bias: float) -> None:
        pass

    def prepare(self, w: CellWeights):
        """Weights arranged for :meth:`step` (done once per walk, not once per step)."""
        return w

    def project(self, prepared, x: Array) -> Array:
        """The input side of every step, ``x (T, B, D)`` → ``(T, B, G·H)``, for an input known in
        full before the first step: :meth:`step` then takes its row as ``projected``."""
        return prepared.projected(x)

    # --- whole sequences --------------------------------------------------------------------

    def forward(
        self, w: CellWeights, x: Array, initial: tuple[Array, ...], mask: Array | None = None
    ):
        raise NotImplementedError

    def backward(
        self,
        w: CellWeights,
        cache,
        dy: Array | None,
        dfinal: tuple[Array | None, ...],
        need_dx: bool = True,
    ):
        raise NotImplementedError
