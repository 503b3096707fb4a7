"""The operation of a recurrent cell node: one direction, or forward and reverse joined, run by the
cell's kernel (``engine.cells``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_builder.engine import cells
from rnn_builder.engine.cells import CellWeights
from rnn_builder.engine.ops.base import Op, dense
from rnn_builder.engine.runtime import runtime
from rnn_builder.engine.two_cores import loop_key

Array = np.ndarray


class CellOp(Op):
    """A recurrent cell node: one direction, or forward and reverse joined step by step."""

    def __init__(self, node, node_type, layout, params, grads):
        super().__init__(node, node_type, layout, params, grads)
        self.cell = node_type.kernel(node.params) or kernel_of(node_type, node.params)
        self.hidden = node.params["hidden_size"]
        self.suffixes = ("", "_reverse") if node.params["bidirectional"] else ("",)
        self.state_ports = [p.name for p in node_type.inputs if p.role == "initial_state"]
        self.final_ports = [p.name for p in node_type.outputs if p.role == "final_state"]

    def weights(self, suffix: str, store: dict[str, Array] | None = None) -> CellWeights:
        store = self.params if store is None else store
        return CellWeights(
            *(store[f"{n}{suffix}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        )

    def initialise(self, rng):
        for suffix in self.suffixes:
            self.cell.initialise(
                rng,
                self.weights(suffix),
                self.settings["init"],
                self.settings.get("forget_bias", 0.0),
            )

    def initial_states(self, run, inputs, batch: int, direction: int) -> tuple[Array, ...]:
        states = []
        carried = run.batch.states.get(self.id, {})
        for port in self.state_ports:
            # A state carried from truncated BPTT's previous chunk continues the sequence; a
            # wired h_0 starts it, so it counts only at the first chunk (nothing carried yet).
            value = carried.get(port)
            if value is None:
                value = inputs.get(port)
            if value is None:
                states.append(np.zeros((batch, self.hidden), dtype=run.dtype))
            else:
                states.append(value[:, direction * self.hidden : (direction + 1) * self.hidden])
        return tuple(states)

    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        steps, batch, features = x.shape
        mask = run.mask(self.axis)
        ys, finals, caches = [], [], []
        key = loop_key(self.cell, "forward", steps, batch, features, self.hidden, x.dtype)
        for direction, suffix in enumerate(self.suffixes):
            reverse = direction == 1
            xs = x[::-1] if reverse else x
            ms = None if mask is None else (mask[::-1] if reverse else mask)
            initial = self.initial_states(run, inputs, batch, direction)
            with runtime().cell_loop(key, steps):
                y, final, cache = self.cell.forward(self.weights(suffix), xs, initial, ms)
            ys.append(y[::-1] if reverse else y)
            finals.append(final)
            caches.append(cache)
        outputs = {"y": ys[0] if len(ys) == 1 else np.concatenate(ys, axis=-1)}
        for k, port in enumerate(self.final_ports):
            parts = [final[k] for final in finals]
            outputs[port] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        backward_key = None if key is None else (key[0], "backward", *key[2:])
        return outputs, (caches, inputs["x"].dtype.kind in "iu", backward_key, steps)

    def backward(self, run, cache, grads):
        caches, from_tokens, key, steps = cache
        dy = grads.get("y")
        result: dict[str, Array] = {}
        dx_total = None
        dinitial_parts: list[tuple[Array, ...]] = []
        hidden = self.hidden
        for direction, suffix in enumerate(self.suffixes):
            reverse = direction == 1
            part = None
            if dy is not None:
                part = dy[..., direction * hidden : (direction + 1) * hidden]
                part = part[::-1] if reverse else part
            dfinal = tuple(
                None
                if grads.get(port) is None
                else grads[port][:, direction * hidden : (direction + 1) * hidden]
                for port in self.final_ports
            )
            with runtime().cell_loop(key, steps):
                dx, dinitial, weight_grads, dhs = self.cell.backward(
                    self.weights(suffix),
                    caches[direction],
                    part,
                    dfinal,
                    need_dx=not from_tokens and "x" in self.grad_ports,
                )
            for name, value in weight_grads.items():
                self.grads[f"{name}{suffix}"] += value
            run.record_state_grads(self.id, suffix, dhs[::-1] if reverse else dhs)
            if dx is not None:
                dx = dx[::-1] if reverse else dx
                dx_total = dx if dx_total is None else dx_total + dx
            dinitial_parts.append(dinitial)
        if dx_total is not None:
            result["x"] = dx_total
        for k, port in enumerate(self.state_ports):
            parts = [d[k] for d in dinitial_parts]
            result[port] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        return result

    def prepare_steps(self) -> dict[str, Any]:
        """Each direction's weights arranged for the cell's ``step`` (live stepping)."""
        return {suffix: self.cell.prepare(self.weights(suffix)) for suffix in self.suffixes}


def kernel_of(node_type, params):
    """The built-in kernel a cell type names (``kernel_name`` in ``engine.cells``)."""
    kernel_class = getattr(cells, node_type.kernel_name, None)
    if kernel_class is None:
        raise TypeError(f"'{node_type.type_name}' names no kernel of engine.cells")
    return kernel_class(**node_type.kernel_options(params))
