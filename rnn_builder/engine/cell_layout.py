"""How the cells lay out their arrays inside a pass (see ``cells`` for the equations).

* ``Z (T+1, D+1+H, B)`` — :func:`stacked`: column t holds ``[x_t; 1; h_{t-1}]``, so that one
  product with ``[W_ih | b | W_hh]`` gives a step's pre-activations and the loop writes ``h_t``
  straight into the next column;
* states, gates and gradients transposed, ``(units, batch)`` per step, so that every gate block
  is a contiguous array (NumPy's element-wise calls on strided column slices cost several times
  more). The other nodes take ``(T, B, units)``: a cell hands them its outputs and its input
  gradient as *feature-major views* (:func:`feature_major`: no copy; a Dense layer multiplies
  such a view step by step without copying it, see ``ops.DenseOp``), and takes its output
  gradient back with :func:`own_transposed` (a plain copy when that gradient is such a view);
* sigmoid gates' rows of the weights scaled by 1/2 (:func:`gate_scale`), so that one ``tanh``
  over all gates gives them all: σ(a) = (1 + tanh(a/2)) / 2;
* for live stepping, :class:`StepWeights`: the fused weights transposed and a reusable row, or
  the input side of every step at once when the input is known in full (``projected``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

Array = np.ndarray

# The time loops' calls, bound once and given their output by position: a call of a module's
# attribute with ``out=`` costs ~0.1 µs more (measured 0.74 against 0.64 µs a multiply at hidden
# 32), and a cell's loop makes five to eight a step.
LOOP_CALLS = (np.dot, np.tanh, np.multiply, np.add, np.subtract)


def one_half(dtype) -> Array:
    """0.5 as a 0-d array of ``dtype``: NumPy takes it ~0.3 µs faster per call than a Python
    float, which it must first convert (that counts in the time loops and in live stepping)."""
    half = HALVES.get(dtype)
    return half if half is not None else np.array(0.5, dtype)


HALVES = {np.dtype(t): np.array(0.5, t) for t in (np.float32, np.float64)}


@lru_cache(maxsize=64)
def gate_scale(
    sigmoid_rows: int, tanh_rows: int, dtype: np.dtype, tanh_first: bool = False
) -> Array:
    """``(rows, 1)``: 1/2 for the rows of sigmoid gates (σ(a) = (1 + tanh(a/2)) / 2), then 1s
    (the 1s first if ``tanh_first``). Cached (read-only): building it cost more than a whole
    step's loop at hidden 8."""
    blocks = [np.full(sigmoid_rows, 0.5), np.ones(tanh_rows)]
    scale = np.concatenate(blocks[::-1] if tanh_first else blocks).astype(dtype)[:, None]
    scale.flags.writeable = False
    return scale


@lru_cache(maxsize=64)
def row_order(*blocks: tuple[int, int]) -> Array:
    """The row indices of the blocks ``(start, stop)`` one after another (cached, read-only)."""
    order = np.concatenate([np.arange(start, stop) for start, stop in blocks])
    order.flags.writeable = False
    return order


def sigmoid(x: Array, out: Array | None = None) -> Array:
    """Logistic function via tanh: exact, and stable for large |x| (no overflow in exp)."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def blend(mask_t: Array | None, new: Array, old: Array) -> None:
    """``new = mask·new + (1-mask)·old`` in place: padded steps keep the old state."""
    if mask_t is not None:
        new -= old
        new *= mask_t
        new += old


class FeatureMajor(np.ndarray):
    """The layout tag of a value: a ``(T, B, n)`` array that is a view of ``(T, n, B)`` data,
    as a cell hands on its outputs (:func:`feature_major`). Readers ask
    :func:`is_feature_major` rather than look at strides (``ops.DenseOp`` multiplies such a
    view step by step instead of copying it into rows).

    The tag stays on the array it was put on and on its slices, and on nothing computed from
    it: a ufunc or a NumPy function given a tagged array returns a plain one, whatever layout
    NumPy chose for it. ``tests/test_layout_tags.py`` checks, on every template, that every
    tagged value is such a view and that every cell's output is tagged."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(plain(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*plain(args), **{k: plain(v) for k, v in kwargs.items()})


