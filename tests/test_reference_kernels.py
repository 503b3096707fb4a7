"""The fast kernels (``rnn_builder.engine.cells``) held equal to the plain reference
(``rnn_builder.engine.kernels.reference``), and the reference held to finite differences.

No torch needed: this is what checks the fast path in a plain ``make test``. Every cell (RNN
tanh and relu, LSTM, GRU), forward and reverse direction (the reverse one is handed reversed
views, as ``ops.CellOp`` does), with and without padding, whole sequences and single steps:
outputs, final states and every gradient — inputs, initial states, every weight and the
gradient reaching each step's state — in float64 to 1e-10 and float32 to float32's precision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_builder.engine import overlap as chunking
from rnn_builder.engine.cells import Cell, CellWeights, ElmanCell, GRUCell, LSTMCell
from rnn_builder.engine.kernels import reference

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
WEIGHT_NAMES = reference.WEIGHT_NAMES
# Largest difference allowed, relative to the largest magnitude of the value compared (with a
# floor of 1); float32 against a float64 reference: a few hundred float32 roundings deep.
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


def fast_cell(kind: str) -> Cell:
    return {
        "rnn_tanh": lambda: ElmanCell("tanh"),
        "rnn_relu": lambda: ElmanCell("relu"),
        "lstm": LSTMCell,
        "gru": GRUCell,
    }[kind]()


def state_count(kind: str) -> int:
    return 2 if kind == "lstm" else 1


def reference_forward(kind, weights, x, initial, mask):
    if kind.startswith("rnn"):
        return reference.rnn_forward(weights, x, *initial, kind.removeprefix("rnn_"), mask)
    if kind == "lstm":
        return reference.lstm_forward(weights, x, *initial, mask)
    return reference.gru_forward(weights, x, *initial, mask)


def reference_backward(kind, cache, dy, dfinal):
    backward = {"lstm": reference.lstm_backward, "gru": reference.gru_backward}.get(
        kind, reference.rnn_backward
    )
    return backward(cache, dy, *dfinal)


def reference_step(kind, weights, x_t, state):
    if kind.startswith("rnn"):
        return reference.rnn_step(weights, x_t, *state, kind.removeprefix("rnn_"))
    if kind == "lstm":
        return reference.lstm_step(weights, x_t, *state)
    return reference.gru_step(weights, x_t, *state)


@contextlib.contextmanager
def chunked(on: bool) -> Iterator[None]:
    """The fast kernels as large cells run them: the backward factors and weight gradients in
    chunks on the helper thread (see ``overlap``)."""
    saved = chunking.OVERLAP_MACS, chunking.OVERLAP_ELEMENTS
    if on:
        chunking.OVERLAP_MACS = chunking.OVERLAP_ELEMENTS = 0
    try:
        yield
    finally:
        chunking.OVERLAP_MACS, chunking.OVERLAP_ELEMENTS = saved


class Case:
    """Random weights, input, initial states, mask and incoming gradients for one cell."""

    def __init__(self, kind, steps, batch, features, hidden, padded, seed, dtype):
        rng = np.random.default_rng(seed)
        rows = GATES[kind] * hidden
        bound = 1.5 / np.sqrt(hidden)  # a little past PyTorch's default, to reach saturation

        def uniform(*shape):
            return rng.uniform(-bound, bound, shape).astype(dtype)

        self.kind, self.dtype = kind, dtype
        self.weights = CellWeights(
            uniform(rows, features), uniform(rows, hidden), uniform(rows), uniform(rows)
        )
        self.x = rng.standard_normal((steps, batch, features)).astype(dtype)
        self.initial = tuple(
            (0.5 * rng.standard_normal((batch, hidden))).astype(dtype)
            for _ in range(state_count(kind))
        )
        self.mask = None
        if padded:
            lengths = rng.integers(0, steps + 1, batch)  # 0: a sequence all padding
            self.mask = (np.arange(steps)[:, None] < lengths[None, :]).astype(dtype)[..., None]
        # Which gradients arrive: at the outputs, at each final state, or not at all (but one).
        arrive = rng.random(1 + state_count(kind)) < 0.7
        arrive[rng.integers(len(arrive))] = True
        self.dy = rng.standard_normal((steps, batch, hidden)).astype(dtype) if arrive[0] else None
        self.dfinal = tuple(
            rng.standard_normal((batch, hidden)).astype(dtype) if a else None for a in arrive[1:]
        )

    def reversed(self) -> Case:
        """The reverse direction's view of this case, as ``CellOp`` hands it to a cell."""
        flipped = object.__new__(Case)
        flipped.__dict__.update(self.__dict__)
        flipped.x = self.x[::-1]
        flipped.mask = None if self.mask is None else self.mask[::-1]
        flipped.dy = None if self.dy is None else self.dy[::-1]
        return flipped


