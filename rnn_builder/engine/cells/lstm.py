"""The LSTM cell, fast: forward, backward and one step (the plain form is
``kernels.reference.lstm_forward``).
"""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.cell_layout import (
    StepWeights,
    blend,
    feature_major,
    gate_scale,
    input_grad,
    mask_rows,
    one_half,
    own_transposed,
    row_order,
    stacked,
)
from rnn_builder.engine.cells.base import Cell, CellWeights
from rnn_builder.engine.overlap import Chunked, Products, worth_it

Array = np.ndarray


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
    ``h_n``, ``c_n``. Gate blocks of the weights in the order i, f, g, o (inside a pass they are
    reordered i, f, o, g, so that the three sigmoid gates are one block).

    The forward pass also keeps what the backward pass multiplies the gradients by (the gate
    derivatives times their partners).
    """

    gates = 4
    state_names = ("h", "c")

    def _forget_bias(self, weights: CellWeights, forget_bias: float) -> None:
        hidden = weights.weight_hh.shape[1]
        weights.bias_ih[hidden : 2 * hidden] += forget_bias

    @staticmethod
    def _order(hidden: int) -> Array:
        """Row order i, f, o, g."""
        return row_order((0, 2 * hidden), (3 * hidden, 4 * hidden), (2 * hidden, 3 * hidden))

    def forward(self, w, x, initial, mask=None):
        """``reference.lstm_forward``, fused. The rows of ``w_all = [W_ih | b | W_hh]`` are
        reordered i, f, o, g and the sigmoid rows halved, so at step t:

        * ``np.matmul(w_all, z[t])`` is ``a_i/2, a_f/2, a_o/2, a_g`` of ``reference.lstm_step``;
        * one tanh, then ``· ½ + ½`` on the first 3H rows (σ(a) = (1 + tanh(a/2)) / 2): then
          ``acts[t, :H]`` is ``i``, ``acts[t, H:2H]`` is ``f``, ``acts[t, 2H:3H]`` is ``o`` and
          ``acts[t, 3H:]`` is ``g``;
        * ``cs[t + 1]`` is ``c``, ``tanh_cs[t]`` is ``tanh_c``, ``hs[t + 1]`` is ``h``;
          ``blend`` is the mask lines of ``lstm_forward``.

        ``factors_of`` keeps, for all steps, what ``reference.lstm_step_backward`` multiplies
        by, times ``m_t``: ``factors[t, :H] = i(1 − i) g`` (``da_i`` per ``dc_t``),
        ``[H:2H] = f(1 − f) c_{t−1}`` (``da_f`` per ``dc_t``), ``[2H:3H] = o(1 − o) tanh_c``
        (``da_o`` per ``dh``), ``[3H:] = (1 − g²) i`` (``da_g`` per ``dc_t``);
        ``dc_dh[t] = o (1 − tanh_c²)`` (the ``dh`` term of ``dc_t``).
        """
        h0, c0 = initial
        steps, batch, features = x.shape
        hidden = w.weight_hh.shape[1]
        dtype = x.dtype
        h2, h3 = 2 * hidden, 3 * hidden
        order = self._order(hidden)
        scale = gate_scale(h3, hidden, dtype)
        w_all = (
            np.concatenate([w.weight_ih, (w.bias_ih + w.bias_hh)[:, None], w.weight_hh], axis=1)[
                order
            ]
            * scale
        )
        z = stacked(x, h0)
        hs = z[:, features + 1 :]
        acts = np.empty((steps, 4 * hidden, batch), dtype)  # i, f, o, g
        factors = np.empty_like(acts)  # d gate pre-activation / d (dc, dc, dh, dc)
        dc_dh = np.empty((steps, hidden, batch), dtype)  # o (1 - tanh(c)^2)
        cs = np.empty((steps + 1, hidden, batch), dtype)
        cs[0] = c0.T
        mask_t = mask_rows(mask)
        ig = np.empty((hidden, batch), dtype)
        tanh_cs = np.empty((steps, hidden, batch), dtype)

        def factors_of(lo: int, hi: int) -> None:
            """What the backward pass multiplies by, for steps lo:hi at once (fewer calls than
            step by step; measured faster here at every size from 8 to 256), written in place:
            σ' = σ (1 - σ) for the three sigmoid gates in one block, then each times its partner."""
            a, tanh_c, out = acts[lo:hi], tanh_cs[lo:hi], factors[lo:hi]
            sig, g, d_sig, d_g = a[:, :h3], a[:, h3:], out[:, :h3], out[:, h3:]
            np.subtract(1.0, sig, out=d_sig)
            d_sig *= sig
            d_sig[:, :hidden] *= g  # i: times g
            d_sig[:, hidden:h2] *= cs[lo:hi]  # f: times c_{t-1}
            d_sig[:, h2:] *= tanh_c  # o: times tanh(c_t)
            np.multiply(g, g, out=d_g)
            np.subtract(1.0, d_g, out=d_g)
            d_g *= a[:, :hidden]  # g: (1 - g²) i
            dc = dc_dh[lo:hi]
            np.multiply(tanh_c, tanh_c, out=dc)
            np.subtract(1.0, dc, out=dc)
            dc *= a[:, h2:h3]  # o (1 - tanh(c)²)
            if mask_t is not None:
                out *= mask_t[lo:hi]
                dc *= mask_t[lo:hi]

        keep = Chunked(steps, factors_of, worth_it(acts.size))
        half = one_half(dtype)
        for t in range(steps):
            a = acts[t]
            np.matmul(w_all, z[t], out=a)
            np.tanh(a, out=a)
            sig = a[:h3]
            sig *= half
            sig += half
            i, f, o, g = a[:hidden], a[hidden:h2], a[h2:h3], a[h3:]
            c = cs[t + 1]
            np.multiply(f, cs[t], out=c)
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tanh_cs[t])
            np.multiply(o, tanh_cs[t], out=hs[t + 1])
            if mask_t is not None:
                blend(mask_t[t], c, cs[t])
                blend(mask_t[t], hs[t + 1], hs[t])
            keep.ready(t)
        keep.results()
        cache = (z, features, acts, factors, dc_dh, mask_t)
        return feature_major(hs[1:]), (hs[steps].T.copy(), cs[steps].T.copy()), cache

    def backward(self, w, cache, dy, dfinal, need_dx=True):
        """``reference.lstm_backward``, fused (rows in the forward pass's order i, f, o, g):

        * ``dhs[t]`` ends as ``dh`` of ``lstm_backward`` at step t (returned as ``h_t``);
          ``dc`` enters step t as its ``dc``;
        * ``dc += dh · dc_dh[t]`` makes it ``dc_t`` of ``reference.lstm_step_backward``;
        * ``da4[t] = factors4[t] · dc``, then block 2 ``= factors4[t, 2] · dh``: ``da[t]`` is
          ``da_i, da_f, da_o, da_g``;
        * ``dc *= f`` (then ``· m_t + dc (1 − m_t)``) is ``dc_prev`` with the carry of
          ``lstm_backward``;
        * ``W_hhᵀ da[t]`` (rows reordered alike) is ``dh_prev``; ``+ dh (1 − m_t)`` the carry;
        * ``products = Σ_t da_t [x_t; 1; h_{t−1}]ᵀ``, put back in the order i, f, g, o, holds
          ``dW_ih``, ``db`` (both biases) and ``dW_hh``; ``input_grad`` gives every ``dx``.
        """
        z, features, acts, factors, dc_dh, mask_t = cache
        steps, _, batch = acts.shape
        hidden = dc_dh.shape[1]
        dtype = z.dtype
        h2 = 2 * hidden
        order = self._order(hidden)
        factors4 = factors.reshape(steps, 4, hidden, batch)
        dhs = own_transposed(dy) if dy is not None else np.zeros((steps, hidden, batch), dtype)
        if dfinal[0] is not None:
            dhs[steps - 1] += dfinal[0].T
        dc = np.zeros((hidden, batch), dtype) if dfinal[1] is None else dfinal[1].T.copy()
        da = np.empty_like(acts)
        da4 = da.reshape(steps, 4, hidden, batch)
        w_hh_t = np.ascontiguousarray(w.weight_hh[order].T)
        scratch = np.empty((hidden, batch), dtype)
        dh0 = np.empty((hidden, batch), dtype)
        products = Products(da, z)
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            if mask_t is not None:
                dc_keep = dc * (1.0 - mask_t[t])
            np.multiply(dh, dc_dh[t], out=scratch)
            dc += scratch
            np.multiply(factors4[t], dc, out=da4[t])  # i, f, g take dc; o takes dh:
            np.multiply(factors4[t, 2], dh, out=da4[t, 2])  # one call fewer than block by block
            dc *= acts[t, hidden:h2]
            if mask_t is not None:
                dc *= mask_t[t]
                dc += dc_keep
            np.matmul(w_hh_t, da[t], out=scratch)
            target = dhs[t - 1] if t > 0 else dh0
            if t > 0:
                target += scratch
            else:
                target[...] = scratch
            if mask_t is not None:
                target += dh * (1.0 - mask_t[t])
            products.ready(t)
        products = products.total()
        restored = np.empty_like(products)
        restored[order] = products  # back to PyTorch's gate order i, f, g, o
        grads = {
            "weight_ih": restored[:, :features],
            "weight_hh": restored[:, features + 1 :],
            "bias_ih": restored[:, features].copy(),
            "bias_hh": restored[:, features].copy(),
        }
        dx = input_grad(w.weight_ih[order], da, need_dx)
        return dx, (dh0.T.copy(), dc.T.copy()), grads, dhs.transpose(0, 2, 1)

    def prepare(self, w):
        hidden = w.weight_hh.shape[1]
        scale = gate_scale(3 * hidden, hidden, w.weight_hh.dtype)
        fused = np.concatenate([w.weight_ih, (w.bias_ih + w.bias_hh)[:, None], w.weight_hh], 1)
        return StepWeights((fused[self._order(hidden)] * scale).T.copy())

    def step(self, prepared, x_t, state, out=None, projected=None):
        """One step for a batch ``x_t (B, D)``: returns ``h`` (written into ``out`` when
        given), the new state ``(h, c)`` and the gate values to show. ``projected``: this
        step's row of :meth:`project`, which then stands for ``x_t``. ``reference.lstm_step``
        with the forward pass's fusion: ``a`` holds ``a_i/2, a_f/2, a_o/2, a_g``; after the
        tanh and ``· ½ + ½`` its column blocks are ``i, f, o, g``; then ``c`` and ``h``."""
        h_prev, c_prev = state
        hidden = h_prev.shape[1]
        h2, h3 = 2 * hidden, 3 * hidden
        if projected is None:
            a = np.dot(prepared.stacked(x_t, h_prev), prepared.weights)  # i, f, o, g
        else:
            a = np.dot(h_prev, prepared.recurrent)
            a += projected
        np.tanh(a, out=a)
        sig = a[:, :h3]
        half = prepared.half
        sig *= half
        sig += half
        i, f, o, g = a[:, :hidden], a[:, hidden:h2], a[:, h2:h3], a[:, h3:]
        c = f * c_prev
        c += i * g
        h = np.tanh(c, out=out)
        h *= o
        return h, (h, c), {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}
