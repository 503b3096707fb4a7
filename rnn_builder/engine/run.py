"""One pass of the executor over a batch: the batch itself, and the :class:`Run` that holds what
every port computed, the caches for the backward pass, the losses and the diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rnn_builder.engine.losses import LossResult
from rnn_builder.errors import DataError, UnrollError

if TYPE_CHECKING:
    from rnn_builder.graph.model import Graph
    from rnn_builder.graph.validation import ValidationReport

Array = np.ndarray


@dataclass
class Batch:
    """One mini-batch, time-major.

    * ``inputs``: by input node id — token ids ``(T, B)``, features ``(T, B, d)``, or vectors
      ``(B, d)``;
    * ``targets``: by target name — class numbers ``(T, B)`` / ``(B,)`` for cross-entropy (``-1``
      to ignore a position), values shaped like the output otherwise;
    * ``masks``: by time-axis id, ``(T, B)`` with 1 for real steps and 0 for padding at the end;
    * ``steps``: lengths of axes that neither an input nor a target fixes (Repeat, generators);
    * ``states``: initial states by cell id and port (``h_0``, ``c_0``) for cells whose state
      ports are not wired — how truncated backpropagation carries state from chunk to chunk;
    * ``loss_masks``: by time-axis id, where the losses on that axis are taken, when not at every
      real step (the gradient-flow measure takes only each sequence's last step's loss).
    """

    inputs: dict[str, Array]
    targets: dict[str, Array] = field(default_factory=dict)
    masks: dict[str, Array] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    states: dict[str, dict[str, Array]] = field(default_factory=dict)
    loss_masks: dict[str, Array] = field(default_factory=dict)


def recorded(graph, values: dict, name: str) -> dict[str, Array]:
    """What each node of ``graph`` keeps under ``name`` (``NodeType.records``) in ``values``,
    by node id (a pass's or a walk's)."""
    return {
        node.id: values[(node.id, name)]
        for node in graph
        if (node.id, name) in values
        and any(r.name == name for r in graph.node_type(node.id).records)
    }


class Runner(Protocol):
    """What a pass reads of the executor that runs it (:class:`rnn_builder.engine.executor.Executor`
    is one). Named here instead of imported: the executor's operations take a :class:`Run`, so
    importing the executor back would make executor, ops and run a cycle."""

    graph: Graph
    report: ValidationReport
    dtype: np.dtype
    ops: Mapping[str, Any]  # by node id: each one's ``axis`` and ``settings``
    outputs_on_axis: Mapping[str, list[str]]

    def axis_of(self, node_id: str) -> str | None: ...


class Run:
    """One pass: the values every port took, the caches for backward, losses and diagnostics."""

    def __init__(
        self,
        executor: Runner,
        batch: Batch,
        train: bool,
        temperature: float | None,
        rng: np.random.Generator | None,
    ) -> None:
        self.executor = executor
        self.batch = batch
        self.train = train
        self.dtype = executor.dtype
        self.temperature = temperature
        self._rng = rng
        self.values: dict[tuple[str, str], Array] = {}
        self.caches: dict[str, Any] = {}
        self.losses: dict[str, LossResult] = {}
        self.predictions: dict[str, Array] = {}
        self.grads: dict[tuple[str, str], Array] = {}
        self.state_grad_norms: dict[str, dict[str, Array]] = {}
        self.step: int | None = None  # set while a feedback loop runs step by step
        self.forced: frozenset[str] = frozenset()  # teacher-forced Delays of this pass
        # What an op works out once per pass from an input that stays the same all through it
        # (an attention's keys from its memory, at every step of a loop), and what its backward
        # pass gathers over a loop's steps; keyed by (node id, what). Stepping clears it when
        # it steps back or starts again (its values are then rewritten in place).
        self.memo: dict[tuple[str, str], Any] = {}
        self.batch_size = self._batch_size()
        self.lengths = self._lengths()
        self.masks = self._masks()

    # --- what ops ask of the pass ---------------------------------------------------------

    @property
    def rng(self) -> np.random.Generator:
        """The generator of samples at a temperature; made on first use (making one costs
        ~10 µs, a tenth of a small network's training step, which never samples)."""
        if self._rng is None:
            self._rng = np.random.default_rng(0)
        return self._rng

    def input_value(self, node_id: str) -> Array:
        try:
            return self.batch.inputs[node_id]
        except KeyError:
            name = self.executor.graph.node(node_id).name
            raise DataError(f"the batch has no data for input '{name}'") from None

    def target(self, name: str) -> Array | None:
        return self.batch.targets.get(name)

    def length(self, axis: str) -> int:
        return self.lengths[axis]

    def mask(self, axis: str | None) -> Array | None:
        if axis is None:
            return None
        mask = self.masks.get(axis)
        if mask is None or self.step is None:
            return mask
        return mask[self.step : self.step + 1]

    def loss_mask(self, axis: str | None) -> Array | None:
        """Where a loss on ``axis`` counts: the batch's loss mask there, else the axis's mask."""
        if axis is None or axis not in self.batch.loss_masks:
            return self.mask(axis)
        mask = np.asarray(self.batch.loss_masks[axis], dtype=self.dtype)[..., None]
        return mask if self.step is None else mask[self.step : self.step + 1]

    def last_steps(self, axis: str | None, steps: int, batch: int) -> Array:
        mask = self.masks.get(axis) if axis else None
        if mask is None:
            return np.full(batch, steps - 1)
        return np.maximum(mask[..., 0].sum(axis=0).astype(np.int64) - 1, 0)

    def record_state_grads(self, node_id: str, suffix: str, dhs: Array) -> None:
        norms = np.sqrt(np.einsum("tbh,tbh->t", dhs, dhs))
        direction = "reverse" if suffix else "forward"
        per_node = self.state_grad_norms.setdefault(node_id, {})
        if self.step is None:
            per_node[direction] = norms
        else:
            row = per_node.setdefault(
                direction, np.zeros(self.lengths[self.executor.axis_of(node_id)])
            )
            row[self.step] = norms[0]

    def records(self, name: str) -> dict[str, Array]:
        """What each node keeps per step under ``name`` (``NodeType.records``), by node id:
        ``(T, B, …)`` over the node's axis."""
        return recorded(self.executor.graph, self.values, name)

    @property
    def alignments(self) -> dict[str, Array]:
        """Each attention's alignment weights in this pass, by node id: ``(T_query, B,
        T_memory)``, row ``[t, b]`` the weights example ``b``'s query step ``t`` gave every
        memory step (0 at padded ones; each row sums to 1 over the real ones). Padded query
        steps are computed too, as every node computes them."""
        return self.records("alignment")

    @property
    def loss(self) -> float:
        """Each Output's mean over its real targets in this batch, summed over the Outputs
        (:mod:`rnn_builder.engine.losses` defines it; ``LossTotals`` takes it over a split)."""
        return float(sum(result.loss for result in self.losses.values()))

    def accuracy(self) -> float | None:
        counted = sum(r.counted for r in self.losses.values())
        if counted == 0:
            return None
        return sum(r.correct for r in self.losses.values()) / counted

    # --- set-up ---------------------------------------------------------------------------------

    def _batch_size(self) -> int:
        sizes = set()
        for node_id, value in self.batch.inputs.items():
            value = np.asarray(value)
            op = self.executor.ops.get(node_id)
            if op is None:
                continue
            sizes.add(value.shape[1] if op.axis is not None and value.ndim >= 2 else value.shape[0])
        if len(sizes) > 1:
            raise DataError(f"the inputs disagree on the batch size ({sorted(sizes)})")
        if not sizes:
            raise DataError("the batch has no inputs")
        return sizes.pop()

    def _lengths(self) -> dict[str, int]:
        return batch_lengths(self.executor, self.batch)

    def _masks(self) -> dict[str, Array]:
        masks = {}
        for axis, mask in self.batch.masks.items():
            if axis not in self.lengths:
                raise DataError(f"the batch has a mask for '{axis}', which is not a time axis")
            mask = np.asarray(mask, dtype=self.dtype)
            if mask.shape != (self.lengths[axis], self.batch_size):
                raise DataError(
                    f"the mask of '{axis}' must have shape (steps, batch) = "
                    f"({self.lengths[axis]}, {self.batch_size}); got {mask.shape}"
                )
            masks[axis] = mask[..., None]
        return masks


def batch_lengths(executor: Runner, batch: Batch) -> dict[str, int]:
    """Each axis's length in ``batch`` (an input's from its data, a generated axis's as asked
    in ``batch.steps``, else from its targets, else its node's ``steps``), resolved and checked
    as the unroller does."""
    from rnn_builder.graph.unroll import axis_lengths

    lengths = {}
    report = executor.report
    for axis in report.axes.values():
        if axis.kind == "input":
            value = batch.inputs.get(axis.id)
            if value is None:
                name = executor.graph.node(axis.id).name
                raise DataError(f"the batch has no data for input '{name}'")
            lengths[axis.id] = int(np.asarray(value).shape[0])
        elif axis.id in batch.steps:
            lengths[axis.id] = int(batch.steps[axis.id])
        else:
            lengths[axis.id] = _length_from_targets(executor, batch, axis.id) or axis.default_steps
    try:
        return axis_lengths(report, lengths)
    except UnrollError as error:
        raise DataError(str(error)) from None


def _length_from_targets(executor: Runner, batch: Batch, axis: str) -> int | None:
    for output_id in executor.outputs_on_axis.get(axis, ()):
        target = batch.targets.get(executor.ops[output_id].settings["target"])
        if target is not None:
            return int(np.asarray(target).shape[0])
    return None
