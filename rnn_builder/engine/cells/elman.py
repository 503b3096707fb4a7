"""The Elman RNN cell, fast: forward, backward and one step (the plain form is
``kernels.reference.rnn_forward``).
"""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.cell_layout import (
    LOOP_CALLS,
    StepWeights,
    blend,
    feature_major,
    input_grad,
    mask_rows,
    own_transposed,
    stacked,
)
from rnn_builder.engine.cells.base import Cell
from rnn_builder.engine.overlap import Products

Array = np.ndarray


class ElmanCell(Cell):
    r"""Elman RNN: :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`,
    with :math:`\phi` = tanh or relu.

    Inputs: ``x (T, B, D)``, ``h_0 (B, H)``. Outputs: ``y (T, B, H)`` (every ``h_t``), ``h_n``.
    """

    gates = 1

    def __init__(self, nonlinearity: str = "tanh") -> None:
        self.nonlinearity = nonlinearity

    def forward(self, w, x, initial, mask=None):
        """``reference.rnn_forward``, fused:

        * ``np.dot(w_all, z[t])`` with ``w_all = [W_ih | b_ih + b_hh | W_hh]`` and
          ``z[t] = [x_t; 1; h_{t-1}]`` is ``a`` of ``reference.rnn_step``, written straight
          into ``hs[t + 1]``; the in-place tanh / maximum turns it into ``h``;
        * ``blend`` is the mask line of ``rnn_forward`` (``h_t = m h̃_t + (1 − m) h_{t−1}``);
        * ``factors[t]`` is ``dphi`` of ``reference.rnn_step_backward`` times ``m_t``, for all
          steps at once (relu's ``[a > 0]`` read as ``[h > 0]``, the same set).
        """
        (h0,) = initial
        steps, _, features = x.shape
        z = stacked(x, h0)
        hs = z[:, features + 1 :]
        w_all = np.concatenate(
            [w.weight_ih, (w.bias_ih + w.bias_hh)[:, None], w.weight_hh], axis=1
        ).astype(x.dtype, copy=False)
        mask_t = mask_rows(mask)
        relu = self.nonlinearity == "relu"
        dot, tanh = LOOP_CALLS[:2]
        for t in range(steps):
            h = hs[t + 1]
            dot(w_all, z[t], h)
            if relu:
                np.maximum(h, 0.0, out=h)
            else:
                tanh(h, h)
            if mask_t is not None:
                blend(mask_t[t], h, hs[t])
        # d h_t / d pre-activation (times the mask), for all steps at once: the backward loop
        # then needs one product per step for it instead of three calls.
        factors = np.greater(hs[1:], 0.0).astype(x.dtype) if relu else 1.0 - hs[1:] * hs[1:]
        if mask_t is not None:
            factors *= mask_t
        cache = (z, features, factors, mask_t)
        return feature_major(hs[1:]), (hs[steps].T.copy(),), cache

    def backward(self, w, cache, dy, dfinal, need_dx=True):
        """``reference.rnn_backward``, fused:

        * ``dhs[t]`` ends as ``dh`` of ``rnn_backward`` at step t (``dy[t]``, plus ``dh_n`` at
          the last step, plus what step t+1 sends back), returned as ``h_t``;
        * ``da[t] = dhs[t] · factors[t]`` is ``da`` of ``rnn_step_backward`` (the mask folded
          into the factors);
        * ``W_hhᵀ da[t]`` is its ``dh_prev``; ``+ dhs[t] (1 − m_t)`` the carry through a padded
          step;
        * ``products = Σ_t da_t [x_t; 1; h_{t−1}]ᵀ`` (after the loop, or in chunks on the helper
          thread) holds ``dW_ih``, ``db`` (both biases) and ``dW_hh`` summed over steps;
        * ``input_grad``: ``dx`` of every step in one product ``W_ihᵀ da``.
        """
        z, features, factors, mask_t = cache
        hs = z[:, features + 1 :]
        steps, hidden, batch = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        dtype = z.dtype
        dhs = own_transposed(dy) if dy is not None else np.zeros((steps, hidden, batch), dtype)
        if dfinal[0] is not None:
            dhs[steps - 1] += dfinal[0].T
        da = np.empty_like(dhs)
        w_hh_t = np.ascontiguousarray(w.weight_hh.T, dtype=dtype)
        scratch = np.empty((hidden, batch), dtype)
        dh0 = np.empty((hidden, batch), dtype)
        products = Products(da, z)
        dot, _, multiply, add, _ = LOOP_CALLS
        for t in range(steps - 1, -1, -1):
            d = multiply(dhs[t], factors[t], da[t])
            target = dhs[t - 1] if t > 0 else dh0
            dot(w_hh_t, d, scratch)
            if t > 0:
                add(target, scratch, target)
            else:
                target[...] = scratch
            if mask_t is not None:
                target += dhs[t] * (1.0 - mask_t[t])
            products.ready(t)
        products = products.total()
        grads = {
            "weight_ih": products[:, :features],
            "weight_hh": products[:, features + 1 :],
            "bias_ih": products[:, features].copy(),
            "bias_hh": products[:, features].copy(),
        }
        dx = input_grad(w.weight_ih, da, need_dx)
        return dx, (dh0.T.copy(),), grads, dhs.transpose(0, 2, 1)

    def prepare(self, w):
        fused = np.concatenate([w.weight_ih, (w.bias_ih + w.bias_hh)[:, None], w.weight_hh], 1)
        return StepWeights(fused.T.copy())

    def step(self, prepared, x_t, state, out=None, projected=None):
        """One step for a batch ``x_t (B, D)``: returns ``h`` (written into ``out`` when
        given), the new state and what to show. ``projected``: this step's row of
        :meth:`project`, which then stands for ``x_t``. ``reference.rnn_step``: the product
        (with ``projected`` added) is ``a``, the nonlinearity makes it ``h``."""
        (h_prev,) = state
        if projected is None:
            h = np.matmul(prepared.stacked(x_t, h_prev), prepared.weights, out=out)
        else:
            h = np.matmul(h_prev, prepared.recurrent, out=out)
            h += projected
        h = np.maximum(h, 0.0, out=h) if self.nonlinearity == "relu" else np.tanh(h, out=h)
        return h, (h,), {"h": h}
