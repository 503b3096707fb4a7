"""How much of a late step's loss reaches each earlier step: ‖∂L_T/∂h_t‖ for every t.

The gradient of the whole loss at ``h_t`` (what a training step records) mixes two things when
the network has a loss at every step, as a tagger or a language model does: the loss at step t
itself, and what flows back from the losses of later steps. The ratio of its first step to its
last then measures how the losses differ, not how the gradient travels: a trained tagger whose
losses shrink towards the end of its sentences looked like an "exploding gradient" (issue 24).

What the vanishing and exploding gradient diagnosis claims is about the travel alone: how much
of the loss at a *late* step reaches the early ones (the "connectivity" of RNNbow and of Distill's
memorisation article). :func:`connectivity` measures exactly that: one more backward pass with
the loss taken only at each sequence's last real step (``Batch.loss_masks``), reading the norm
at every step's hidden state. A network whose losses are all at the end (many-to-one) already
measures it in its training step; then there is nothing to add.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch

Norms = dict[str, dict[str, list[float]]]


def per_step_axes(executor: Executor) -> set[str]:
    """The time axes an Output takes a loss at every step of."""
    report = executor.report
    return {report.node_axes[n.id] for n in executor.graph.outputs() if n.id in report.node_axes}


def last_step_masks(executor: Executor, batch: Batch) -> dict[str, np.ndarray]:
    """For each per-step output's axis: 1 at each sequence's last real step, 0 elsewhere."""
    from rnn_builder.engine.run import batch_lengths

    lengths = batch_lengths(executor, batch)
    size = _batch_size(batch)
    masks = {}
    for axis in per_step_axes(executor):
        steps = lengths[axis]
        mask = batch.masks.get(axis)
        last = (
            np.full(size, steps - 1)
            if mask is None
            else np.maximum(np.asarray(mask).sum(axis=0).astype(np.int64) - 1, 0)
        )
        only = np.zeros((steps, size))
        only[last, np.arange(size)] = 1.0
        masks[axis] = only
    return masks


def connectivity(executor: Executor, batch: Batch) -> Norms:
    """‖∂L_T/∂h_t‖ by cell and direction (one value a step, the batch's mean norm as the
    training step records them), or {} when every loss is at the end already. Overwrites the
    executor's gradients (call it between training steps)."""
    masks = last_step_masks(executor, batch)
    if not masks:
        return {}
    masked = Batch(
        batch.inputs, batch.targets, batch.masks, dict(batch.steps), batch.states, loss_masks=masks
    )
    with np.errstate(all="ignore"):  # a diverging network: its norms say so (inf)
        run = executor.forward(masked, train=True)
        executor.backward(run)
    return {
        node: {direction: [float(v) for v in values] for direction, values in per.items()}
        for node, per in run.state_grad_norms.items()
    }


def _batch_size(batch: Batch) -> int:
    for value in batch.inputs.values():
        value = np.asarray(value)
        return int(
            value.shape[1] if value.ndim >= 2 and value.dtype.kind in "iu" else value.shape[-2]
        )
    raise ValueError("a batch with no inputs")


# --- what the measure says ----------------------------------------------------------------------

VANISHING, EXPLODING = 1e-3, 1e3  # first-step / last-step ratios of the measure worth a warning
EXPLODING_NORM = 1e3  # a global gradient norm this large explodes whatever the ratio says
SAME = 1.5  # a ratio within this factor of 1 is "about as large"

# Each problem's own remedies, and only those (issue 24: clipping does nothing for vanishing).
VANISHING_REMEDIES = (
    "a gated cell (LSTM or GRU): gating mitigates vanishing over tens of steps, but over "
    "hundreds its gradient fades too",
    "skip connections that give early steps a shorter path to the loss",
    "an orthogonal initialisation of the recurrent weights",
)
GATED_VANISHING_REMEDIES = (
    "more epochs: a gated cell can learn to hold its state (and so its gradient) as it trains",
    "a larger forget-gate bias (LSTM), which starts it holding",
    "skip connections that give early steps a shorter path to the loss",
)
EXPLODING_REMEDIES = (
    "gradient clipping (the training settings' clip norm)",
    "a smaller learning rate",
    "a smaller initialisation of the recurrent weights",
)
TRUNCATION_NOTE = (
    "Truncated BPTT is no remedy here: it cuts the gradient's path at the chunk's edge, so the "
    "network cannot learn anything longer than a chunk."
)


