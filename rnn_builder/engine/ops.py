"""What each node computes: one operation class per node type, forward and backward.

An operation works on whole sequences at once: ``forward(run, inputs) -> (outputs, cache)``
and ``backward(run, cache, output_grads) -> input_grads``, where sequences are time-major
arrays ``(T, B, d)``, vectors ``(B, d)``, and token ids integer arrays ``(T, B)`` (``-1`` for
"no token", which reads as a zero vector). The same call on a one-step slice ``(1, B, d)`` is how
feedback loops and live stepping run a node step by step, so there is one implementation of
each node's mathematics. Weight gradients are accumulated into the executor's gradient buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_builder.engine.cells import CellWeights
from rnn_builder.engine.losses import LOSS_FUNCTIONS, softmax
from rnn_builder.errors import DataError
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

    def initialise(self, rng: np.random.Generator) -> None:
        """Fill this node's weights in place (nothing for weightless nodes)."""

    def forward(self, run: Run, inputs: dict[str, Array]) -> tuple[dict[str, Array], Any]:
        raise NotImplementedError

    def backward(self, run: Run, cache: Any, grads: dict[str, Array | None]) -> dict[str, Array]:
        return {}

    def width(self, port: str) -> int:
        return self.in_shapes[port].width


# --- inputs -----------------------------------------------------------------------------------


class SequenceInputOp(Op):
    def forward(self, run, inputs):
        value = run.input_value(self.id)
        vocabulary = self.settings["vocabulary"]
        if vocabulary > 0:
            value = np.asarray(value)
            if value.ndim != 2 or value.dtype.kind not in "iu":
                raise DataError(
                    f"input '{self.name}' takes token ids as whole numbers of shape (steps, "
                    f"batch); got an array of shape {value.shape} and type {value.dtype}"
                )
            if value.size and (value.max() >= vocabulary or value.min() < -1):
                raise DataError(
                    f"input '{self.name}' has a vocabulary of {vocabulary}, but the data holds "
                    f"token {int(value.max())}: token ids run from 0 to {vocabulary - 1}"
                )
            return {"y": value.astype(np.int64, copy=False)}, None
        features = self.settings["features"]
        value = np.asarray(value, dtype=run.dtype)
        if value.ndim != 3 or value.shape[2] != features:
            raise DataError(
                f"input '{self.name}' takes {features} features per step, shaped (steps, batch, "
                f"{features}); got shape {value.shape}"
            )
        if not np.isfinite(value).all():
            raise DataError(f"input '{self.name}' holds NaN or infinite values")
        return {"y": value}, None


class VectorInputOp(Op):
    def forward(self, run, inputs):
        features = self.settings["features"]
        value = np.asarray(run.input_value(self.id), dtype=run.dtype)
        if value.ndim != 2 or value.shape[1] != features:
            raise DataError(
                f"input '{self.name}' takes {features} features, shaped (batch, {features}); got "
                f"shape {value.shape}"
            )
        if not np.isfinite(value).all():
            raise DataError(f"input '{self.name}' holds NaN or infinite values")
        return {"y": value}, None


# --- layers -----------------------------------------------------------------------------------


class EmbeddingOp(Op):
    def initialise(self, rng):
        self.params["weight"][...] = rng.standard_normal(self.params["weight"].shape)

    def forward(self, run, inputs):
        tokens = inputs["tokens"]
        table = self.params["weight"]
        y = table[np.maximum(tokens, 0)]
        if (tokens < 0).any():
            y[tokens < 0] = 0.0
        return {"y": y}, tokens

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is not None:
            tokens = cache
            valid = tokens >= 0
            np.add.at(self.grads["weight"], tokens[valid], dy[valid])
        return {}


ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid", "softmax")


def activate(name: str, z: Array) -> Array:
    if name == "identity":
        return z
    if name == "tanh":
        return np.tanh(z, out=z)
    if name == "relu":
        return np.maximum(z, 0.0, out=z)
    if name == "sigmoid":
        z *= 0.5
        np.tanh(z, out=z)
        z *= 0.5
        z += 0.5
        return z
    if name == "softmax":
        return softmax(z)
    raise ValueError(name)


def activation_backward(name: str, dy: Array, y: Array) -> Array:
    if name == "identity":
        return dy
    if name == "tanh":
        return dy * (1.0 - y * y)
    if name == "relu":
        return dy * (y > 0)
    if name == "sigmoid":
        return dy * y * (1.0 - y)
    if name == "softmax":
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    raise ValueError(name)


def _feature_major(x: Array) -> bool:
    """Whether ``x (T, B, d)`` is a view of ``(T, d, B)`` data, as cells hand on their outputs
    (``cell_layout.feature_major``). A Dense layer multiplies it step by step as it is: measured
    at hidden 128, 55 µs against 221 for copying it into rows first and one product (and the
    backward pass 200 against 400), and no slower at hidden 8."""
    return x.ndim == 3 and x.dtype.kind == "f" and x.shape[1] > 1 and x.strides[1] == x.itemsize


