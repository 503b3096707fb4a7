"""Data sets: examples of variable length, batched time-major with masks for the executor.

An example maps input node ids and target names to arrays: a token sequence ``(T,)`` of ids,
a feature sequence ``(T, d)``, a vector ``(d,)``; a class target per step ``(T,)`` or per
example (a scalar), values ``(T, k)`` or ``(k,)``. A batch pads its sequences to the longest
one (token ids and class targets with ``-1``, values with 0) and gives every time axis of the
graph a mask, so that padded steps count nowhere.

A :class:`DataSpec` says what a data set feeds (input kinds, vocabularies, widths) and what it
expects (losses and widths of the targets), by field; ``training.binding`` binds the fields to a
graph's nodes and says in words what does not fit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_builder.engine.run import Batch
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import ValidationReport

Array = np.ndarray


@dataclass(frozen=True)
class InputSpec:
    kind: str  # "seq" or "vec"
    width: int  # features, or the vocabulary for tokens
    tokens: bool = False
    steps: int | None = None  # every sequence's length, when the data fixes one


@dataclass(frozen=True)
class TargetSpec:
    loss: str
    width: int  # classes for cross-entropy, values otherwise
    per_step: bool
    # for a target sequence a decoder generates: its longest length (the generated axis's
    # steps) and the class fed back before its first step
    steps: int | None = None
    start: int | None = None


@dataclass(frozen=True)
class DataSpec:
    inputs: dict[str, InputSpec]
    targets: dict[str, TargetSpec]


class OnDemandExamples(Sequence):
    """Examples made when one is asked for, not a list of dicts made up front (a file's data:
    a million rows, millions of windows of a text); :meth:`renamed` gives the same examples
    under the keys the graph reads them by."""

    def renamed(self, keys: dict[str, str]) -> OnDemandExamples:
        raise NotImplementedError

    def lengths(self, name: str) -> Array | None:
        """Every example's length of the sequence field ``name`` without making the examples
        (None: not known so)."""
        return None


class ColumnExamples(OnDemandExamples):
    """Examples made on demand from columns, for data read from a file: a ragged column is one
    flat array of every row's values with each row's offsets into it (a row's value is a view,
    no copy), a plain column one value a row. A million rows cost their arrays, not a million
    dicts and views made up front (measured in ``benchmarks/data_loading.py``: 4 s of the
    14 s it took to read a million reviews)."""

    def __init__(
        self,
        ragged: dict[str, tuple[Array, Array]],
        plain: dict[str, Any],
        rows: Array | None = None,
    ) -> None:
        self.ragged, self.plain = ragged, plain
        count = (
            len(next(iter(ragged.values()))[1]) - 1 if ragged else len(next(iter(plain.values())))
        )
        self.rows = np.arange(count) if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._example(int(r)) for r in self.rows[index]]
        return self._example(int(self.rows[index]))

    def _example(self, row: int) -> dict[str, Any]:
        example = {
            name: flat[offsets[row] : offsets[row + 1]]
            for name, (flat, offsets) in self.ragged.items()
        }
        for name, values in self.plain.items():
            example[name] = values[row]
        return example

    def lengths(self, name: str) -> Array | None:
        if name not in self.ragged:
            return None
        return np.diff(self.ragged[name][1])[self.rows]

    def select(self, rows: Array) -> ColumnExamples:
        """The examples at ``rows`` (positions in this sequence)."""
        return ColumnExamples(self.ragged, self.plain, self.rows[rows])

    def renamed(self, keys: dict[str, str]) -> ColumnExamples:
        return ColumnExamples(
            {keys.get(k, k): v for k, v in self.ragged.items()},
            {keys.get(k, k): v for k, v in self.plain.items()},
            self.rows,
        )


class WindowExamples(OnDemandExamples):
    """Windows over one array of token ids, made when asked for: example ``i`` is ``{input:
    ids[s : s + length], target: ids[s + 1 : s + length + 1]}`` at ``s = starts[i]``, each as
    int64 (a copy of ``length`` ids; the array itself may be held in a smaller type).

    A text of 20 MB has 6 million windows at a stride of 3: made up front as dicts of two
    views each they cost 150 times the file (3 GB; ``benchmarks/text_memory.py``). Here they
    cost the ids and a ``range``."""

    def __init__(
        self,
        ids: Array,
        starts: range,
        length: int,
        fields: tuple[str, str] = ("text", "next_char"),
    ) -> None:
        self.ids, self.starts, self.length, self.fields = ids, starts, length, fields

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._example(s) for s in self.starts[index]]
        return self._example(self.starts[int(index)])

    def _example(self, start: int) -> dict[str, Array]:
        source, target = self.fields
        window = self.ids[start : start + self.length + 1].astype(np.int64)
        return {source: window[:-1], target: window[1:]}

    def lengths(self, name: str) -> Array | None:
        return np.full(len(self), self.length) if name in self.fields else None

    def renamed(self, keys: dict[str, str]) -> WindowExamples:
        fields = tuple(keys.get(field, field) for field in self.fields)
        return WindowExamples(self.ids, self.starts, self.length, fields)


@dataclass
class Split:
    """A list of examples, each a dict of arrays by input node id / target name (a list, or
    :class:`ColumnExamples` made on demand)."""

    examples: Sequence[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.examples)

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        report: ValidationReport | None = None,
        graph: Graph | None = None,
    ) -> Iterator[Batch]:
        """Mini-batches (shuffled when ``rng`` is given); the last one may be smaller."""
        # int32 where it can: 6 million windows' order is 24 MB, not 48 (shuffled alike)
        count = len(self.examples)
        order = np.arange(count, dtype=np.int32 if count < 2**31 else np.int64)
        if rng is not None:
            rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            chosen = [self.examples[i] for i in order[start : start + batch_size]]
            yield make_batch(chosen, report, graph)


def _pad(values: list[Array]) -> tuple[Array, Array]:
    """Stack sequences time-major, padded to the longest; returns (array, lengths)."""
    lengths = np.array([len(v) for v in values])
    longest = int(lengths.max())
    first = np.asarray(values[0])
    integer = first.dtype.kind in "iu"
    shape = (longest, len(values), *first.shape[1:])
    padded = np.full(shape, -1 if integer else 0, dtype=np.int64 if integer else np.float64)
    for b, value in enumerate(values):
        padded[: len(value), b] = value
    return padded, lengths


def make_batch(
    examples: list[dict[str, Any]],
    report: ValidationReport | None = None,
    graph: Graph | None = None,
) -> Batch:
    """Stack examples into a :class:`~rnn_builder.engine.executor.Batch`. With the graph's report,
    every time axis gets a mask from the lengths of what lives on it."""
    keys = [k for k in examples[0] if not k.startswith("_")]  # "_..." keys describe, not feed
    stacked: dict[str, Array] = {}
    lengths: dict[str, Array] = {}
    for key in keys:
        values = [np.asarray(e[key]) for e in examples]
        if values[0].ndim >= 1 and _is_sequence(key, values[0], report, graph):
            stacked[key], lengths[key] = _pad(values)
        else:
            stacked[key] = np.stack(values)
    input_ids = _input_ids(graph) if graph is not None else set(stacked)
    inputs = {k: v for k, v in stacked.items() if k in input_ids}
    targets = {k: v for k, v in stacked.items() if k not in inputs}
    masks = {}
    if report is not None and graph is not None:
        for axis in report.axes.values():
            source = _length_source(axis.id, report, graph, lengths)
            if source is not None:
                steps = int(source.max())
                if (source < steps).any():
                    masks[axis.id] = (np.arange(steps)[:, None] < source[None, :]).astype(float)
    return Batch(inputs, targets, masks)


def _input_ids(graph: Graph) -> set[str]:
    return {n.id for n in graph.inputs()}


def _is_sequence(key: str, value: Array, report, graph) -> bool:
    if graph is not None and key in _input_ids(graph):
        return graph.node_type(key).input_spec(graph.node(key))[0] == "seq"
    if graph is not None:
        output = graph.output_for(key)
        if output is not None:
            return output.id in report.node_axes
    return value.ndim >= 1


def _length_source(
    axis: str, report: ValidationReport, graph: Graph, lengths: dict[str, Array]
) -> Array | None:
    if axis in lengths:  # a sequence input's own axis
        return lengths[axis]
    for node in graph.outputs():
        if report.node_axes.get(node.id) == axis:
            target = graph.node_type(node.id).target(node)
            if target in lengths:
                return lengths[target]
    return None


@dataclass
class Dataset:
    """Training and validation splits with what they feed, and how to read predictions."""

    name: str
    spec: DataSpec
    train: Split
    validation: Split
    metric: str  # accuracy | token_accuracy | sequence_accuracy | mse
    target: str  # the target the metric is measured on
    info: dict[str, Any] = field(default_factory=dict)
