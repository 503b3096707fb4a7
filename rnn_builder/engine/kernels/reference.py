"""The cells written as a textbook writes them: the reference the fast kernels are held to.

Every function here computes what ``rnn_builder.engine.cells`` computes — Elman RNN (tanh or relu),
LSTM and GRU with PyTorch's equations, weight layout and gate order — and what
``engine.kernels.attention`` computes (at the end of the file) in the plainest way:
one named intermediate per equation line, a plain loop over time, nothing fused, nothing
reordered, every value in float64. It is slow on purpose, and it is never run by the app: its
job is to be read next to a textbook, and to be the other side of
``tests/test_reference_kernels.py``, which holds the fast kernels equal to it (and holds it
equal to finite differences, so that it does not merely repeat the fast path's mistakes).

Conventions (PyTorch's names; one direction of a cell — a bidirectional cell is this run once
on ``x`` and once on ``x`` reversed in time):

* ``weights``: a mapping with ``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``,
  ``bias_ih (G·H)``, ``bias_hh (G·H)``; the gate blocks in the order i, f, g, o (LSTM) and
  r, z, n (GRU). Any object with those four attributes will do too (``cells.CellWeights``).
* shapes are time-major and batch-major within a step: ``x (T, B, D)``, ``y (T, B, H)``, each
  state ``(B, H)``; a row vector per example, so a product reads ``x_t W_ihᵀ``.
* ``mask (T, B, 1)`` or ``(T, B)``, optional: 1 for a real step, 0 for padding after the end of
  a shorter sequence. A padded step carries the state through unchanged,
  ``h_t = m_t h̃_t + (1 − m_t) h_{t−1}`` where ``h̃_t`` is what the step computed, so the final
  state is each sequence's state after its own last step (and ``y_t`` at a padded step repeats
  it).
* ``*_step`` computes one step and returns every intermediate by name (the gates are what live
  stepping shows); ``*_forward`` loops it over time and returns ``y``, the final states and a
  cache (the list of steps); ``*_step_backward`` turns the gradient reaching one step's output
  into the gradients of its inputs and its share of the weights' gradients; ``*_backward``
  loops it backwards in time (BPTT) and returns a dict of gradients: ``x``, ``h_0`` (and
  ``c_0``), the four weights by name, and ``h_t (T, B, H)``, the whole gradient reaching each
  step's hidden state (what the gradient-flow view plots).
* gradients arriving at the outputs: ``dy (T, B, H)`` at every step's output and ``dh_n``
  (``dc_n``) at the final states; any of them may be None (no gradient arrives there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Array = np.ndarray
Step = dict[str, Array]
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


# --- helpers ------------------------------------------------------------------------------------


def sigmoid(a: Array) -> Array:
    """σ(a) = 1 / (1 + e^(−a)), as written."""
    return 1.0 / (1.0 + np.exp(-a))


def float64_weights(weights: Mapping[str, Array] | Any) -> dict[str, Array]:
    """The four tensors by name, as float64 copies (from a mapping or an object)."""
    if isinstance(weights, Mapping):
        return {name: np.array(weights[name], dtype=np.float64) for name in WEIGHT_NAMES}
    return {name: np.array(getattr(weights, name), dtype=np.float64) for name in WEIGHT_NAMES}


def gate_blocks(tensor: Array, gates: int) -> list[Array]:
    """The gate blocks of a weight or bias tensor, in PyTorch's order (rows split evenly)."""
    return np.split(tensor, gates, axis=0)


def step_masks(mask: Array | None, steps: int, batch: int) -> Array:
    """``(T, B, 1)`` float64: the given mask, or 1 everywhere."""
    if mask is None:
        return np.ones((steps, batch, 1))
    return np.asarray(mask, dtype=np.float64).reshape(steps, batch, 1)


def zeros_like_weights(weights: dict[str, Array]) -> dict[str, Array]:
    return {name: np.zeros_like(weights[name]) for name in WEIGHT_NAMES}


def incoming(gradient: Array | None, shape: tuple[int, ...]) -> Array:
    """A gradient arriving from outside, or zeros where none arrives."""
    return np.zeros(shape) if gradient is None else np.asarray(gradient, dtype=np.float64)


# --- Elman RNN ----------------------------------------------------------------------------------


