"""Parity with PyTorch (skipped when torch is not installed): cells uni- and bidirectional and
stacked, forward values, final states, loss and every gradient; optimizers step for step."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnn_builder.engine.executor import Batch, Executor  # noqa: E402
from rnn_builder.engine.optim import SGD, Adam, RMSprop, clip_grad_norm, clip_grad_value  # noqa: E402
from rnn_builder.graph.model import Graph  # noqa: E402

from .helpers import wire  # noqa: E402

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
T, B, D, H = 6, 4, 5, 7


def build(cell: str, bidirectional: bool, layers: int) -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": D})
    previous = "x"
    for layer in range(layers):
        g.add_node(
            cell, node_id=f"cell{layer}", params={"hidden_size": H, "bidirectional": bidirectional}
        )
        wire(g, f"{previous}.y", f"cell{layer}.x")
        previous = f"cell{layer}"
    g.add_node("dense", node_id="head", params={"units": 3})
    g.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    g.add_node("output", node_id="final", params={"loss": "mse", "target": "h"})
    wire(g, f"{previous}.y", "head.x", "head.y", "out.x", f"{previous}.h_n", "final.x")
    return g


class Reference(torch.nn.Module):
    def __init__(self, cell: str, bidirectional: bool, layers: int):
        super().__init__()
        directions = 2 if bidirectional else 1
        self.cells = torch.nn.ModuleList(
            MODULES[cell](D if k == 0 else H * directions, H, bidirectional=bidirectional)
            for k in range(layers)
        )
        self.head = torch.nn.Linear(H * directions, 3)

    def forward(self, x):
        finals = None
        for module in self.cells:
            x, finals = module(x)
        h_n = finals[0] if isinstance(finals, tuple) else finals
        return x, self.head(x), torch.cat(list(h_n), dim=-1)


def copy_weights(executor: Executor, reference: Reference) -> None:
    with torch.no_grad():
        for k, module in enumerate(reference.cells):
            for name, tensor in module.named_parameters():
                ours = name.replace("_l0", "")  # weight_ih_l0_reverse -> weight_ih_reverse
                tensor.copy_(torch.from_numpy(executor.parameters[f"cell{k}.{ours}"]))
        reference.head.weight.copy_(torch.from_numpy(executor.parameters["head.weight"]))
        reference.head.bias.copy_(torch.from_numpy(executor.parameters["head.bias"]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cells_match_pytorch(cell, bidirectional, layers, dtype, overlap):
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    executor = Executor(build(cell, bidirectional, layers), dtype=dtype, seed=11)
    reference = Reference(cell, bidirectional, layers).to(torch_dtype)
    copy_weights(executor, reference)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    width = H * (2 if bidirectional else 1)
    y_target = rng.standard_normal((T, B, 3)).astype(dtype)
    h_target = rng.standard_normal((B, width)).astype(dtype)
    run = executor.forward(Batch({"x": x}, {"y": y_target, "h": h_target}))
    executor.backward(run)

    states, scores, h_n = reference(torch.from_numpy(x))
    loss = torch.nn.functional.mse_loss(scores, torch.from_numpy(y_target)) + (
        torch.nn.functional.mse_loss(h_n, torch.from_numpy(h_target))
    )
    loss.backward()
    tolerance = TOLERANCE[dtype]
    last = f"cell{layers - 1}"
    np.testing.assert_allclose(run.values[(last, "y")], states.detach().numpy(), atol=tolerance)
    np.testing.assert_allclose(run.values[(last, "h_n")], h_n.detach().numpy(), atol=tolerance)
    np.testing.assert_allclose(run.values[("head", "y")], scores.detach().numpy(), atol=tolerance)
    assert abs(run.loss - loss.item()) < tolerance
    for k, module in enumerate(reference.cells):
        for name, tensor in module.named_parameters():
            ours = executor.gradients[f"cell{k}.{name.replace('_l0', '')}"]
            np.testing.assert_allclose(ours, tensor.grad.numpy(), atol=tolerance, err_msg=name)
    np.testing.assert_allclose(
        executor.gradients["head.weight"], reference.head.weight.grad, atol=tolerance
    )


def test_lstm_cell_state_matches_pytorch():
    g = build("lstm", False, 1)
    executor = Executor(g, dtype=np.float64, seed=2)
    reference = Reference("lstm", False, 1).double()
    copy_weights(executor, reference)
    x = np.random.default_rng(1).standard_normal((T, B, D))
    run = executor.forward(Batch({"x": x}), train=False)
    _, (_h_n, c_n) = reference.cells[0](torch.from_numpy(x))
    np.testing.assert_allclose(run.values[("cell0", "c_n")], c_n[0].detach().numpy(), atol=1e-12)


# --- optimizers ---------------------------------------------------------------------------------

OPTIMIZERS = [
    ("sgd", lambda p, g: SGD(p, g, lr=0.1), lambda t: torch.optim.SGD([t], lr=0.1)),
    (
        "sgd decay",
        lambda p, g: SGD(p, g, lr=0.1, weight_decay=0.01),
        lambda t: torch.optim.SGD([t], lr=0.1, weight_decay=0.01),
    ),
    (
        "momentum",
        lambda p, g: SGD(p, g, lr=0.05, momentum=0.9),
        lambda t: torch.optim.SGD([t], lr=0.05, momentum=0.9),
    ),
    (
        "nesterov",
        lambda p, g: SGD(p, g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001),
        lambda t: torch.optim.SGD([t], lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001),
    ),
    ("rmsprop", lambda p, g: RMSprop(p, g, lr=0.01), lambda t: torch.optim.RMSprop([t], lr=0.01)),
    (
        "rmsprop centred momentum",
        lambda p, g: RMSprop(p, g, lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
        lambda t: torch.optim.RMSprop([t], lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    ),
    ("adam", lambda p, g: Adam(p, g, lr=0.01), lambda t: torch.optim.Adam([t], lr=0.01)),
    (
        "adam decay",
        lambda p, g: Adam(p, g, lr=0.003, betas=(0.8, 0.99), weight_decay=0.1),
        lambda t: torch.optim.Adam([t], lr=0.003, betas=(0.8, 0.99), weight_decay=0.1),
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "ours", "theirs"), OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizers_match_torch_for_20_steps(name, ours, theirs, dtype):
    rng = np.random.default_rng(3)
    params = rng.standard_normal(50).astype(dtype)
    grads = np.zeros_like(params)
    tensor = torch.tensor(params.copy(), requires_grad=True)
    optimizer, reference = ours(params, grads), theirs(tensor)
    for _ in range(20):
        g = (rng.standard_normal(50) + params).astype(dtype)  # depends on where we are
        grads[...] = g
        tensor.grad = torch.from_numpy(g.copy())
        optimizer.step()
        reference.step()
    np.testing.assert_allclose(params, tensor.detach().numpy(), atol=1e-6, rtol=0)


def test_clipping_matches_torch():
    rng = np.random.default_rng(4)
    grads = rng.standard_normal(30) * 10
    tensor = torch.zeros(30, dtype=torch.float64, requires_grad=True)
    tensor.grad = torch.from_numpy(grads.copy())
    norm = clip_grad_norm(grads, 1.5)
    torch_norm = torch.nn.utils.clip_grad_norm_([tensor], 1.5)
    assert abs(norm - torch_norm.item()) < 1e-9
    np.testing.assert_allclose(grads, tensor.grad.numpy(), atol=1e-12)
    tensor.grad = torch.from_numpy(grads.copy() * 3)
    grads *= 3
    clip_grad_value(grads, 0.2)
    torch.nn.utils.clip_grad_value_([tensor], 0.2)
    np.testing.assert_allclose(grads, tensor.grad.numpy(), atol=1e-12)