@dataclass(frozen=True)
class Diagnosis:
    """What the gradient's travel back through time shows, in words a student can trust."""

    kind: str  # "vanishing", "exploding", "flows" or "" (nothing to say)
    ratio: float  # first-step norm over last-step norm of the measure (0: it underflowed)
    sentence: str
    remedies: tuple[str, ...] = ()
    note: str = ""


def diagnose(
    norms: Sequence[float],
    grad_norm: float,
    gated: bool,
    reverse: bool = False,
    measured: str = "connectivity",
) -> Diagnosis:
    """A diagnosis of ``norms`` (the measure at each step, in the order the cell reads them:
    ``connectivity``, ‖∂L_T/∂h_t‖, or ``loss at the end``, the training step's own norms when
    every loss is at the end), the global gradient norm, and whether the cell is gated."""
    values = np.asarray(norms, dtype=float)
    if values.size < 2:
        return Diagnosis("", math.nan, "")
    first, last = float(values[0]), float(values[-1])
    ratio = first / last if last > 0 else (math.inf if first > 0 else 0.0)
    where = (
        "the last step's loss reaching the first step"
        if measured == "connectivity"
        else "the gradient reaching the first step"
    )
    note = (
        " This is the reverse direction: it reads the sequence from the end, so its first step "
        "is the last position."
        if reverse
        else ""
    )
    if grad_norm > EXPLODING_NORM or not math.isfinite(grad_norm) or ratio > EXPLODING:
        grows = f"{math.log10(ratio):.0f} orders of magnitude" if math.isfinite(ratio) else ""
        sentence = (
            f"Exploding gradient: {where} is {grows} larger than at the last step"
            if grows and ratio > EXPLODING
            else f"Exploding gradient: the global gradient norm is {grad_norm:.3g}"
        )
        return Diagnosis("exploding", ratio, sentence + ".", EXPLODING_REMEDIES, note)
    if first == 0.0 or ratio < VANISHING:
        orders = (
            "all of it lost (it underflowed)"
            if first == 0.0
            else (f"{-math.log10(ratio):.0f} orders of magnitude smaller than at the last step")
        )
        sentence = (
            f"Vanishing gradient: {where} is {orders}: what happens early in a sequence barely "
            "teaches the network."
        )
        remedies = GATED_VANISHING_REMEDIES if gated else VANISHING_REMEDIES
        return Diagnosis("vanishing", ratio, sentence, remedies, (TRUNCATION_NOTE + note).strip())
    return Diagnosis("flows", ratio, _flows(measured, ratio), (), note.strip())


def _flows(measured: str, ratio: float) -> str:
    """The words for a ratio inside the healthy range, agreeing with its number (issue 23:
    "0.057 × … without vanishing" read as a contradiction of a 17-fold drop)."""
    subject = (
        "The gradient of the last step's loss" if measured == "connectivity" else ("The gradient")
    )
    if 1 / SAME <= ratio <= SAME:
        return (
            f"{subject} is about as large at the first step as at the last ({ratio:.2g} ×): "
            "it travels back through time neither vanishing nor exploding."
        )
    if ratio < 1:
        return (
            f"{subject} is {1 / ratio:.2g} times smaller at the first step than at the last: "
            f"it fades on its way back, but by less than the {1 / VANISHING:,.0f}-fold drop "
            "this view calls vanishing, so the early steps still teach the network."
        )
    return (
        f"{subject} is {ratio:.2g} times larger at the first step than at the last: it grows "
        f"on its way back, but by less than the {EXPLODING:,.0f}-fold growth this view calls "
        "exploding."
    )