def rnn_step(weights: Mapping[str, Array], x_t: Array, h_prev: Array, nonlinearity: str) -> Step:
    r"""One step of an Elman RNN.

    .. math::
        a_t = x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh} \\
        h_t = \phi(a_t), \quad \phi = \tanh \text{ or } \mathrm{relu}
    """
    W_ih, W_hh = weights["weight_ih"], weights["weight_hh"]
    b_ih, b_hh = weights["bias_ih"], weights["bias_hh"]
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
    return {"x": x_t, "h_prev": h_prev, "a": a, "h": h}


def rnn_step_backward(
    weights: Mapping[str, Array], step: Step, dh: Array, nonlinearity: str
) -> dict[str, Array]:
    r"""The gradients of one step from :math:`\partial L / \partial h_t` (``dh``).

    .. math::
        \delta a_t = \delta h_t \odot \phi'(a_t), \quad
            \tanh' = 1 - h_t^2, \quad \mathrm{relu}' = [a_t > 0] \\
        \delta x_t = \delta a_t W_{ih} \\
        \delta h_{t-1} = \delta a_t W_{hh} \\
        \delta W_{ih} = \delta a_t^T x_t, \quad \delta W_{hh} = \delta a_t^T h_{t-1} \\
        \delta b_{ih} = \delta b_{hh} = \textstyle\sum_{batch} \delta a_t
    """
    W_ih, W_hh = weights["weight_ih"], weights["weight_hh"]
    x_t, h_prev, a, h = step["x"], step["h_prev"], step["a"], step["h"]
    dphi = 1.0 - h * h if nonlinearity == "tanh" else (a > 0.0).astype(np.float64)
    da = dh * dphi
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dW_ih = da.T @ x_t
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return {
        "x": dx,
        "h_prev": dh_prev,
        "weight_ih": dW_ih,
        "weight_hh": dW_hh,
        "bias_ih": db,
        "bias_hh": db,
    }


def rnn_forward(
    weights: Mapping[str, Array] | Any,
    x: Array,
    h_0: Array,
    nonlinearity: str = "tanh",
    mask: Array | None = None,
) -> tuple[Array, tuple[Array], dict[str, Any]]:
    r"""An Elman RNN over a whole sequence: :func:`rnn_step` for t = 0 … T−1, then

    .. math:: h_t = m_t h̃_t + (1 - m_t) h_{t-1}, \quad y_t = h_t, \quad h_n = h_{T-1}

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``. Outputs: ``y (T, B, H)``, ``(h_n,)``, a cache.
    """
    weights = float64_weights(weights)
    x = np.asarray(x, dtype=np.float64)
    steps, batch, _ = x.shape
    masks = step_masks(mask, steps, batch)
    h = np.asarray(h_0, dtype=np.float64)
    y = np.zeros((steps, batch, h.shape[1]))
    cache: list[Step] = []
    for t in range(steps):
        step = rnn_step(weights, x[t], h, nonlinearity)
        h = masks[t] * step["h"] + (1.0 - masks[t]) * h
        y[t] = h
        cache.append(step)
    return (
        y,
        (h,),
        {"steps": cache, "masks": masks, "weights": weights, "nonlinearity": nonlinearity},
    )


def rnn_backward(cache: dict[str, Any], dy: Array | None, dh_n: Array | None) -> dict[str, Array]:
    r"""Backpropagation through time for :func:`rnn_forward`. For t = T−1 … 0:

    .. math::
        \delta h_t = \delta y_t + [t = T-1]\,\delta h_n + \delta h_t^{\text{from } t+1} \\
        \text{step } t \text{ gets } m_t \delta h_t \text{ (see } \texttt{rnn\_step\_backward}) \\
        \delta h_{t-1}^{\text{from } t} = \delta h_{t-1}^{\text{step}} + (1 - m_t) \delta h_t

    and every weight's gradient is the sum of its steps' shares (the weights are shared in
    time). Returns ``x``, ``h_0``, the four weights, ``h_t``.
    """
    weights, masks, steps = cache["weights"], cache["masks"], cache["steps"]
    nonlinearity = cache["nonlinearity"]
    count, batch, hidden = len(steps), steps[0]["h"].shape[0], steps[0]["h"].shape[1]
    dy = incoming(dy, (count, batch, hidden))
    dh = incoming(dh_n, (batch, hidden))
    grads = zeros_like_weights(weights)
    dx = np.zeros((count, batch, weights["weight_ih"].shape[1]))
    dh_of_step = np.zeros((count, batch, hidden))
    for t in reversed(range(count)):
        dh = dh + dy[t]
        dh_of_step[t] = dh
        step_grads = rnn_step_backward(weights, steps[t], masks[t] * dh, nonlinearity)
        dx[t] = step_grads["x"]
        dh = step_grads["h_prev"] + (1.0 - masks[t]) * dh
        for name in WEIGHT_NAMES:
            grads[name] += step_grads[name]
    return {"x": dx, "h_0": dh, **grads, "h_t": dh_of_step}


