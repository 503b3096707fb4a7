"""Random batches for any graph, and gradient checks by central finite differences."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.executor import Batch, Executor


def random_batch(
    executor: Executor,
    batch: int = 3,
    steps: int = 4,
    seed: int = 1,
    lengths: list[int] | None = None,
) -> Batch:
    """Inputs and targets of the right shapes for every input and output of the graph;
    ``lengths`` pads the sequences of every input axis (a mask per axis)."""
    rng = np.random.default_rng(seed)
    graph, report = executor.graph, executor.report
    inputs, targets, masks = {}, {}, {}
    for node in graph:
        if node.type_name == "sequence_input":
            if node.params["vocabulary"]:
                inputs[node.id] = rng.integers(0, node.params["vocabulary"], (steps, batch))
            else:
                inputs[node.id] = rng.standard_normal((steps, batch, node.params["features"]))
            if lengths is not None:
                masks[node.id] = (np.arange(steps)[:, None] < np.array(lengths)[None]).astype(float)
        elif node.type_name == "vector_input":
            inputs[node.id] = rng.standard_normal((batch, node.params["features"]))
    for node in graph:
        if node.type_name != "output":
            continue
        width = report.shapes.inputs[(node.id, "x")].width
        lead = ((steps,) if node.id in report.node_axes else ()) + (batch,)
        loss = node.params["loss"]
        if loss == "cross_entropy":
            targets[node.params["target"]] = rng.integers(0, width, lead)
        elif loss == "mse":
            targets[node.params["target"]] = rng.standard_normal((*lead, width))
        else:
            targets[node.params["target"]] = rng.integers(0, 2, (*lead, width)).astype(float)
    return Batch(inputs, targets, masks, steps={axis: steps for axis in report.axes})


def gradient_errors(
    executor: Executor,
    batch: Batch,
    train: bool = True,
    entries: int = 150,
    directions: int = 3,
    eps: float = 1e-5,
) -> tuple[float, float]:
    """Relative errors of the analytic gradient against central differences: along random
    directions in parameter space (every parameter at once), and over a random subset of single
    parameters taken as one vector. Both are below 1e-6 for exact gradients in float64."""
    run = executor.forward(batch, train=train)
    executor.backward(run)
    analytic = executor.store.grad_flat.copy()
    flat = executor.store.flat
    base = flat.copy()
    rng = np.random.default_rng(7)

    def loss_at(values):
        flat[...] = values
        return executor.forward(batch, train=train).loss

    worst_direction = 0.0
    for _ in range(directions):
        v = rng.standard_normal(flat.size)
        numeric = (loss_at(base + eps * v) - loss_at(base - eps * v)) / (2 * eps)
        exact = float(analytic @ v)
        worst_direction = max(worst_direction, abs(numeric - exact) / max(abs(numeric), 1e-12))
    chosen = rng.choice(flat.size, size=min(entries, flat.size), replace=False)
    numeric = np.empty(len(chosen))
    for k, i in enumerate(chosen):
        step = np.zeros_like(base)
        step[i] = eps
        numeric[k] = (loss_at(base + step) - loss_at(base - step)) / (2 * eps)
    flat[...] = base
    exact = analytic[chosen]
    vector = float(np.linalg.norm(numeric - exact) / max(np.linalg.norm(numeric), 1e-12))
    return worst_direction, vector