class DenseOp(Op):
    def initialise(self, rng):
        weight, bias = self.params["weight"], self.params["bias"]
        bound = 1.0 / np.sqrt(max(weight.shape[1], 1))  # PyTorch's nn.Linear default
        weight[...] = rng.uniform(-bound, bound, weight.shape)
        bias[...] = rng.uniform(-bound, bound, bias.shape)

    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        weight = self.params["weight"]
        if _feature_major(x):  # a cell's output: one product per step, no copy of it
            rows = x
            z = np.matmul(x, weight.T)
        else:
            rows = x.reshape(-1, x.shape[-1])
            z = rows @ weight.T
        z += self.params["bias"]
        y = activate(self.settings["activation"], z)
        return {"y": y.reshape((*x.shape[:-1], weight.shape[0]))}, (rows, y, inputs["x"])

    def prepare_steps(self) -> tuple[Array, Array]:
        """``Wᵀ`` and the bias as a row (adding a row of the same shape skips NumPy's
        broadcasting, ~0.4 µs of a step)."""
        weight, bias = self.params["weight"], self.params["bias"]
        return np.ascontiguousarray(weight.T), bias[None, :].copy()

    def step(
        self, run, prepared: tuple[Array, Array], x_t: Array, out: Array | None = None
    ) -> Array:
        """One step ``(B, d)`` → ``(B, units)``, for live stepping; written into ``out`` when
        given (the stepper's row of this step, made for the first step's result: no copy
        afterwards). ``np.dot``: ~0.3 µs less than ``np.matmul`` for one row."""
        if x_t.dtype.kind in "iu":
            x_t = dense(x_t, self.width("x"), run.dtype)
        weight_t, bias = prepared
        z = np.dot(x_t, weight_t, out=out)
        z += bias
        activation = self.settings["activation"]
        if activation == "identity":
            return z
        y = activate(activation, z)
        if out is not None and y is not out:  # softmax makes a new array
            out[...] = y
            return out
        return y

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        x, y, original = cache
        dz = activation_backward(self.settings["activation"], dy.reshape(y.shape), y)
        weight = self.params["weight"]
        units = weight.shape[0]
        if x.ndim == 3:  # feature-major (see forward): products step by step, no copies of x
            # (dz's transposed view here: measured twice as fast as a contiguous copy of it)
            self.grads["weight"] += np.matmul(dz.transpose(0, 2, 1), x).sum(axis=0)
        else:
            self.grads["weight"] += dz.T @ x
        # Σ over rows as a product with ones: dz is tall and narrow (T·B × units), where
        # NumPy's sum over axis 0 runs one short inner loop per row (measured 40 µs vs 4 µs)
        rows = dz.reshape(-1, units)
        self.grads["bias"] += np.ones(rows.shape[0], dz.dtype) @ rows
        if original.dtype.kind in "iu" or "x" not in self.grad_ports:
            return {}
        if x.ndim == 3:  # handed back feature-major too, as the cell wants it
            by_step = np.ascontiguousarray(dz.transpose(0, 2, 1))  # (T, units, B)
            return {"x": np.matmul(np.ascontiguousarray(weight.T), by_step).transpose(0, 2, 1)}
        return {"x": (dz @ weight).reshape(original.shape)}


class ConcatOp(Op):
    def forward(self, run, inputs):
        a = dense(inputs["a"], self.width("a"), run.dtype)
        b = dense(inputs["b"], self.width("b"), run.dtype)
        return {"y": np.concatenate([a, b], axis=-1)}, (a.shape[-1], inputs["a"], inputs["b"])

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        split, a, b = cache
        result = {}
        if a.dtype.kind not in "iu":
            result["a"] = dy[..., :split]
        if b.dtype.kind not in "iu":
            result["b"] = dy[..., split:]
        return result


# --- time -------------------------------------------------------------------------------------


class LastStepOp(Op):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        last = run.last_steps(self.source_axis, x.shape[0], x.shape[1])
        return {"y": x[last, np.arange(x.shape[1])]}, (x.shape, last)

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        shape, last = cache
        dx = np.zeros(shape, dtype=dy.dtype)
        dx[last, np.arange(shape[1])] = dy
        return {"x": dx}


class MeanOverTimeOp(LastStepOp):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        mask = run.mask(self.source_axis)
        if mask is None:
            weights = np.full((x.shape[0], x.shape[1], 1), 1.0 / x.shape[0], dtype=x.dtype)
        else:
            weights = mask / np.maximum(mask.sum(axis=0, keepdims=True), 1.0)
        return {"y": (x * weights).sum(axis=0)}, weights

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        return {"x": cache * dy[None]}