# --- LSTM ---------------------------------------------------------------------------------------


def lstm_step(weights: Mapping[str, Array], x_t: Array, h_prev: Array, c_prev: Array) -> Step:
    r"""One step of an LSTM, PyTorch's equations (gate blocks i, f, g, o).

    .. math::
        a^i_t = x_t W_{ii}^T + b_{ii} + h_{t-1} W_{hi}^T + b_{hi}, \quad i_t = \sigma(a^i_t) \\
        a^f_t = x_t W_{if}^T + b_{if} + h_{t-1} W_{hf}^T + b_{hf}, \quad f_t = \sigma(a^f_t) \\
        a^g_t = x_t W_{ig}^T + b_{ig} + h_{t-1} W_{hg}^T + b_{hg}, \quad g_t = \tanh(a^g_t) \\
        a^o_t = x_t W_{io}^T + b_{io} + h_{t-1} W_{ho}^T + b_{ho}, \quad o_t = \sigma(a^o_t) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
    """
    W_ii, W_if, W_ig, W_io = gate_blocks(weights["weight_ih"], 4)
    W_hi, W_hf, W_hg, W_ho = gate_blocks(weights["weight_hh"], 4)
    b_ii, b_if, b_ig, b_io = gate_blocks(weights["bias_ih"], 4)
    b_hi, b_hf, b_hg, b_ho = gate_blocks(weights["bias_hh"], 4)
    a_i = x_t @ W_ii.T + b_ii + h_prev @ W_hi.T + b_hi
    a_f = x_t @ W_if.T + b_if + h_prev @ W_hf.T + b_hf
    a_g = x_t @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg
    a_o = x_t @ W_io.T + b_io + h_prev @ W_ho.T + b_ho
    i = sigmoid(a_i)
    f = sigmoid(a_f)
    g = np.tanh(a_g)
    o = sigmoid(a_o)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return {
        "x": x_t,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "c": c,
        "tanh_c": tanh_c,
        "h": h,
    }