def close(name: str, ours, expected, dtype) -> float:
    """Assert ``ours`` equals ``expected`` within the dtype's tolerance; the relative error."""
    ours = np.asarray(ours, dtype=np.float64)
    assert ours.shape == expected.shape, name
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    error = float(np.abs(ours - expected).max(initial=0.0)) / scale
    assert error <= TOLERANCE[dtype], f"{name}: {error:.3g} relative to {scale:.3g}"
    return error


def compare_whole_sequence(case: Case) -> float:
    """Forward and backward of the fast cell against the reference; the largest error."""
    kind, dtype = case.kind, case.dtype
    cell = fast_cell(kind)
    y, finals, cache = cell.forward(case.weights, case.x, case.initial, case.mask)
    dx, dinitial, grads, dh_of_step = cell.backward(case.weights, cache, case.dy, case.dfinal)
    ref_y, ref_finals, ref_cache = reference_forward(
        kind, case.weights, case.x, case.initial, case.mask
    )
    ref = reference_backward(kind, ref_cache, case.dy, case.dfinal)
    state_names = ("h", "c")[: state_count(kind)]
    errors = [close("y", y, ref_y, dtype)]
    assert y.dtype == dtype and dx.dtype == dtype
    for name, ours, theirs in zip(state_names, finals, ref_finals, strict=True):
        errors.append(close(f"{name}_n", ours, theirs, dtype))
    for name, ours in zip(state_names, dinitial, strict=True):
        errors.append(close(f"d {name}_0", ours, ref[f"{name}_0"], dtype))
    errors.append(close("d x", dx, ref["x"], dtype))
    errors.append(close("d h_t", dh_of_step, ref["h_t"], dtype))
    for name in WEIGHT_NAMES:
        errors.append(close(f"d {name}", grads[name], ref[name], dtype))
    return max(errors)


shapes = st.tuples(
    st.sampled_from(KINDS),
    st.integers(1, 7),  # steps
    st.integers(1, 5),  # batch
    st.integers(1, 4),  # features
    st.integers(1, 6),  # hidden
    st.booleans(),  # padded
    st.booleans(),  # reverse
    st.integers(0, 2**32 - 1),  # seed
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes, in_chunks=st.booleans())
def test_fast_cells_equal_the_reference(dtype, shape, in_chunks):
    kind, steps, batch, features, hidden, padded, reverse, seed = shape
    case = Case(kind, steps, batch, features, hidden, padded, seed, dtype)
    with chunked(in_chunks):
        compare_whole_sequence(case.reversed() if reverse else case)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_edge_shapes(kind, dtype):
    """Batch 1, one step, one feature, hidden 1; and the largest shape here, in chunks."""
    for steps, batch, features, hidden, padded in [
        (1, 1, 1, 1, False),
        (1, 1, 3, 2, True),
        (5, 1, 2, 3, True),
        (1, 4, 2, 5, False),
        (12, 6, 5, 9, True),
    ]:
        case = Case(kind, steps, batch, features, hidden, padded, 7, dtype)
        for in_chunks in (False, True):
            with chunked(in_chunks):
                compare_whole_sequence(case)
                compare_whole_sequence(case.reversed())


@pytest.mark.parametrize("kind", KINDS)
def test_no_input_gradient_when_not_needed(kind):
    case = Case(kind, 4, 3, 2, 3, True, 1, np.float64)
    cell = fast_cell(kind)
    _, _, cache = cell.forward(case.weights, case.x, case.initial, case.mask)
    dx, *_ = cell.backward(case.weights, cache, case.dy, case.dfinal, need_dx=False)
    assert dx is None


# --- single steps (live stepping) ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("projected", [False, True], ids=["x_t", "projected"])
def test_fast_step_equals_the_reference_step(kind, dtype, projected):
    """``Cell.step`` (what live stepping calls), step after step: ``h``, the state and every
    gate it shows, fed ``x_t`` or its row of ``Cell.project``."""
    case = Case(kind, 5, 3, 4, 6, False, 3, dtype)
    cell = fast_cell(kind)
    prepared = cell.prepare(case.weights)
    every_step = cell.project(prepared, case.x) if projected else None
    weights = reference.float64_weights(case.weights)
    state, ref_state = case.initial, tuple(s.astype(np.float64) for s in case.initial)
    for t in range(case.x.shape[0]):
        out = np.empty_like(state[0])
        x_t = None if projected else case.x[t]
        row = every_step[t] if projected else None
        h, state, shown = cell.step(prepared, x_t, state, out, row)
        ref = reference_step(kind, weights, case.x[t].astype(np.float64), ref_state)
        ref_state = (ref["h"], ref["c"]) if kind == "lstm" else (ref["h"],)
        close("h", h, ref["h"], dtype)
        assert h is out
        for name, ours, theirs in zip(("h", "c"), state, ref_state, strict=False):
            close(name, ours, theirs, dtype)
        for name, value in shown.items():
            close(name, value, ref[name], dtype)
        gates = {"lstm": {"c", "i", "f", "g", "o"}, "gru": {"r", "z", "n"}}.get(kind, set())
        assert set(shown) == {"h", *gates}