def plain(value):
    """``value`` without a layout tag (the same memory), or ``value`` itself; in a list or
    tuple, each of its items (as NumPy functions take sequences of arrays)."""
    if isinstance(value, FeatureMajor):
        return value.view(np.ndarray)
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    return value


def feature_major(values: Array) -> Array:
    """``(T, n, B)`` → the ``(T, B, n)`` view of it, tagged :class:`FeatureMajor`, with no
    copy: transposing ``(T, B, n)`` arrays element by element costs ~0.9 ns an element here
    (185 µs at hidden 128), four times a plain copy."""
    return values.transpose(0, 2, 1).view(FeatureMajor)


def is_feature_major(value: Array) -> bool:
    """Whether ``value`` carries the :class:`FeatureMajor` tag (and is still a sequence)."""
    return isinstance(value, FeatureMajor) and value.ndim == 3


def own_transposed(values: Array) -> Array:
    """``(T, B, n)`` → a new contiguous ``(T, n, B)`` array, which the caller may write into
    (a plain copy when ``values`` is a :func:`feature_major` view)."""
    return np.array(values.transpose(0, 2, 1), order="C")


def stacked(x: Array, h0: Array) -> Array:
    """``Z (T+1, D+1+H, B)``: column t holds ``[x_t; 1; h_{t-1}]``, so that one product with
    ``[W_ih | b | W_hh]`` gives a step's pre-activations. The loop writes ``h_t`` into column
    t+1, so ``Z[1:, D+1:]`` ends up holding every hidden state."""
    steps, batch, features = x.shape
    hidden = h0.shape[1]
    z = np.empty((steps + 1, features + 1 + hidden, batch), dtype=x.dtype)
    z[:steps, :features] = x.transpose(0, 2, 1)
    z[steps, :features] = 0.0
    z[:, features] = 1.0
    z[0, features + 1 :] = h0.T
    return z


class StepWeights:
    """A cell's weights fused as ``[W_ih | b | W_hh]ᵀ`` for single steps, with a reusable row
    buffer ``[x_t, 1, h_{t-1}]`` so that a step is one product (``np.dot``: ~0.4 µs less
    than ``@`` for one row)."""

    def __init__(self, weights: Array) -> None:
        self.weights = weights
        self.half = one_half(weights.dtype)
        self.recurrent: Array | None = None
        self._rows: Array | None = None

    def projected(self, x: Array) -> Array:
        """The input side of every step at once, ``x (T, B, D)`` → ``(T, B, rows)``: ``x W_ihᵀ +
        b``, for an input known in full before the first step; a step then multiplies only
        ``h_{t-1}`` by :attr:`recurrent` (``W_hhᵀ``) and adds its row of this."""
        steps, batch, features = x.shape
        self.recurrent = self.weights[features + 1 :]
        # as one (T·B, D) product: a (T, B, D) one is T small products (measured 50 against 12 µs)
        projected = np.matmul(x.reshape(steps * batch, features), self.weights[:features])
        projected += self.weights[features]
        return projected.reshape(steps, batch, -1)

    def stacked(self, x_t: Array, h_prev: Array) -> Array:
        features = x_t.shape[1]
        rows = self._rows
        if rows is None or rows.shape[0] != x_t.shape[0] or rows.dtype != x_t.dtype:
            rows = self._rows = np.ones((x_t.shape[0], self.weights.shape[0]), x_t.dtype)
        rows[:, :features] = x_t
        rows[:, features + 1 :] = h_prev
        return rows


def mask_rows(mask: Array | None) -> Array | None:
    """A ``(T, B, 1)`` mask as ``(T, 1, B)`` for the transposed layout."""
    return None if mask is None else np.ascontiguousarray(mask.transpose(0, 2, 1))


def input_grad(w_ih: Array, grad: Array, need: bool) -> Array | None:
    """d loss / d x ``(T, B, D)``, a :func:`feature_major` view, from the pre-activation
    gradients ``(T, G, B)``."""
    if not need:
        return None
    return feature_major(np.matmul(w_ih.T, grad))
