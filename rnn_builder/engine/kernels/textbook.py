"""A cell kernel made of two plain functions, as a plug-in cell type writes them.

A new recurrent cell type needs a kernel: forward and backward over whole sequences, and one
step for live stepping. The fast kernels of ``rnn_builder.engine.cells`` fuse and reorder for speed;
a plug-in need not. It gives, in the style of :mod:`.reference`:

* ``step(weights, x_t, *states) -> dict``: one step, every intermediate by name, the new
  states under the cell spec's state names (``"h"``, …);
* ``step_backward(weights, step, *dstates) -> dict``: from the gradients reaching the step's
  new states, the gradients of ``"x"``, of each previous state (``"h_prev"``, …) and the step's
  share of each weight (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``).

:class:`TextbookCell` runs them as the executor and the stepper run any cell: padding carries
the state through, the weights' gradients are summed over time, and the gradient reaching each
step's ``h`` is kept for the gradient-flow view. It is as fast as a Python loop over steps
is, which is enough to try an idea on the templates' tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnn_builder.engine.cells import Cell, CellWeights

Array = np.ndarray
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class TextbookCell(Cell):
    def __init__(
        self,
        gates: int,
        states: tuple[str, ...],
        step: Callable[..., dict[str, Array]],
        step_backward: Callable[..., dict[str, Array]],
    ) -> None:
        self.gates = gates
        self.state_names = states
        self._step = step
        self._step_backward = step_backward

    # --- whole sequences ----------------------------------------------------------------------

    def forward(self, w: CellWeights, x: Array, initial: tuple[Array, ...], mask=None):
        weights = _named(w)
        steps, batch, _ = x.shape
        masks = _masks(mask, steps, batch, x.dtype)
        states = tuple(initial)
        y = np.empty((steps, batch, states[0].shape[1]), dtype=x.dtype)
        cache: list[dict[str, Array]] = []
        for t in range(steps):
            step = self._step(weights, x[t], *states)
            states = tuple(
                masks[t] * step[name] + (1.0 - masks[t]) * old
                for name, old in zip(self.state_names, states, strict=True)
            )
            y[t] = states[0]
            cache.append(step)
        return y, states, (cache, masks, weights, x.shape)

    def backward(self, w, cache, dy, dfinal, need_dx: bool = True):
        steps, masks, weights, (count, batch, features) = cache
        hidden = steps[0][self.state_names[0]].shape[1]
        dtype = masks.dtype
        dstates = [
            np.zeros((batch, hidden), dtype) if d is None else np.array(d, dtype=dtype)
            for d in dfinal
        ]
        grads = {name: np.zeros_like(weights[name]) for name in WEIGHT_NAMES}
        dx = np.zeros((count, batch, features), dtype) if need_dx else None
        reaching = np.zeros((count, batch, hidden), dtype)  # the gradient at each step's h
        for t in reversed(range(count)):
            if dy is not None:
                dstates[0] = dstates[0] + dy[t]
            reaching[t] = dstates[0]
            m = masks[t]
            step_grads = self._step_backward(weights, steps[t], *(m * d for d in dstates))
            for name in WEIGHT_NAMES:
                grads[name] += step_grads[name]
            if dx is not None:
                dx[t] = step_grads["x"]
            dstates = [
                step_grads[f"{name}_prev"] + (1.0 - m) * d
                for name, d in zip(self.state_names, dstates, strict=True)
            ]
        return dx, tuple(dstates), grads, reaching

    # --- one step (live stepping) -------------------------------------------------------------

    def prepare(self, w: CellWeights):
        return _named(w)

    def project(self, prepared, x: Array) -> Array:
        return x  # no input side to take ahead: each step reads its own row of x

    def step(self, prepared, x_t, state, out=None, projected=None):
        step = self._step(prepared, x_t if projected is None else projected, *state)
        new_state = tuple(step[name] for name in self.state_names)
        if out is not None:
            out[...] = new_state[0]
            new_state = (out, *new_state[1:])
        return new_state[0], new_state, step


def _named(w: CellWeights | Any) -> dict[str, Array]:
    return {name: getattr(w, name) for name in WEIGHT_NAMES}


def _masks(mask: Array | None, steps: int, batch: int, dtype) -> Array:
    if mask is None:
        return np.ones((steps, batch, 1), dtype)
    return np.asarray(mask, dtype=dtype).reshape(steps, batch, 1)
