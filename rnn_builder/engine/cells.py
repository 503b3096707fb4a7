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
names). ``step`` computes one time step, with the gate values, for live stepping; a feedback
loop runs ``forward`` and ``backward`` on one step at a time. A mask ``(T, B)`` (1 for real
steps, 0 for padding after the end of a shorter sequence) makes padded steps carry the state
through unchanged, so the final state is the state after each sequence's own last step.

Speed: a step's input projection, bias and recurrence are one matrix product with the fused
weights ``[W_ih | b | W_hh]``, and the weight gradients are one product over all steps after the
loop; what the backward pass multiplies by is computed for all steps at once (on a helper
thread for large cells, see ``overlap``). How the arrays are laid out for that is in
``cell_layout``.

The same cells written plainly, one equation a line, are in ``kernels.reference``; each fast
method's docstring says which of its lines computes which of the reference's names, and
``tests/test_reference_kernels.py`` holds the two equal (no torch needed). Below, a row block
such as ``acts[t, :H]`` is ``(H, B)``: the transpose of the reference's ``(B, H)`` value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

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
    sigmoid,
    stacked,
)
from rnn_builder.engine.overlap import Chunked, Products, worth_it

Array = np.ndarray


@dataclass
class CellWeights:
    """The four tensors of one direction of a cell (views into the executor's parameters)."""

    weight_ih: Array
    weight_hh: Array
    bias_ih: Array
    bias_hh: Array


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

    def prepare(self, w: CellWeights):
        """Weights arranged for :meth:`step` (done once per walk, not once per step)."""
        return w

    def project(self, prepared, x: Array) -> Array:
        """The input side of every step, ``x (T, B, D)`` → ``(T, B, G·H)``, for an input known in
        full before the first step: :meth:`step` then takes its row as ``projected``."""
        return prepared.projected(x)

    # --- whole sequences --------------------------------------------------------------------

    def forward(
        self, w: CellWeights, x: Array, initial: tuple[Array, ...], mask: Array | None = None
    ):
        raise NotImplementedError

    def backward(
        self,
        w: CellWeights,
        cache,
        dy: Array | None,
        dfinal: tuple[Array | None, ...],
        need_dx: bool = True,
    ):
        raise NotImplementedError


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

        * ``np.matmul(w_all, z[t])`` with ``w_all = [W_ih | b_ih + b_hh | W_hh]`` and
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
        for t in range(steps):
            h = hs[t + 1]
            np.matmul(w_all, z[t], out=h)
            if relu:
                np.maximum(h, 0.0, out=h)
            else:
                np.tanh(h, out=h)
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
        w_hh_t = np.ascontiguousarray(w.weight_hh.T)
        scratch = np.empty((hidden, batch), dtype)
        dh0 = np.empty((hidden, batch), dtype)
        products = Products(da, z)
        for t in range(steps - 1, -1, -1):
            d = np.multiply(dhs[t], factors[t], out=da[t])
            target = dhs[t - 1] if t > 0 else dh0
            np.matmul(w_hh_t, d, out=scratch)
            if t > 0:
                target += scratch
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
        w_hh = np.concatenate([w.bias_hh[:, None], w.weight_hh], axis=1) * scale
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
        for t in range(steps):
            a, rec = acts[t], recurrent[t]
            np.matmul(w_hh, rows[t], out=rec)
            rz = a[:h2]
            rz += rec[:h2]
            np.tanh(rz, out=rz)
            rz *= half
            rz += half
            n = a[h2:]
            np.multiply(a[:hidden], rec[h2:], out=scratch)
            n += scratch
            np.tanh(n, out=n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)
            h *= a[hidden:h2]
            h += n  # n + z (h_{t-1} - n)
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
        w_hh_t = np.ascontiguousarray(w.weight_hh.T)
        scratch = np.empty((hidden, batch), dtype)
        dh0 = np.empty((hidden, batch), dtype)
        grad4 = grad.reshape(steps, 4, hidden, batch)
        factors4 = factors.reshape(steps, 4, hidden, batch)
        # One product for both sides (rows n, r, z, n × columns x, 1, h): a quarter more
        # multiply-adds than two, but one copy of the gradients and of Z instead of two each,
        # and one tail after the loop (measured 10-13 % faster backward at hidden 128)
        products = Products(grad, z)
        for t in range(steps - 1, -1, -1):
            dh = dhs[t]
            np.multiply(factors4[t], dh, out=grad4[t])
            target = dhs[t - 1] if t > 0 else dh0
            np.matmul(w_hh_t, recurrent_side[t], out=scratch)
            if t > 0:
                target += scratch
            else:
                target[...] = scratch
            keep = acts[t, hidden : 2 * hidden]  # d h_t / d h_{t-1} along the direct path: z
            if mask_t is None:
                np.multiply(dh, keep, out=scratch)
            else:
                m = mask_t[t]
                np.multiply(dh, keep * m + (1.0 - m), out=scratch)
            target += scratch
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
