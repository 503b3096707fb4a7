"""Losses of the Output node, with masks for the padded steps of variable-length batches.

All three take raw scores (logits) or values and apply their own squashing, for numerical
stability; each returns the mean loss over the valid positions, its gradient with respect to
the scores, the predictions to show (probabilities or values), and what is needed for accuracy.

* ``cross_entropy``: softmax cross-entropy over the last axis; targets are class indices
  (``-1`` or a zero mask marks a position to ignore). Mean over valid positions, as PyTorch's
  ``CrossEntropyLoss`` with ``ignore_index``.
* ``mse``: mean of the squared error over every valid element.
* ``binary_cross_entropy``: on logits (PyTorch's ``BCEWithLogitsLoss``), targets 0/1, mean over
  every valid element.

**The loss of a graph** is, for each Output, the mean over every real target it is compared
with (padding excluded, as PyTorch's ``reduction="mean"`` over all of them), and the sum of
these means over the Outputs. A training step takes it on its batch (``Run.loss``); an
evaluation takes it on the whole split (:class:`LossTotals`), so that the figure is the same
whatever the batch size: the mean of per-batch means is not, when batches hold unequal numbers
of real targets (sequences of unequal lengths).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass
class LossResult:
    loss: float
    grad: Array  # d loss / d scores, same shape as the scores
    predictions: Array
    correct: int = 0  # correctly classified valid positions (classification losses)
    counted: int = 0  # valid positions
    mean_over: float = 0.0  # how many real targets ``loss`` is the mean of (elements for MSE, BCE)


def softmax(scores: Array) -> Array:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


def cross_entropy(scores: Array, targets: Array, mask: Array | None = None) -> LossResult:
    """``scores (..., K)``, integer ``targets (...)``; ``mask (...)`` of 1/0 or None."""
    targets = np.asarray(targets)
    valid = targets >= 0
    if mask is not None:
        valid = valid & (mask.reshape(targets.shape) > 0)
    count = int(valid.sum())
    probabilities = softmax(scores)
    safe = np.where(valid, targets, 0)
    picked = np.take_along_axis(probabilities, safe[..., None], axis=-1)[..., 0]
    log_picked = np.log(np.maximum(picked, np.finfo(scores.dtype).tiny))
    loss = -float(log_picked[valid].sum()) / max(count, 1)
    grad = probabilities.copy()
    np.put_along_axis(grad, safe[..., None], (picked - 1.0)[..., None], axis=-1)
    grad *= (valid / max(count, 1))[..., None].astype(scores.dtype)
    correct = int(((probabilities.argmax(axis=-1) == targets) & valid).sum())
    return LossResult(loss, grad, probabilities, correct, count, count)


def mse(values: Array, targets: Array, mask: Array | None = None) -> LossResult:
    """``values`` and ``targets`` of one shape; ``mask`` over the leading (step/batch) axes."""
    targets = np.asarray(targets, dtype=values.dtype).reshape(values.shape)
    diff = values - targets
    weight = _element_weight(values, mask)
    count = values.size if weight is None else float(weight.sum()) * values.shape[-1]
    if weight is not None:
        diff *= weight
    loss = float(np.vdot(diff, diff)) / max(count, 1)  # one BLAS dot: 5× np.sum of squares
    diff *= values.dtype.type(2.0 / max(count, 1))  # the gradient, in place
    return LossResult(loss, diff, values.copy(), mean_over=float(count))


def binary_cross_entropy(logits: Array, targets: Array, mask: Array | None = None) -> LossResult:
    """``logits`` and 0/1 ``targets`` of one shape; mean over valid elements."""
    targets = np.asarray(targets, dtype=logits.dtype).reshape(logits.shape)
    weight = _element_weight(logits, mask)
    count = logits.size if weight is None else float(weight.sum()) * logits.shape[-1]
    # softplus(z) - t z, computed stably
    per_element = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
    probabilities = 0.5 * np.tanh(0.5 * logits) + 0.5
    grad = probabilities - targets
    if weight is not None:
        per_element = per_element * weight
        grad = grad * weight
    loss = float(per_element.sum()) / max(count, 1)
    grad = (grad / max(count, 1)).astype(logits.dtype)
    hits = (logits > 0) == (targets > 0.5)
    if weight is not None:
        hits = hits & (weight > 0)
    return LossResult(loss, grad, probabilities, int(hits.sum()), int(count), float(count))


class LossTotals:
    """A graph's loss over many batches, as over one: each Output's summed loss and its count
    of real targets, added up batch after batch; :attr:`loss` is then each Output's mean over
    all its targets, summed over the Outputs (the module's definition)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, float] = {}

    def add(self, losses: Mapping[str, LossResult]) -> None:
        """Add one batch's losses, by Output id (a ``Run.losses``)."""
        for output, result in losses.items():
            self.sums[output] = self.sums.get(output, 0.0) + result.loss * result.mean_over
            self.counts[output] = self.counts.get(output, 0.0) + result.mean_over

    @property
    def loss(self) -> float:
        return float(sum(self.sums[o] / self.counts[o] for o in self.sums if self.counts[o] > 0))


def _element_weight(values: Array, mask: Array | None) -> Array | None:
    if mask is None:
        return None
    return mask.reshape((*values.shape[:-1], 1)).astype(values.dtype)


LOSS_FUNCTIONS = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
}
