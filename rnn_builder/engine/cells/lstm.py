"""The LSTM cell, fast: forward, backward and one step (the plain form is
``kernels.reference.lstm_forward``).
"""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.cell_layout import (
    LOOP_CALLS,
    StepWeights,
    blend,
    feature_major,
    gate_scale,
    input_grad,
    mask_rows,
    one_half,
    plain,
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
    reordered so that the three sigmoid gates are one block, and each call's operands are whole
    blocks next to each other: g, o, f, i forward, o, f, i, g backward, i, f, o, g stepping).

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
        """Row order i, f, o, g (live stepping)."""
        return row_order((0, 2 * hidden), (3 * hidden, 4 * hidden), (2 * hidden, 3 * hidden))

    @staticmethod
    def _forward_order(hidden: int) -> Array:
        """Row order g, o, f, i: the gates as the forward pass's state rows hold them."""
        h = hidden
        return row_order((2 * h, 3 * h), (3 * h, 4 * h), (h, 2 * h), (0, h))

    @staticmethod
    def _backward_order(hidden: int) -> Array:
        """Row order o, f, i, g: the gate gradients as the backward pass's rows hold them."""
        h = hidden
        return row_order((3 * h, 4 * h), (h, 2 * h), (0, h), (2 * h, 3 * h))

    def forward(self, w, x, initial, mask=None):
        """``reference.lstm_forward``, fused. The rows of ``w_all = [W_ih | b | W_hh]`` are
        reordered g, o, f, i and the sigmoid rows halved; ``state[t]`` holds ``c_{t−1}`` and
        then the four gates' rows, so that at step t:

        * ``np.dot(w_all, z[t])`` is ``a_g, a_o/2, a_f/2, a_i/2`` of ``reference.lstm_step``;
          one tanh over all four and ``· ½ + ½`` on the last three (σ(a) = (1 + tanh(a/2)) / 2)
          make them ``g, o, f, i``;
        * ``[f; i] · [c_{t−1}; g]`` is ``f c_{t−1}`` and ``i g`` in one call, their sum ``c``,
          written straight into ``state[t + 1]``; ``tanh_cs[t]`` is ``tanh_c``,
          ``hs[t + 1]`` is ``h``; ``blend`` is the mask lines of ``lstm_forward``.

        ``factors_of`` keeps, for all steps, what ``reference.lstm_step_backward`` multiplies
        by, times ``m_t`` (masks are 0 or 1), in the backward pass's row blocks: what ``dh``
        multiplies, ``o (1 − tanh_c²)`` (its share of ``dc_t``) and ``o (1 − o) tanh_c``
        (``da_o``); then what ``dc_t`` multiplies, ``f (1 − f) c_{t−1}`` (``da_f``),
        ``i (1 − i) g`` (``da_i``), ``(1 − g²) i`` (``da_g``) and ``f`` (``dc_{t−1}``;
        ``f m_t + 1 − m_t`` with the carry of ``lstm_backward``).
        """
        h0, c0 = initial
        steps, batch, features = x.shape
        hidden = w.weight_hh.shape[1]
        dtype = x.dtype
        h2, h3, h4, h5 = 2 * hidden, 3 * hidden, 4 * hidden, 5 * hidden
        w_all = np.concatenate(
            [w.weight_ih, (w.bias_ih + w.bias_hh)[:, None], w.weight_hh], axis=1
        )[self._forward_order(hidden)]
        w_all *= gate_scale(h3, hidden, dtype, tanh_first=True)
        w_all = w_all.astype(dtype, copy=False)
        z = stacked(x, h0)
        hs = z[:, features + 1 :]
        state = np.empty((steps + 1, h5, batch), dtype)  # c_{t-1}, g, o, f, i
        state[0, :hidden] = c0.T
        tanh_cs = np.empty((steps, hidden, batch), dtype)
        factors = np.empty((steps, 6 * hidden, batch), dtype)  # see backward
        mask_t = mask_rows(mask)

        def factors_of(lo: int, hi: int) -> None:
            """What the backward pass multiplies by, for steps lo:hi at once (fewer calls than
            step by step; measured faster here at every size from 8 to 256), in place."""
            s, tanh_c, out = state[lo:hi], tanh_cs[lo:hi], factors[lo:hi]
            sig = s[:, h2:]  # o, f, i
            d_sig = out[:, hidden:h4]
            np.subtract(1.0, sig, out=d_sig)
            d_sig *= sig  # σ (1 - σ) of o, f, i
            d_sig[:, :hidden] *= tanh_c  # o: times tanh(c)
            d_sig[:, hidden:] *= s[:, :h2]  # f, i: times c_{t-1}, g
            g, d_g = s[:, hidden:h2], out[:, h4:h5]
            np.multiply(g, g, out=d_g)
            np.subtract(1.0, d_g, out=d_g)
            d_g *= sig[:, h2:]  # (1 - g²) i
            per_dh = np.multiply(tanh_c, tanh_c)
            np.subtract(1.0, per_dh, out=per_dh)
            np.multiply(per_dh, sig[:, :hidden], out=out[:, :hidden])  # o (1 - tanh(c)²)
            carry, f = out[:, h5:], sig[:, hidden:h2]
            if mask_t is None:
                np.copyto(carry, f)
            else:
                m = mask_t[lo:hi]
                out[:, :h5] *= m
                np.multiply(f, m, out=carry)
                carry += 1.0 - m

        keep = Chunked(steps, factors_of, worth_it(factors.size))
        half = one_half(dtype)
        cs = state[:, :hidden]
        fc_ig = np.empty((h2, batch), dtype)
        fc, ig = fc_ig[:hidden], fc_ig[hidden:]
        # each step's blocks handed out by zip: 0.9 of the loop's time at hidden 8 against
        # indexing nine arrays a step
        now = state[:steps]
        steps_of = zip(
            z[:steps],
            now[:, hidden:],  # the gates' rows
            now[:, h2:],  # the sigmoid gates o, f, i
            now[:, h3:],  # f, i
            now[:, :h2],  # c_{t-1}, g
            now[:, h2:h3],  # o
            cs[1:],
            tanh_cs,
            hs[1:],
            strict=True,
        )
        dot, tanh, multiply, add, _ = LOOP_CALLS
        for t, (z_t, a, sig, f_i, c_g, o, c, tanh_c, h) in enumerate(steps_of):
            dot(w_all, z_t, a)
            tanh(a, a)
            multiply(sig, half, sig)
            add(sig, half, sig)
            multiply(f_i, c_g, fc_ig)
            add(fc, ig, c)
            tanh(c, tanh_c)
            multiply(o, tanh_c, h)
            if mask_t is not None:
                blend(mask_t[t], c, cs[t])
                blend(mask_t[t], h, hs[t])
            keep.ready(t)
        keep.results()
        cache = (z, features, factors, mask_t)
        return feature_major(hs[1:]), (hs[steps].T.copy(), cs[steps].T.copy()), cache

    def backward(self, w, cache, dy, dfinal, need_dx=True):
        """``reference.lstm_backward``, fused. ``grads[t]`` holds six row blocks, as
        ``factors[t]`` does: ``dc_t``, then ``da_o, da_f, da_i, da_g`` (the rows the products
        take) and ``dc_{t−1}``, so that step t is four element-wise calls and one product:

        * ``dhs[t + 1]`` ends as ``dh`` of ``lstm_backward`` at step t (returned as ``h_t``),
          ``dhs[0]`` as ``h_0``;
        * ``dh · o (1 − tanh_c²)`` and ``da_o`` are ``factors[t]``'s first two blocks times
          ``dh``; ``dc_t`` is the first plus ``dc`` from step t + 1 (``grads[t + 1]``'s last
          block; ``dc_n`` at the last);
        * ``[da_f, da_i, da_g, dc_{t−1}] = factors[t, 2H:] · dc_t``;
        * ``W_hhᵀ da[t]`` (rows reordered alike) is ``dh_prev``; ``+ dh (1 − m_t)`` the carry;
        * ``Σ_t da_t [x_t; 1; h_{t−1}]ᵀ``, put back in the order i, f, g, o, holds ``dW_ih``,
          ``db`` (both biases) and ``dW_hh``; ``input_grad`` gives every ``dx``.
        """
        z, features, factors, mask_t = cache
        steps, rows, batch = factors.shape
        hidden = rows // 6
        dtype = z.dtype
        order = self._backward_order(hidden)
        dhs = np.zeros((steps + 1, hidden, batch), dtype)
        if dy is not None:
            np.copyto(dhs[1:], plain(dy).transpose(0, 2, 1))
        if dfinal[0] is not None:
            dhs[steps] += dfinal[0].T
        grads = np.empty((steps + 1, rows, batch), dtype)
        if dfinal[1] is None:
            grads[steps, 5 * hidden :] = 0.0
        else:
            grads[steps, 5 * hidden :] = dfinal[1].T
        blocks = factors.reshape(steps, 6, hidden, batch)
        into = grads.reshape(steps + 1, 6, hidden, batch)
        # dh multiplies two blocks, as two calls: NumPy broadcasting it over both costs more
        # (its general loop: 1.8 µs against 0.5–0.7 for a call on same-shaped arrays, hidden 8–32);
        # each step's blocks are handed out by zip (see forward)
        da = grads[:steps, hidden : 5 * hidden]  # o, f, i, g
        w_hh_t = np.ascontiguousarray(w.weight_hh[order].T, dtype=dtype)
        scratch = np.empty((hidden, batch), dtype)
        keep = None if mask_t is None else 1.0 - mask_t
        products = Products(da, z)

        def at_t(values: Array) -> Array:  # values[t] for t = T-1, ..., 0
            return values[:steps][::-1]  # (values[steps - 1 :: -1] is all of it at 0 steps)

        def after_t(values: Array) -> Array:  # values[t + 1] for t = T-1, ..., 0
            return values[steps:0:-1]

        steps_of = zip(
            range(steps - 1, -1, -1),
            after_t(dhs),  # dh
            at_t(dhs),  # where dh_{t-1} gathers
            at_t(into[:, 0]),  # dc_t
            after_t(into[:, 5]),  # dc from step t + 1
            at_t(into[:, 1]),  # da_o
            at_t(into[:, 2:]),  # da_f, da_i, da_g, dc_{t-1}
            at_t(blocks[:, 0]),  # what dh multiplies: its share of dc_t
            at_t(blocks[:, 1]),  # and da_o
            at_t(blocks[:, 2:]),  # what dc_t multiplies
            at_t(da),
            strict=True,
        )
        dot, _, multiply, add, _ = LOOP_CALLS
        for t, dh, target, dc, dc_later, da_o, by_dc, per_dh, dh_o, dc_by, da_t in steps_of:
            multiply(per_dh, dh, dc)
            multiply(dh_o, dh, da_o)
            add(dc, dc_later, dc)
            multiply(dc_by, dc, by_dc)
            dot(w_hh_t, da_t, scratch)
            add(target, scratch, target)
            if keep is not None:
                multiply(dh, keep[t], scratch)
                add(target, scratch, target)
            products.ready(t)
        products = products.total()
        restored = np.empty_like(products)
        restored[order] = products  # back to PyTorch's gate order i, f, g, o
        weight_grads = {
            "weight_ih": restored[:, :features],
            "weight_hh": restored[:, features + 1 :],
            "bias_ih": restored[:, features].copy(),
            "bias_hh": restored[:, features].copy(),
        }
        dx = input_grad(w.weight_ih[order], da, need_dx)
        dinitial = (dhs[0].T.copy(), into[0, 5].T.copy())
        return dx, dinitial, weight_grads, dhs[1:].transpose(0, 2, 1)

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
