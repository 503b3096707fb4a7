"""The numerics of the recurrent cells: Elman RNN, LSTM and GRU, forward and backward in time.

Equations and parameter layout are PyTorch's (``torch.nn.RNN`` / ``LSTM`` / ``GRU``), so
weights move between the two without conversion. For one direction of a cell with hidden size
H, G gate blocks and input size D:

* ``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``, ``bias_ih (G·H)``, ``bias_hh (G·H)``;
* gate order i, f, g, o for the LSTM and r, z, n for the GRU.

Shapes are time-major: ``x (T, B, D)``, ``y (T, B, H)``, states ``(B, H)``.

A cell holds no per-sequence state. ``forward`` returns the outputs, the final state and a
cache; ``backward`` takes the cache and the gradients reaching the outputs and the final state,
and returns the gradients of the input, of the initial state and of the weights (with PyTorch's
names). ``step`` computes one time step for live stepping and feedback loops, and
``step_backward`` its gradient. A mask ``(T, B)`` (1 for real steps, 0 for padding after the end
of a shorter sequence) makes padded steps carry the state through unchanged, so the final state is
the state after each sequence's own last step.

Speed: the input projection of all steps is one matrix product before the loop, and the weight
gradients are one product over all steps after it; the loops do only what depends on the
previous step.
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


def sigmoid(x: Array, out: Array | None = None) -> Array:
    """Logistic function via tanh: exact, and stable for large |x| (no overflow in exp)."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _blend(mask_t: Array | None, new: Array, old: Array) -> None:
    """``new = mask·new + (1-mask)·old`` in place: padded steps keep the old state."""
    if mask_t is not None:
        new -= old
        new *= mask_t
        new += old


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

    # --- whole sequences --------------------------------------------------------------------

    def forward(
        self, w: CellWeights, x: Array, initial: tuple[Array, ...], mask: Array | None = None
    ):
        raise NotImplementedError

    def backward(self, w: CellWeights, cache, dy: Array | None, dfinal: tuple[Array | None, ...]):
        raise NotImplementedError


def _start(buffer: Array, gradient: Array | None) -> None:
    """Initialise a gradient accumulator with the gradient of the final state, or zeros."""
    if gradient is None:
        buffer[...] = 0.0
    else:
        buffer[...] = gradient


def _weight_grads(w: CellWeights, da: Array, x2d: Array, h_prev2d: Array) -> dict[str, Array]:
    """Weight gradients of all steps at once, from the gradient of the pre-activations."""
    da2d = da.reshape(-1, da.shape[-1])
    bias = da2d.sum(axis=0)
    return {
        "weight_ih": da2d.T @ x2d,
        "weight_hh": da2d.T @ h_prev2d,
        "bias_ih": bias,
        "bias_hh": bias.copy(),
    }