class RepeatOp(Op):
    def forward(self, run, inputs):
        x = inputs["x"]
        steps = run.length(self.axis)
        return {"y": np.broadcast_to(x[None], (steps, *x.shape)).copy()}, None

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        return {} if dy is None else {"x": dy.sum(axis=0)}


class DelayOp(Op):
    """``y_t = x_{t-1}``; ``y_0`` is zeros or the one-hot start token. In a feedback loop the
    executor feeds it step by step; while teacher forcing, ``x`` is the target instead."""

    def initial(self, batch: int, width: int, dtype, tokens: bool) -> Array:
        start = self.settings["initial"] == "start_token"
        if tokens:
            return np.full((batch,), self.settings["start_token"] if start else -1, np.int64)
        first = np.zeros((batch, width), dtype=dtype)
        if start:
            first[:, self.settings["start_token"]] = 1.0
        return first

    def forward(self, run, inputs):
        x = inputs["x"]
        tokens = x.dtype.kind in "iu"
        y = np.empty_like(x)
        y[0] = self.initial(x.shape[1], x.shape[-1] if not tokens else 0, x.dtype, tokens)
        y[1:] = x[:-1]
        return {"y": y}, tokens

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None or cache:
            return {}
        dx = np.zeros_like(dy)
        dx[:-1] = dy[1:]
        return {"x": dx}


# --- cells ------------------------------------------------------------------------------------


class CellOp(Op):
    """A recurrent cell node: one direction, or forward and reverse joined step by step."""

    def __init__(self, node, node_type, layout, params, grads):
        super().__init__(node, node_type, layout, params, grads)
        self.cell = node_type.kernel(node.params)
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
            value = inputs.get(port)
            if value is None:
                value = carried.get(port)
            if value is None:
                states.append(np.zeros((batch, self.hidden), dtype=run.dtype))
            else:
                states.append(value[:, direction * self.hidden : (direction + 1) * self.hidden])
        return tuple(states)

    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        batch = x.shape[1]
        mask = run.mask(self.axis)
        ys, finals, caches = [], [], []
        for direction, suffix in enumerate(self.suffixes):
            reverse = direction == 1
            xs = x[::-1] if reverse else x
            ms = None if mask is None else (mask[::-1] if reverse else mask)
            y, final, cache = self.cell.forward(
                self.weights(suffix), xs, self.initial_states(run, inputs, batch, direction), ms
            )
            ys.append(y[::-1] if reverse else y)
            finals.append(final)
            caches.append(cache)
        outputs = {"y": ys[0] if len(ys) == 1 else np.concatenate(ys, axis=-1)}
        for k, port in enumerate(self.final_ports):
            parts = [final[k] for final in finals]
            outputs[port] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        return outputs, (caches, inputs["x"].dtype.kind in "iu")

    def backward(self, run, cache, grads):
        caches, from_tokens = cache
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


# --- outputs ----------------------------------------------------------------------------------


class OutputOp(Op):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        target_name = self.settings["target"]
        target = run.target(target_name)
        if target is None:
            run.predictions[self.id] = self.predict(x)
            return {}, None
        loss_name = self.settings["loss"]
        target = self.checked_target(x, target)
        mask = run.mask(self.axis) if self.axis is not None else None
        result = LOSS_FUNCTIONS[loss_name](x, target, None if mask is None else mask[..., 0])
        run.losses[self.id] = result
        run.predictions[self.id] = result.predictions
        return {}, result

    def predict(self, x: Array) -> Array:
        loss = self.settings["loss"]
        if loss == "cross_entropy":
            return softmax(x)
        if loss == "binary_cross_entropy":
            return 0.5 * np.tanh(0.5 * x) + 0.5
        return x.copy()

    def checked_target(self, x: Array, target: Array) -> Array:
        target = np.asarray(target)
        name = self.settings["target"]
        if self.settings["loss"] == "cross_entropy":
            if target.shape != x.shape[:-1] or target.dtype.kind not in "iu":
                raise DataError(
                    f"target '{name}' must be class numbers shaped {x.shape[:-1]}; got shape "
                    f"{target.shape} of type {target.dtype}"
                )
            if target.size and target.max() >= x.shape[-1]:
                raise DataError(
                    f"target '{name}' holds class {int(target.max())}, but output "
                    f"'{self.name}' scores only {x.shape[-1]} classes (0 to {x.shape[-1] - 1})"
                )
            return target
        if target.shape != x.shape:
            raise DataError(f"target '{name}' must have shape {x.shape}; got {target.shape}")
        if not np.isfinite(target).all():
            raise DataError(f"target '{name}' holds NaN or infinite values")
        return target

    def backward(self, run, cache, grads):
        if cache is None:
            return {}
        return {"x": cache.grad}