def lstm_step_backward(
    weights: Mapping[str, Array], step: Step, dh: Array, dc: Array
) -> dict[str, Array]:
    r"""The gradients of one step from :math:`\partial L / \partial h_t` (``dh``) and the
    gradient reaching :math:`c_t` from later steps or from :math:`c_n` (``dc``).

    .. math::
        \delta o_t = \delta h_t \odot \tanh(c_t) \\
        \delta c_t = \delta c_t^{\text{later}} + \delta h_t \odot o_t \odot (1 - \tanh^2(c_t)) \\
        \delta f_t = \delta c_t \odot c_{t-1}, \quad
        \delta i_t = \delta c_t \odot g_t, \quad
        \delta g_t = \delta c_t \odot i_t \\
        \delta c_{t-1} = \delta c_t \odot f_t \\
        \delta a^i_t = \delta i_t \odot i_t (1 - i_t), \quad
        \delta a^f_t = \delta f_t \odot f_t (1 - f_t) \\
        \delta a^g_t = \delta g_t \odot (1 - g_t^2), \quad
        \delta a^o_t = \delta o_t \odot o_t (1 - o_t) \\
        \delta x_t = \textstyle\sum_k \delta a^k_t W_{ik}, \quad
        \delta h_{t-1} = \textstyle\sum_k \delta a^k_t W_{hk} \quad (k = i, f, g, o) \\
        \delta W_{ik} = (\delta a^k_t)^T x_t, \quad \delta W_{hk} = (\delta a^k_t)^T h_{t-1}, \quad
        \delta b_{ik} = \delta b_{hk} = \textstyle\sum_{batch} \delta a^k_t
    """
    W_ii, W_if, W_ig, W_io = gate_blocks(weights["weight_ih"], 4)
    W_hi, W_hf, W_hg, W_ho = gate_blocks(weights["weight_hh"], 4)
    x_t, h_prev, c_prev = step["x"], step["h_prev"], step["c_prev"]
    i, f, g, o, tanh_c = step["i"], step["f"], step["g"], step["o"], step["tanh_c"]
    do = dh * tanh_c
    dc_t = dc + dh * o * (1.0 - tanh_c * tanh_c)
    df = dc_t * c_prev
    di = dc_t * g
    dg = dc_t * i
    dc_prev = dc_t * f
    da_i = di * i * (1.0 - i)
    da_f = df * f * (1.0 - f)
    da_g = dg * (1.0 - g * g)
    da_o = do * o * (1.0 - o)
    dx = da_i @ W_ii + da_f @ W_if + da_g @ W_ig + da_o @ W_io
    dh_prev = da_i @ W_hi + da_f @ W_hf + da_g @ W_hg + da_o @ W_ho
    dW_ih = np.concatenate([da_i.T @ x_t, da_f.T @ x_t, da_g.T @ x_t, da_o.T @ x_t])
    dW_hh = np.concatenate([da_i.T @ h_prev, da_f.T @ h_prev, da_g.T @ h_prev, da_o.T @ h_prev])
    db = np.concatenate([da_i.sum(0), da_f.sum(0), da_g.sum(0), da_o.sum(0)])
    return {
        "x": dx,
        "h_prev": dh_prev,
        "c_prev": dc_prev,
        "weight_ih": dW_ih,
        "weight_hh": dW_hh,
        "bias_ih": db,
        "bias_hh": db,
    }


def lstm_forward(
    weights: Mapping[str, Array] | Any,
    x: Array,
    h_0: Array,
    c_0: Array,
    mask: Array | None = None,
) -> tuple[Array, tuple[Array, Array], dict[str, Any]]:
    r"""An LSTM over a whole sequence: :func:`lstm_step` for t = 0 … T−1, then

    .. math::
        h_t = m_t h̃_t + (1 - m_t) h_{t-1}, \quad c_t = m_t c̃_t + (1 - m_t) c_{t-1}, \quad
        y_t = h_t

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``, ``c_0 (B, H)``. Outputs: ``y (T, B, H)``,
    ``(h_n, c_n)``, a cache.
    """
    weights = float64_weights(weights)
    x = np.asarray(x, dtype=np.float64)
    steps, batch, _ = x.shape
    masks = step_masks(mask, steps, batch)
    h = np.asarray(h_0, dtype=np.float64)
    c = np.asarray(c_0, dtype=np.float64)
    y = np.zeros((steps, batch, h.shape[1]))
    cache: list[Step] = []
    for t in range(steps):
        step = lstm_step(weights, x[t], h, c)
        h = masks[t] * step["h"] + (1.0 - masks[t]) * h
        c = masks[t] * step["c"] + (1.0 - masks[t]) * c
        y[t] = h
        cache.append(step)
    return y, (h, c), {"steps": cache, "masks": masks, "weights": weights}


def lstm_backward(
    cache: dict[str, Any], dy: Array | None, dh_n: Array | None, dc_n: Array | None
) -> dict[str, Array]:
    r"""Backpropagation through time for :func:`lstm_forward`. For t = T−1 … 0:

    .. math::
        \delta h_t = \delta y_t + [t = T-1]\,\delta h_n + \delta h_t^{\text{from } t+1} \\
        \text{step } t \text{ gets } m_t \delta h_t,\ m_t \delta c_t
            \text{ (see } \texttt{lstm\_step\_backward}) \\
        \delta h_{t-1} = \delta h_{t-1}^{\text{step}} + (1 - m_t) \delta h_t, \quad
        \delta c_{t-1} = \delta c_{t-1}^{\text{step}} + (1 - m_t) \delta c_t

    starting from :math:`\delta c_{T-1} = \delta c_n`. Returns ``x``, ``h_0``, ``c_0``, the
    four weights, ``h_t``.
    """
    weights, masks, steps = cache["weights"], cache["masks"], cache["steps"]
    count, batch, hidden = len(steps), steps[0]["h"].shape[0], steps[0]["h"].shape[1]
    dy = incoming(dy, (count, batch, hidden))
    dh = incoming(dh_n, (batch, hidden))
    dc = incoming(dc_n, (batch, hidden))
    grads = zeros_like_weights(weights)
    dx = np.zeros((count, batch, weights["weight_ih"].shape[1]))
    dh_of_step = np.zeros((count, batch, hidden))
    for t in reversed(range(count)):
        dh = dh + dy[t]
        dh_of_step[t] = dh
        step_grads = lstm_step_backward(weights, steps[t], masks[t] * dh, masks[t] * dc)
        dx[t] = step_grads["x"]
        dh = step_grads["h_prev"] + (1.0 - masks[t]) * dh
        dc = step_grads["c_prev"] + (1.0 - masks[t]) * dc
        for name in WEIGHT_NAMES:
            grads[name] += step_grads[name]
    return {"x": dx, "h_0": dh, "c_0": dc, **grads, "h_t": dh_of_step}