class ElmanCell(Cell):
    r"""Elman RNN: :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`,
    with :math:`\phi` = tanh or relu.

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``. Outputs: ``y (T, B, H)`` (every ``h_t``), ``h_n``.
    """

    gates = 1

    def __init__(self, nonlinearity: str = "tanh") -> None:
        self.nonlinearity = nonlinearity

    def forward(self, w, x, initial, mask=None):
        (h0,) = initial
        steps, batch, _ = x.shape
        hidden = w.weight_hh.shape[1]
        x2d = x.reshape(steps * batch, -1)
        pre = (x2d @ w.weight_ih.T).reshape(steps, batch, hidden)
        pre += w.bias_ih + w.bias_hh
        hs = np.empty((steps + 1, batch, hidden), dtype=x.dtype)
        hs[0] = h0
        whh_t = np.ascontiguousarray(w.weight_hh.T)
        relu = self.nonlinearity == "relu"
        for t in range(steps):
            h = hs[t + 1]
            np.matmul(hs[t], whh_t, out=h)
            h += pre[t]
            if relu:
                np.maximum(h, 0.0, out=h)
            else:
                np.tanh(h, out=h)
            _blend(None if mask is None else mask[t], h, hs[t])
        cache = (x2d, hs, mask)
        return hs[1:], (hs[steps],), cache

    def backward(self, w, cache, dy, dfinal):
        x2d, hs, mask = cache
        steps, batch, hidden = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        da = np.empty((steps, batch, hidden), dtype=hs.dtype)
        dhs = np.empty((steps, batch, hidden), dtype=hs.dtype)  # d loss / d h_t, kept for display
        relu = self.nonlinearity == "relu"
        # d phi / d pre for every step at once: 1 - h^2 (tanh) or [h > 0] (relu)
        factor = (hs[1:] > 0).astype(hs.dtype) if relu else 1.0 - hs[1:] * hs[1:]
        dh = dhs[steps - 1]
        _start(dh, dfinal[0])
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            if dy is not None:
                dh += dy[t]
            d = da[t]
            np.multiply(dh, factor[t], out=d)
            if mask is not None:
                d *= mask[t]
            if t > 0:
                np.matmul(d, w.weight_hh, out=dhs[t - 1])
                if mask is not None:
                    dhs[t - 1] += dh * (1.0 - mask[t])
        dh0 = da[0] @ w.weight_hh
        if mask is not None:
            dh0 += dhs[0] * (1.0 - mask[0])
        dx = (da.reshape(steps * batch, hidden) @ w.weight_ih).reshape(steps, batch, -1)
        grads = _weight_grads(w, da, x2d, hs[:-1].reshape(steps * batch, hidden))
        return dx, (dh0,), grads, dhs

    def step(self, w, x_t, state):
        (h_prev,) = state
        pre = x_t @ w.weight_ih.T + w.bias_ih + h_prev @ w.weight_hh.T + w.bias_hh
        h = np.maximum(pre, 0.0) if self.nonlinearity == "relu" else np.tanh(pre)
        return h, (h,), {"h": h}


