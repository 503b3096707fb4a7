"""Layers applied at every step alike: Embedding, Dense (with its activations) and Concat."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.cell_layout import is_feature_major
from rnn_builder.engine.losses import softmax
from rnn_builder.engine.ops.base import Op, dense

Array = np.ndarray


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


class DenseOp(Op):
    def initialise(self, rng):
        weight, bias = self.params["weight"], self.params["bias"]
        bound = 1.0 / np.sqrt(max(weight.shape[1], 1))  # PyTorch's nn.Linear default
        weight[...] = rng.uniform(-bound, bound, weight.shape)
        bias[...] = rng.uniform(-bound, bound, bias.shape)

    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        weight = self.params["weight"]
        # a cell's output, tagged feature-major: one product per step, no copy of it (measured
        # at hidden 128, 55 µs against 221 for copying it into rows first and one product, and
        # the backward pass 200 against 400; no slower at hidden 8)
        if is_feature_major(x):
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
