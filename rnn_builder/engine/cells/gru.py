"""The GRU cell, fast: forward, backward and one step (the plain form is
``kernels.reference.gru_forward``).
"""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.cell_layout import (
    LOOP_CALLS,
    blend,
    feature_major,
    gate_scale,
    input_grad,
    mask_rows,
    one_half,
    own_transposed,
    row_order,
    sigmoid,
    stacked,
)
from rnn_builder.engine.cells.base import Cell
from rnn_builder.engine.overlap import Chunked, Products, worth_it

Array = np.ndarray


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

    @staticmethod
    def _order(hidden: int) -> Array:
        """Row order n, r, z of the gradient blocks in the backward pass (see there)."""
        return row_order((2 * hidden, 3 * hidden), (0, 2 * hidden))

    def forward(self, w, x, initial, mask=None):
        """``reference.gru_forward``, fused (sigmoid rows r, z halved, σ(a) = (1 + tanh(a/2)) / 2):

        * ``acts`` starts as the input side for all steps: ``(x_t W_irᵀ + b_ir)/2``,
          ``(x_t W_izᵀ + b_iz)/2``, ``x_t W_inᵀ + b_in``;
        * ``recurrent[t] = [b_hh | W_hh] [1; h_{t−1}]``: its rows 2H:3H are ``u`` of
          ``reference.gru_step`` (kept for backward), rows :2H the recurrent halves of
          ``a_r/2, a_z/2``;
        * after ``rz += …``, tanh, ``· ½ + ½``: ``acts[t, :H]`` is ``r``,
          ``acts[t, H:2H]`` is ``z``;
        * ``n += r · u`` is ``a_n``, its tanh ``n`` (``acts[t, 2H:]``);
        * ``h = n + z (h_{t−1} − n)`` is ``h`` (``(1 − z) n + z h_{t−1}``, rounded differently);
          ``blend`` is the mask line of ``gru_forward``.

        ``factors_of`` keeps, per ``dh`` and times ``m_t``: rows ``:H = (1 − z)(1 − n²)``
        (``da_n``), ``H:2H = r(1 − r) u (1 − z)(1 − n²)`` (``da_r``),
        ``2H:3H = z(1 − z)(h_{t−1} − n)`` (``da_z``), ``3H:4H = (1 − z)(1 − n²) r`` (``du``)
        of ``reference.gru_step_backward``.
        """
        (h0,) = initial
        steps, batch, features = x.shape
        hidden = w.weight_hh.shape[1]
        dtype = x.dtype
        h2 = 2 * hidden
        scale = gate_scale(h2, hidden, dtype)
        # Input side [W_ih | b_ih] and recurrent side [b_hh | W_hh], the sigmoid rows halved; the
        # recurrent side multiplies rows [1; h_{t-1}] of Z, so its bias comes with the product.
        w_in = np.concatenate([w.weight_ih, w.bias_ih[:, None]], axis=1) * scale
        w_hh = (np.concatenate([w.bias_hh[:, None], w.weight_hh], axis=1) * scale).astype(
            dtype, copy=False
        )
        z = stacked(x, h0)
        hs = z[:, features + 1 :]
        acts = np.empty((steps, 3 * hidden, batch), dtype)  # r, z, n
        np.matmul(w_in, z[:steps, : features + 1], out=acts)  # the input side, for all steps
        recurrent = np.empty_like(acts)  # W_hh h_{t-1} + b_hh; its n block is kept for backward
        factors = np.empty((steps, 4 * hidden, batch), dtype)  # see backward
        scratch = np.empty((hidden, batch), dtype)
        mask_t = mask_rows(mask)

        def factors_of(lo: int, hi: int) -> None:
            """What the backward pass multiplies d h_t by, for steps lo:hi at once: blocks
            n (input side), r, z, n (recurrent side), in the order of its gradient rows."""
            a, f = acts[lo:hi], factors[lo:hi]
            r, zg, n = a[:, :hidden], a[:, hidden:h2], a[:, h2:]
            dn = f[:, :hidden]
            np.subtract(1.0, zg, out=dn)
            dn *= 1.0 - n * n  # (1 - z) n'
            np.multiply(dn, r, out=f[:, 3 * hidden :])  # n, recurrent side: times r
            np.multiply(recurrent[lo:hi, h2:] * r, 1.0 - r, out=f[:, hidden:h2])  # r' (W_hn h + b)
            f[:, hidden:h2] *= dn
            np.multiply((hs[lo:hi] - n) * zg, 1.0 - zg, out=f[:, h2 : 3 * hidden])  # z' (h - n)
            if mask_t is not None:
                f *= mask_t[lo:hi]

        keep = Chunked(steps, factors_of, worth_it(factors.size))
        rows = z[:, features:]  # [1; h_{t-1}]
        half = one_half(dtype)
        dot, tanh, multiply, add, subtract = LOOP_CALLS
        for t in range(steps):
            a, rec = acts[t], recurrent[t]
            dot(w_hh, rows[t], rec)
            rz = a[:h2]
            add(rz, rec[:h2], rz)
            tanh(rz, rz)
            multiply(rz, half, rz)
            add(rz, half, rz)
            n = a[h2:]
            multiply(a[:hidden], rec[h2:], scratch)
            add(n, scratch, n)
            tanh(n, n)
            h = hs[t + 1]
            subtract(hs[t], n, h)
            multiply(h, a[hidden:h2], h)
            add(h, n, h)  # n + z (h_{t-1} - n)
            if mask_t is not None:
                blend(mask_t[t], h, hs[t])
            keep.ready(t)
        keep.results()
        cache = (z, features, acts, factors, mask_t)
        return feature_major(hs[1:]), (hs[steps].T.copy(),), cache

    def backward(self, w, cache, dy, dfinal, need_dx=True):
        """The gradients of one step, d h_t times the forward pass's factors in one product,
        are kept as rows n (input side), r, z, n (recurrent side): rows 0:3H are the input
        side's pre-activation gradients (in the order n, r, z), rows H:4H the recurrent side's
        (r, z, n, as the weights have them).

        ``reference.gru_backward``, fused: ``dhs[t]`` ends as its ``dh`` at step t (returned as
        ``h_t``); ``grad4[t] = factors4[t] · dh`` is ``da_n, da_r, da_z, du`` of
        ``reference.gru_step_backward``; ``W_hhᵀ [da_r; da_z; du]`` plus
        ``dh (z m_t + 1 − m_t)`` (the direct path ``dh · z`` and the carry) is ``dh_prev``; the
        one product ``Σ_t grad_t [x_t; 1; h_{t−1}]ᵀ`` holds ``dW_in, dW_ir, dW_iz`` with their
        ``db_ih`` (rows 0:3H, columns x, 1, put back in the order r, z, n) and ``dW_hr, dW_hz,
        dW_hn`` with ``db_hh`` (rows H:4H, columns 1, h); ``input_grad`` gives every ``dx``.
        """
        z, features, acts, factors, mask_t = cache
        steps, _, batch = acts.shape
        hidden = acts.shape[1] // 3
        dtype = z.dtype
        order = self._order(hidden)
        dhs = own_transposed(dy) if dy is not None else np.zeros((steps, hidden, batch), dtype)
        if dfinal[0] is not None:
            dhs[steps - 1] += dfinal[0].T
        grad = np.empty_like(factors)
        input_side, recurrent_side = grad[:, : 3 * hidden], grad[:, hidden:]
        w_hh_t = np.ascontiguousarray(w.weight_hh.T, dtype=dtype)
        scratch = np.empty((hidden, batch), dtype)
        dh0 = np.empty((hidden, batch), dtype)
        grad4 = grad.reshape(steps, 4, hidden, batch)
        factors4 = factors.reshape(steps, 4, hidden, batch)
        # One product for both sides (rows n, r, z, n × columns x, 1, h): a quarter more
        # multiply-adds than two, but one copy of the gradients and of Z instead of two each,
        # and one tail after the loop (measured 10-13 % faster backward at hidden 128)
        products = Products(grad, z)
        dot, _, multiply, add, _ = LOOP_CALLS
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            multiply(factors4[t], dh, grad4[t])
            target = dhs[t - 1] if t > 0 else dh0
            dot(w_hh_t, recurrent_side[t], scratch)
            if t > 0:
                add(target, scratch, target)
            else:
                target[...] = scratch
            keep = acts[t, hidden : 2 * hidden]  # d h_t / d h_{t-1} along the direct path: z
            if mask_t is None:
                multiply(dh, keep, scratch)
            else:
                m = mask_t[t]
                multiply(dh, keep * m + (1.0 - m), scratch)
            add(target, scratch, target)
            products.ready(t)
        total = products.total()
        inputs = np.empty((3 * hidden, features + 1), dtype)
        inputs[order] = total[: 3 * hidden, : features + 1]  # back to r, z, n; columns x, 1
        recurrent = total[hidden:, features:]  # r, z, n; columns 1, h
        grads = {
            "weight_ih": inputs[:, :features],
            "bias_ih": inputs[:, features].copy(),
            "weight_hh": recurrent[:, 1:],
            "bias_hh": recurrent[:, 0].copy(),
        }
        dx = input_grad(w.weight_ih[order], input_side, need_dx)
        return dx, (dh0.T.copy(),), grads, dhs.transpose(0, 2, 1)

    def project(self, w, x):
        steps, batch, features = x.shape
        projected = np.matmul(x.reshape(steps * batch, features), w.weight_ih.T)
        projected += w.bias_ih
        return projected.reshape(steps, batch, -1)

    def step(self, w, x_t, state, out=None, projected=None):
        """One step for a batch ``x_t (B, D)`` (or its row of :meth:`project`):
        ``reference.gru_step`` with ``xp`` the input side of every gate and ``hp`` the recurrent
        side (``hp[:, 2H:]`` is ``u``); ``h`` as in :meth:`forward`."""
        (h_prev,) = state
        hidden = h_prev.shape[1]
        xp = x_t @ w.weight_ih.T + w.bias_ih if projected is None else projected
        hp = h_prev @ w.weight_hh.T + w.bias_hh
        r = sigmoid(xp[:, :hidden] + hp[:, :hidden])
        z = sigmoid(xp[:, hidden : 2 * hidden] + hp[:, hidden : 2 * hidden])
        n = np.tanh(xp[:, 2 * hidden :] + r * hp[:, 2 * hidden :])
        h = np.subtract(h_prev, n, out=out)
        h *= z
        h += n  # (1 - z) n + z h_{t-1}
        return h, (h,), {"h": h, "r": r, "z": z, "n": n}