# --- GRU ----------------------------------------------------------------------------------------


def gru_step(weights: Mapping[str, Array], x_t: Array, h_prev: Array) -> Step:
    r"""One step of a GRU, PyTorch's equations (gate blocks r, z, n; the reset gate multiplies
    the recurrent side of n *after* its bias).

    .. math::
        a^r_t = x_t W_{ir}^T + b_{ir} + h_{t-1} W_{hr}^T + b_{hr}, \quad r_t = \sigma(a^r_t) \\
        a^z_t = x_t W_{iz}^T + b_{iz} + h_{t-1} W_{hz}^T + b_{hz}, \quad z_t = \sigma(a^z_t) \\
        u_t = h_{t-1} W_{hn}^T + b_{hn} \\
        a^n_t = x_t W_{in}^T + b_{in} + r_t \odot u_t, \quad n_t = \tanh(a^n_t) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    """
    W_ir, W_iz, W_in = gate_blocks(weights["weight_ih"], 3)
    W_hr, W_hz, W_hn = gate_blocks(weights["weight_hh"], 3)
    b_ir, b_iz, b_in = gate_blocks(weights["bias_ih"], 3)
    b_hr, b_hz, b_hn = gate_blocks(weights["bias_hh"], 3)
    a_r = x_t @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr
    a_z = x_t @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz
    r = sigmoid(a_r)
    z = sigmoid(a_z)
    u = h_prev @ W_hn.T + b_hn
    a_n = x_t @ W_in.T + b_in + r * u
    n = np.tanh(a_n)
    h = (1.0 - z) * n + z * h_prev
    return {"x": x_t, "h_prev": h_prev, "r": r, "z": z, "u": u, "n": n, "h": h}


def gru_step_backward(weights: Mapping[str, Array], step: Step, dh: Array) -> dict[str, Array]:
    r"""The gradients of one step from :math:`\partial L / \partial h_t` (``dh``).

    .. math::
        \delta n_t = \delta h_t \odot (1 - z_t), \quad
        \delta z_t = \delta h_t \odot (h_{t-1} - n_t) \\
        \delta a^n_t = \delta n_t \odot (1 - n_t^2) \\
        \delta r_t = \delta a^n_t \odot u_t, \quad \delta u_t = \delta a^n_t \odot r_t \\
        \delta a^r_t = \delta r_t \odot r_t (1 - r_t), \quad
        \delta a^z_t = \delta z_t \odot z_t (1 - z_t) \\
        \delta x_t = \delta a^r_t W_{ir} + \delta a^z_t W_{iz} + \delta a^n_t W_{in} \\
        \delta h_{t-1} = \delta h_t \odot z_t + \delta a^r_t W_{hr} + \delta a^z_t W_{hz}
            + \delta u_t W_{hn} \\
        \delta W_{ir} = (\delta a^r_t)^T x_t, \ \delta W_{iz} = (\delta a^z_t)^T x_t, \
        \delta W_{in} = (\delta a^n_t)^T x_t \\
        \delta W_{hr} = (\delta a^r_t)^T h_{t-1}, \ \delta W_{hz} = (\delta a^z_t)^T h_{t-1}, \
        \delta W_{hn} = (\delta u_t)^T h_{t-1} \\
        \delta b_{ir} = \delta b_{hr} = \textstyle\sum \delta a^r_t, \
        \delta b_{iz} = \delta b_{hz} = \textstyle\sum \delta a^z_t, \
        \delta b_{in} = \textstyle\sum \delta a^n_t, \ \delta b_{hn} = \textstyle\sum \delta u_t
    """
    W_ir, W_iz, W_in = gate_blocks(weights["weight_ih"], 3)
    W_hr, W_hz, W_hn = gate_blocks(weights["weight_hh"], 3)
    x_t, h_prev = step["x"], step["h_prev"]
    r, z, u, n = step["r"], step["z"], step["u"], step["n"]
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    da_n = dn * (1.0 - n * n)
    dr = da_n * u
    du = da_n * r
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dx = da_r @ W_ir + da_z @ W_iz + da_n @ W_in
    dh_prev = dh * z + da_r @ W_hr + da_z @ W_hz + du @ W_hn
    dW_ih = np.concatenate([da_r.T @ x_t, da_z.T @ x_t, da_n.T @ x_t])
    dW_hh = np.concatenate([da_r.T @ h_prev, da_z.T @ h_prev, du.T @ h_prev])
    db_ih = np.concatenate([da_r.sum(0), da_z.sum(0), da_n.sum(0)])
    db_hh = np.concatenate([da_r.sum(0), da_z.sum(0), du.sum(0)])
    return {
        "x": dx,
        "h_prev": dh_prev,
        "weight_ih": dW_ih,
        "weight_hh": dW_hh,
        "bias_ih": db_ih,
        "bias_hh": db_hh,
    }