# --- the reference itself, against finite differences -------------------------------------------


def reference_loss(kind, weights, x, initial, mask, dy, dfinal) -> float:
    """L = Σ dy ⊙ y + Σ dh_n ⊙ h_n (+ Σ dc_n ⊙ c_n): its gradient is what backward gets."""
    y, finals, _ = reference_forward(kind, weights, x, initial, mask)
    loss = float(np.sum(dy * y))
    for final, grad in zip(finals, dfinal, strict=True):
        loss += float(np.sum(grad * final))
    return loss


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_reference_gradients_equal_finite_differences(kind, padded):
    """Central differences of the loss above for every input, initial state and weight
    element; the reference's backward must match to 1e-7 (differences of step 1e-6 in
    float64 are good to ~1e-9 here)."""
    case = Case(kind, 4, 2, 3, 3, padded, 5, np.float64)
    rng = np.random.default_rng(2)
    dy = rng.standard_normal((4, 2, 3))
    dfinal = tuple(rng.standard_normal((2, 3)) for _ in case.initial)
    weights = reference.float64_weights(case.weights)
    _, _, cache = reference_forward(kind, weights, case.x, case.initial, case.mask)
    analytic = reference_backward(kind, cache, dy, dfinal)
    tensors = {"x": case.x, **dict(zip(("h_0", "c_0"), case.initial, strict=False)), **weights}
    eps = 1e-6
    for name, tensor in tensors.items():
        numeric = np.zeros(tensor.shape)
        for index in np.ndindex(tensor.shape):
            original = tensor[index]
            losses = []
            for shift in (eps, -eps):
                tensor[index] = original + shift
                losses.append(
                    reference_loss(kind, weights, case.x, case.initial, case.mask, dy, dfinal)
                )
            tensor[index] = original
            numeric[index] = (losses[0] - losses[1]) / (2 * eps)
        np.testing.assert_allclose(analytic[name], numeric, atol=1e-7, rtol=0, err_msg=name)


# --- both directions, through the executor ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_bidirectional_cell_in_a_graph_equals_two_reference_directions(kind, padded):
    """A bidirectional cell run by the executor (``ops.CellOp`` reverses, joins and masks)
    equals the reference run forward on ``x`` and forward on ``x`` reversed in time: ``y``,
    ``h_n`` and the gradients of both directions' weights, for the gradients the losses send."""
    from rnn_builder.engine.executor import Batch, Executor
    from rnn_builder.graph.model import Graph

    from .helpers import wire

    steps, batch, features, hidden = 5, 3, 2, 4
    cell_type, params = kind.split("_")[0], {"hidden_size": hidden, "bidirectional": True}
    if cell_type == "rnn":
        params["nonlinearity"] = kind.removeprefix("rnn_")
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": features})
    g.add_node(cell_type, node_id="cell", params=params)
    g.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    g.add_node("output", node_id="final", params={"loss": "mse", "target": "h"})
    wire(g, "x.y", "cell.x", "cell.y", "out.x", "cell.h_n", "final.x")
    executor = Executor(g, dtype=np.float64, seed=3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((steps, batch, features))
    targets = {
        "y": rng.standard_normal((steps, batch, 2 * hidden)),
        "h": rng.standard_normal((batch, 2 * hidden)),
    }
    masks = {}
    if padded:
        lengths = np.array([steps, 2, 1])
        masks["x"] = (np.arange(steps)[:, None] < lengths[None, :]).astype(np.float64)
    run = executor.backward(executor.forward(Batch({"x": x}, targets, masks)))
    dy, dh_n = run.losses["out"].grad, run.losses["final"].grad
    mask = masks["x"][..., None] if padded else None
    zeros = tuple(np.zeros((batch, hidden)) for _ in range(state_count(kind)))
    for direction, suffix in enumerate(("", "_reverse")):
        columns = slice(direction * hidden, (direction + 1) * hidden)
        flip = slice(None, None, -1) if direction else slice(None)
        weights = {n: executor.parameters[f"cell.{n}{suffix}"] for n in WEIGHT_NAMES}
        y, finals, cache = reference_forward(
            kind, weights, x[flip], zeros, None if mask is None else mask[flip]
        )
        dfinal = (dh_n[:, columns], *(None,) * (state_count(kind) - 1))
        ref = reference_backward(kind, cache, dy[flip][..., columns], dfinal)
        close("y", run.values[("cell", "y")][..., columns], y[flip], np.float64)
        close("h_n", run.values[("cell", "h_n")][:, columns], finals[0], np.float64)
        for name in WEIGHT_NAMES:
            close(
                f"d {name}{suffix}",
                executor.gradients[f"cell.{name}{suffix}"],
                ref[name],
                np.float64,
            )
