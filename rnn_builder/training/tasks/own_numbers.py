"""A person's numeric sequences (``tasks.own``'s kind ``sequences``): one sequence a row — a
JSON list, or numbers between spaces or commas — with a label or a target, for sequence
classification and regression."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.files.data_readers import DataFileError
from rnn_builder.training.data import ColumnExamples, DataSpec, InputSpec
from rnn_builder.training.tasks.own import (
    LABEL_NAMES,
    MAX_EXAMPLES,
    LabelledText,
    split_examples,
    table_rows,
)
from rnn_builder.training.tasks.own_columns import (
    MAX_LENGTH,
    LabelColumn,
    lengths_of,
)


def read_numbers(value: Any, path, line: int, column: str) -> np.ndarray:
    """One sequence: a JSON list (of numbers, or of lists of numbers for several features a
    step), or text: steps split by ';' with features by spaces or commas, or one number a step
    split by spaces or commas."""
    try:
        if isinstance(value, list):
            if (
                any(isinstance(v, list) for v in value)
                and len({len(v) if isinstance(v, list) else -1 for v in value}) > 1
            ):
                raise DataFileError(path, f"column '{column}': a ragged sequence", line)
            array_ = np.array(value, dtype=np.float64)
        elif isinstance(value, str):
            if ";" in value:
                steps = [
                    [float(x) for x in re.split(r"[\s,]+", s.strip()) if x]
                    for s in value.split(";")
                    if s.strip()
                ]
                if len({len(step) for step in steps}) > 1:
                    raise DataFileError(
                        path,
                        f"column '{column}': a ragged sequence, its steps have "
                        f"{' and '.join(sorted({str(len(s)) for s in steps}))} numbers",
                        line,
                    )
                array_ = np.array(steps)
            else:
                array_ = np.array([float(x) for x in re.split(r"[\s,]+", value.strip()) if x])
        else:
            raise ValueError
    except (ValueError, TypeError):
        raise DataFileError(
            path,
            f"column '{column}': not a sequence of numbers (write '0.5 1.2 0.8', or steps "
            "split by ';' for several numbers a step)",
            line,
        ) from None
    if array_.ndim == 1:
        array_ = array_[:, None]
    if array_.ndim != 2 or len(array_) == 0:
        raise DataFileError(path, f"column '{column}': an empty or ragged sequence", line)
    if not np.isfinite(array_).all():
        raise DataFileError(path, f"column '{column}': NaN or infinity in the sequence", line)
    if len(array_) > MAX_LENGTH:
        raise DataFileError(path, f"column '{column}': over {MAX_LENGTH:,} steps", line)
    return array_


class NumericSequences(LabelledText):
    name = "numeric_sequences"
    kind = "sequences"
    title = "Numeric sequences"
    description = "Your sequences of numbers with a label or a value each: classify or regress."
    metric = "accuracy"
    input_field, target_field = "sequence", "label"
    example_input = "0.1 0.5 0.9"

    def spec(self, options):
        features = self.option(options, "features") or 1
        return DataSpec(
            {"sequence": InputSpec("seq", features)}, {"label": self.label_spec(options)}
        )

    def not_read(self, options):
        return "features" not in options

    def examples(self, seed, options):
        path = self.path(options)
        header, rows = table_rows(self, path, options)
        column, label = self.columns(
            header,
            options,
            path,
            ("sequence_column", ("sequence", "values", "x"), 0, "sequence"),
            ("label_column", LABEL_NAMES, len(header) - 1, "label"),
        )
        forced = self.option(options, "target")
        split_column = self.option(options, "split_column")
        labels = LabelColumn(label, path, forced or None)
        sequences: list[np.ndarray] = []
        splits = [] if split_column else None
        for row in rows:
            sequence = read_numbers(row.values[column], path, row.line, column)
            if sequences and sequence.shape[1] != sequences[0].shape[1]:
                raise DataFileError(
                    path,
                    f"column '{column}': {sequence.shape[1]} numbers a step where the first row "
                    f"has {sequences[0].shape[1]}",
                    row.line,
                )
            sequences.append(sequence)
            labels.add(row.values[label], row.line)
            if splits is not None:
                splits.append(str(row.values.get(split_column, "")))
            if len(sequences) > MAX_EXAMPLES:
                raise DataFileError(path, f"has over {MAX_EXAMPLES:,} rows; use part of it")
        if len(sequences) < 2:
            raise DataFileError(path, "needs at least two rows of data below its header")
        held = self.held_out(len(sequences), splits, seed, options)
        features = sequences[0].shape[1]
        if self.option(options, "features") not in (None, features):
            raise DataFileError(
                path,
                f"has {features} numbers a step; the network was trained on "
                f"{options['features']}: read the file afresh",
            )
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in sequences])])
        flat = np.concatenate(sequences)
        del sequences
        statistics = self.statistics(options, "sequence")
        if statistics is None:
            train = flat[np.repeat(~held, np.diff(offsets))]
            statistics = {
                "shift": train.mean(axis=0).tolist(),
                "scale": (train.std(axis=0) + (train.std(axis=0) == 0)).tolist(),
            }
        shift, scale = np.array(statistics["shift"]), np.array(statistics["scale"])
        normalisation = {"sequence": statistics}
        targets, label_statistics = self.label_targets(labels, held, options)
        if label_statistics is not None:
            normalisation["label"] = label_statistics
        options.update(
            features=features,
            normalisation=normalisation,
            columns={"sequence": column, "label": label},
            lengths={"sequence": lengths_of(offsets)},
        )
        examples = ColumnExamples({"sequence": ((flat - shift) / scale, offsets)}, targets)
        return split_examples(examples, held)

    def encode(self, text, options):
        statistics = self.statistics(options, "sequence")
        features = self.option(options, "features")
        if statistics is None or features is None:
            raise DataError("the data has not been read yet: read it (or train) first")
        sequence = read_numbers(text, "your input", 1, "sequence")
        if sequence.shape[1] != features:
            raise DataError(
                f"the network reads {options['features']} numbers a step, not "
                f"{sequence.shape[1]}: split steps by ';'"
            )
        return {
            "sequence": (sequence - np.array(statistics["shift"])) / np.array(statistics["scale"])
        }