def gru_forward(
    weights: Mapping[str, Array] | Any, x: Array, h_0: Array, mask: Array | None = None
) -> tuple[Array, tuple[Array], dict[str, Any]]:
    r"""A GRU over a whole sequence: :func:`gru_step` for t = 0 … T−1, then

    .. math:: h_t = m_t h̃_t + (1 - m_t) h_{t-1}, \quad y_t = h_t, \quad h_n = h_{T-1}

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``. Outputs: ``y (T, B, H)``, ``(h_n,)``, a cache.
    """
    weights = float64_weights(weights)
    x = np.asarray(x, dtype=np.float64)
    steps, batch, _ = x.shape
    masks = step_masks(mask, steps, batch)
    h = np.asarray(h_0, dtype=np.float64)
    y = np.zeros((steps, batch, h.shape[1]))
    cache: list[Step] = []
    for t in range(steps):
        step = gru_step(weights, x[t], h)
        h = masks[t] * step["h"] + (1.0 - masks[t]) * h
        y[t] = h
        cache.append(step)
    return y, (h,), {"steps": cache, "masks": masks, "weights": weights}


def gru_backward(cache: dict[str, Any], dy: Array | None, dh_n: Array | None) -> dict[str, Array]:
    r"""Backpropagation through time for :func:`gru_forward`. For t = T−1 … 0:

    .. math::
        \delta h_t = \delta y_t + [t = T-1]\,\delta h_n + \delta h_t^{\text{from } t+1} \\
        \text{step } t \text{ gets } m_t \delta h_t \text{ (see } \texttt{gru\_step\_backward}) \\
        \delta h_{t-1}^{\text{from } t} = \delta h_{t-1}^{\text{step}} + (1 - m_t) \delta h_t

    Returns ``x``, ``h_0``, the four weights, ``h_t``.
    """
    weights, masks, steps = cache["weights"], cache["masks"], cache["steps"]
    count, batch, hidden = len(steps), steps[0]["h"].shape[0], steps[0]["h"].shape[1]
    dy = incoming(dy, (count, batch, hidden))
    dh = incoming(dh_n, (batch, hidden))
    grads = zeros_like_weights(weights)
    dx = np.zeros((count, batch, weights["weight_ih"].shape[1]))
    dh_of_step = np.zeros((count, batch, hidden))
    for t in reversed(range(count)):
        dh = dh + dy[t]
        dh_of_step[t] = dh
        step_grads = gru_step_backward(weights, steps[t], masks[t] * dh)
        dx[t] = step_grads["x"]
        dh = step_grads["h_prev"] + (1.0 - masks[t]) * dh
        for name in WEIGHT_NAMES:
            grads[name] += step_grads[name]
    return {"x": dx, "h_0": dh, **grads, "h_t": dh_of_step}