class LSTMCell(Cell):
    r"""Long short-term memory, PyTorch's equations:

    .. math::
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``, ``c_0 (B, H)``. Outputs: ``y (T, B, H)``,
    ``h_n``, ``c_n``. Gate blocks of the weights in the order i, f, g, o.
    """

    gates = 4
    state_names = ("h", "c")

    def _forget_bias(self, weights: CellWeights, forget_bias: float) -> None:
        hidden = weights.weight_hh.shape[1]
        weights.bias_ih[hidden : 2 * hidden] += forget_bias

    def forward(self, w, x, initial, mask=None):
        h0, c0 = initial
        steps, batch, _ = x.shape
        hidden = w.weight_hh.shape[1]
        x2d = x.reshape(steps * batch, -1)
        acts = (x2d @ w.weight_ih.T).reshape(steps, batch, 4 * hidden)
        acts += w.bias_ih + w.bias_hh
        hs = np.empty((steps + 1, batch, hidden), dtype=x.dtype)
        cs = np.empty((steps + 1, batch, hidden), dtype=x.dtype)
        tanh_c = np.empty((steps, batch, hidden), dtype=x.dtype)
        hs[0], cs[0] = h0, c0
        whh_t = np.ascontiguousarray(w.weight_hh.T)
        recurrent = np.empty((batch, 4 * hidden), dtype=x.dtype)
        ig = np.empty((batch, hidden), dtype=x.dtype)
        h2, h3 = 2 * hidden, 3 * hidden
        for t in range(steps):
            a = acts[t]
            np.matmul(hs[t], whh_t, out=recurrent)
            a += recurrent
            sigmoid(a[:, :h2], out=a[:, :h2])
            np.tanh(a[:, h2:h3], out=a[:, h2:h3])
            sigmoid(a[:, h3:], out=a[:, h3:])
            c = cs[t + 1]
            np.multiply(a[:, hidden:h2], cs[t], out=c)
            np.multiply(a[:, :hidden], a[:, h2:h3], out=ig)
            c += ig
            np.tanh(c, out=tanh_c[t])
            np.multiply(a[:, h3:], tanh_c[t], out=hs[t + 1])
            if mask is not None:
                _blend(mask[t], c, cs[t])
                _blend(mask[t], hs[t + 1], hs[t])
        cache = (x2d, hs, cs, acts, tanh_c, mask)
        return hs[1:], (hs[steps], cs[steps]), cache

    def backward(self, w, cache, dy, dfinal):
        x2d, hs, cs, acts, tanh_c, mask = cache
        steps, batch, hidden = tanh_c.shape
        dtype = hs.dtype
        h2, h3 = 2 * hidden, 3 * hidden
        i, f, g, o = acts[..., :hidden], acts[..., hidden:h2], acts[..., h2:h3], acts[..., h3:]
        # Factors that do not depend on the recurrence, for all steps at once.
        dc_from_dh = o * (1.0 - tanh_c * tanh_c)
        gate_factor = np.empty_like(acts)
        gate_factor[..., :hidden] = g * i * (1.0 - i)
        gate_factor[..., hidden:h2] = cs[:-1] * f * (1.0 - f)
        gate_factor[..., h2:h3] = i * (1.0 - g * g)
        gate_factor[..., h3:] = tanh_c * o * (1.0 - o)
        factor4 = gate_factor.reshape(steps, batch, 4, hidden)
        da = np.empty_like(acts)
        da4 = da.reshape(steps, batch, 4, hidden)  # gate blocks as an axis: i, f, g, o
        dhs = np.empty((steps, batch, hidden), dtype)  # d loss / d h_t, kept for display
        dh0 = np.empty((batch, hidden), dtype)
        _start(dhs[steps - 1], dfinal[0])
        dc = np.zeros((batch, hidden), dtype) if dfinal[1] is None else dfinal[1].copy()
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            if dy is not None:
                dh += dy[t]
            if mask is None:
                dh_in = dh
            else:
                m = mask[t]
                dh_in = dh * m
                dc_keep = dc * (1.0 - m)
                dc *= m
            dc += dh_in * dc_from_dh[t]
            d4 = da4[t]
            np.multiply(factor4[t, :, :3], dc[:, None, :], out=d4[:, :3])
            np.multiply(factor4[t, :, 3], dh_in, out=d4[:, 3])
            dc *= f[t]
            target = dhs[t - 1] if t > 0 else dh0
            np.matmul(da[t], w.weight_hh, out=target)
            if mask is not None:
                dc += dc_keep
                target += dh * (1.0 - m)
        dx = (da.reshape(steps * batch, -1) @ w.weight_ih).reshape(steps, batch, -1)
        grads = _weight_grads(w, da, x2d, hs[:-1].reshape(steps * batch, hidden))
        return dx, (dh0, dc), grads, dhs

    def step(self, w, x_t, state):
        h_prev, c_prev = state
        hidden = h_prev.shape[1]
        a = x_t @ w.weight_ih.T + w.bias_ih + h_prev @ w.weight_hh.T + w.bias_hh
        i = sigmoid(a[:, :hidden])
        f = sigmoid(a[:, hidden : 2 * hidden])
        g = np.tanh(a[:, 2 * hidden : 3 * hidden])
        o = sigmoid(a[:, 3 * hidden :])
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        return h, (h, c), {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


class GRUCell(Cell):
    r"""Gated recurrent unit, PyTorch's equations:

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``. Outputs: ``y (T, B, H)``, ``h_n``. Gate blocks in
    the order r, z, n.
    """

    gates = 3

    def forward(self, w, x, initial, mask=None):
        (h0,) = initial
        steps, batch, _ = x.shape
        hidden = w.weight_hh.shape[1]
        h2 = 2 * hidden
        x2d = x.reshape(steps * batch, -1)
        xp = (x2d @ w.weight_ih.T).reshape(steps, batch, 3 * hidden)
        xp += w.bias_ih
        xp[..., :h2] += w.bias_hh[:h2]
        hn_part = np.empty((steps, batch, hidden), dtype=x.dtype)  # W_hn h + b_hn
        acts = xp  # reused in place: r, z, n after activation
        hs = np.empty((steps + 1, batch, hidden), dtype=x.dtype)
        hs[0] = h0
        whh_t = np.ascontiguousarray(w.weight_hh.T)
        b_hn = w.bias_hh[h2:]
        recurrent = np.empty((batch, 3 * hidden), dtype=x.dtype)
        for t in range(steps):
            a = acts[t]
            np.matmul(hs[t], whh_t, out=recurrent)
            a[:, :h2] += recurrent[:, :h2]
            sigmoid(a[:, :h2], out=a[:, :h2])
            np.add(recurrent[:, h2:], b_hn, out=hn_part[t])
            n = a[:, h2:]
            n += a[:, :hidden] * hn_part[t]
            np.tanh(n, out=n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)
            h *= a[:, hidden:h2]
            h += n
            _blend(None if mask is None else mask[t], h, hs[t])
        cache = (x2d, hs, acts, hn_part, mask)
        return hs[1:], (hs[steps],), cache

    def backward(self, w, cache, dy, dfinal):
        x2d, hs, acts, hn_part, mask = cache
        steps, batch, hidden = hn_part.shape
        h2 = 2 * hidden
        dtype = hs.dtype
        r, z, n = acts[..., :hidden], acts[..., hidden:h2], acts[..., h2:]
        dxp = np.empty_like(acts)  # gradient of the input-side pre-activations
        dhh = np.empty_like(acts)  # gradient of W_hh h + b_hh
        one_minus_z = 1.0 - z
        dn_factor = one_minus_z * (1.0 - n * n)
        dz_factor = (hs[:-1] - n) * z * one_minus_z
        dr_factor = hn_part * r * (1.0 - r)
        dhs = np.empty((steps, batch, hidden), dtype)  # d loss / d h_t, kept for display
        dh0 = np.empty((batch, hidden), dtype)
        _start(dhs[steps - 1], dfinal[0])
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            if dy is not None:
                dh += dy[t]
            dh_in = dh if mask is None else dh * mask[t]
            dn = np.multiply(dh_in, dn_factor[t], out=dxp[t][:, h2:])
            np.multiply(dn, dr_factor[t], out=dxp[t][:, :hidden])
            np.multiply(dh_in, dz_factor[t], out=dxp[t][:, hidden:h2])
            d = dhh[t]
            d[:, :h2] = dxp[t][:, :h2]
            np.multiply(dn, r[t], out=d[:, h2:])
            target = dhs[t - 1] if t > 0 else dh0
            np.matmul(d, w.weight_hh, out=target)
            target += dh_in * z[t]
            if mask is not None:
                target += dh * (1.0 - mask[t])
        dx = (dxp.reshape(steps * batch, -1) @ w.weight_ih).reshape(steps, batch, -1)
        dxp2d = dxp.reshape(-1, 3 * hidden)
        dhh2d = dhh.reshape(-1, 3 * hidden)
        grads = {
            "weight_ih": dxp2d.T @ x2d,
            "weight_hh": dhh2d.T @ hs[:-1].reshape(steps * batch, hidden),
            "bias_ih": dxp2d.sum(axis=0),
            "bias_hh": dhh2d.sum(axis=0),
        }
        return dx, (dh0,), grads, dhs

    def step(self, w, x_t, state):
        (h_prev,) = state
        hidden = h_prev.shape[1]
        xp = x_t @ w.weight_ih.T + w.bias_ih
        hp = h_prev @ w.weight_hh.T + w.bias_hh
        r = sigmoid(xp[:, :hidden] + hp[:, :hidden])
        z = sigmoid(xp[:, hidden : 2 * hidden] + hp[:, hidden : 2 * hidden])
        n = np.tanh(xp[:, 2 * hidden :] + r * hp[:, 2 * hidden :])
        h = (1.0 - z) * n + z * h_prev
        return h, (h,), {"h": h, "r": r, "z": z, "n": n}


def make_cell(type_name: str, params: dict) -> Cell:
    if type_name == "rnn":
        return ElmanCell(params.get("nonlinearity", "tanh"))
    if type_name == "lstm":
        return LSTMCell()
    if type_name == "gru":
        return GRUCell()
    raise ValueError(f"not a cell type: {type_name}")
