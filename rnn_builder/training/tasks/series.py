"""Forecasting a time series from a CSV file: a window of past values in, a later value out.

Options (kept with the project, so that a trained model reads new data the same way):
``path`` (default: the bundled monthly airline passengers, 1949–1960), ``target`` (the column
to forecast; default the last numeric column), ``inputs`` (the columns read at every step;
default the target alone), ``window`` (steps read), ``horizon`` (how far ahead), and
``normalise``: ``relative`` (default: each window divided by its own last value, so that the
model learns changes and carries over to levels it never saw, as a growing series needs),
``zscore``, ``minmax`` or ``none``. The normalisation's numbers are computed on
the training part only and stored in ``normalisation``. The last fifth of the series is held out
for validation, in time order: the model is checked on a future it has not seen.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Task
from rnn_builder.training.tasks.files import bundled, read_text

MAX_ROWS = 1_000_000


def read_table(text: str, what: str) -> tuple[list[str], list[list[str]]]:
    if not text.strip():
        raise DataError(f"{what} is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": lines end in \n, \r\n or \r alone (old Macs, some exports), mixed too,
    # and the csv module splits them itself, keeping a quoted field's own line breaks.
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = [row for row in reader if any(c.strip() for c in row)]
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            reason = f"a field is longer than {csv.field_size_limit():,} characters"
        else:
            reason = f"it cannot be read as CSV ({str(error).partition(' - ')[0]})"
        raise DataError(f"{what}, line {reader.line_num}: {reason}") from None
    if len(rows) < 2:
        raise DataError(f"{what} needs a header row and at least one row of values")
    if len(rows) > MAX_ROWS:
        raise DataError(f"{what} has {len(rows):,} rows; at most {MAX_ROWS:,} can be used")
    header = [h.strip() for h in rows[0]]
    if any(len(name) > 1_000 for name in header):  # the columns read are kept in the project
        raise DataError(f"{what} has a column's name longer than 1,000 characters")
    if len(set(header)) != len(header):
        raise DataError(f"{what} has two columns with the same name in its header")
    return header, rows[1:]


def numeric_column(header: list[str], rows: list[list[str]], name: str, what: str) -> np.ndarray:
    if name not in header:
        raise DataError(f"{what} has no column '{name}'; its columns are: {', '.join(header)}")
    column = header.index(name)
    values = np.empty(len(rows))
    for number, row in enumerate(rows, start=2):
        cell = row[column].strip() if column < len(row) else ""
        if not cell:
            raise DataError(f"{what}, row {number}, column '{name}': the cell is empty")
        try:
            value = float(cell)
        except ValueError:
            raise DataError(
                f"{what}, row {number}, column '{name}': '{cell[:20]}' is not a number"
            ) from None
        if not math.isfinite(value):
            raise DataError(f"{what}, row {number}, column '{name}': '{cell}' is not finite")
        values[number - 2] = value
    return values


def is_numeric(rows: list[list[str]], column: int) -> bool:
    try:
        for row in rows[:20]:
            float(row[column])
    except (ValueError, IndexError):
        return False
    return True


def _names_a_file(text: str) -> bool:
    """Whether typed input names a file rather than giving the numbers themselves."""
    text = text.strip()
    return bool(re.search(r"[/\\]|\.(csv|tsv|txt)$", text, re.IGNORECASE)) or Path(text).is_file()


def typed_numbers(text: str) -> np.ndarray:
    """Numbers typed one after the other (commas, semicolons or spaces between), checked:
    the first that is not a finite number is named, with its place in the sequence."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts:
        raise DataError("type the series' latest values, oldest first, like '112, 118, 132'")
    values = np.empty(len(parts))
    for place, part in enumerate(parts):
        try:
            values[place] = float(part)
        except ValueError:
            raise DataError(
                f"'{part[:20]}' (value {place + 1} of {len(parts)}) is not a number"
            ) from None
        if not math.isfinite(values[place]):
            raise DataError(f"'{part}' (value {place + 1} of {len(parts)}) is not finite")
    return values


class SeriesForecast(Task):
    name = "csv_series"
    title = "Time-series forecast"
    description = "Forecast a column of a CSV file from a window of its past values."
    metric = "mse"
    target = "next"
    example_input = "112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118"

    def spec(self, options):
        inputs = self.option(options, "inputs") or [self.option(options, "target") or "?"]
        return DataSpec(
            {"history": InputSpec("seq", len(inputs), steps=self.option(options, "window"))},
            {"next": TargetSpec("mse", 1, False)},
        )

    def table(self, options) -> tuple[dict[str, np.ndarray], str, list[str]]:
        path = options.get("path") or bundled("airline_passengers.csv")
        what = f"the CSV file '{path}'"
        header, rows = read_table(read_text(path, "the CSV file"), what)
        target = self.option(options, "target")
        if not target:
            numeric = [h for i, h in enumerate(header) if is_numeric(rows, i)]
            if not numeric:
                raise DataError(f"{what} has no column of numbers to forecast")
            target = numeric[-1]
        inputs = list(self.option(options, "inputs") or [target])
        columns = {name: numeric_column(header, rows, name, what) for name in {target, *inputs}}
        return columns, target, inputs

    def longest(self, options):
        return {"history": self.option(options, "window")}

    def examples(self, seed, options):
        columns, target, inputs = self.table(options)
        options.update(target=target, inputs=inputs)
        window = self.option(options, "window")
        horizon = self.option(options, "horizon")
        length = len(columns[target])
        count = length - window - horizon + 1
        if count < 10:
            raise DataError(
                f"the series has {length} rows; a window of {window} and a horizon "
                f"of {horizon} need at least {window + horizon + 9}"
            )
        cut = int(length * 0.8)  # statistics and training from the first four fifths only
        method = options["normalise"] = self.option(options, "normalise")
        options["normalisation"] = {
            name: self._statistics(values[:cut], method) for name, values in columns.items()
        }
        raw = np.stack([columns[name] for name in inputs], axis=1)
        examples = []
        for start in range(count):
            end = start + window + horizon - 1
            example = self._window(raw[start : start + window], inputs, options)
            example["next"] = np.array([self._target(columns[target][end], example, options)])
            example.update(_end=end, _truth=float(columns[target][end]))
            examples.append(example)
        train = [e for e in examples if e["_end"] < cut]
        validation = [e for e in examples if e["_end"] >= cut]
        return train, validation

    @staticmethod
    def _statistics(values: np.ndarray, method: str) -> dict[str, float]:
        if method == "relative":
            if (values == 0).any():
                raise DataError(
                    "relative normalisation divides by the values, and this column "
                    "holds zeros: choose zscore or minmax"
                )
            return {"shift": 0.0, "scale": 1.0}
        if method == "zscore":
            return {"shift": float(values.mean()), "scale": float(values.std() or 1.0)}
        if method == "minmax":
            return {
                "shift": float(values.min()),
                "scale": float((values.max() - values.min()) or 1.0),
            }
        if method == "none":
            return {"shift": 0.0, "scale": 1.0}
        raise DataError(f"normalise must be relative, zscore, minmax or none, not '{method}'")

    @staticmethod
    def _window(raw: np.ndarray, inputs: list[str], options) -> dict:
        """One window of raw values as the model reads it; ``_level`` keeps what a relative
        window was divided by, to read the prediction back."""
        if options["normalise"] == "relative":
            level = raw[-1]
            if (level == 0).any():
                raise DataError(
                    "a window ends on a zero, which relative normalisation cannot "
                    "divide by: choose zscore or minmax"
                )
            return {
                "history": raw / level - 1.0,
                "_level": float(level[inputs.index(options["target"])]),
            }
        stats = options["normalisation"]
        columns = [
            (raw[:, k] - stats[n]["shift"]) / stats[n]["scale"] for k, n in enumerate(inputs)
        ]
        return {"history": np.stack(columns, axis=1)}

    @staticmethod
    def _target(value: float, example: dict, options) -> float:
        if options["normalise"] == "relative":
            return value / example["_level"] - 1.0
        stats = options["normalisation"][options["target"]]
        return (value - stats["shift"]) / stats["scale"]

    def value(self, prediction: np.ndarray, example: dict, options) -> float:
        """A prediction back in the units of the CSV file."""
        predicted = float(np.ravel(prediction)[0])
        if self.option(options, "normalise") == "relative":
            return (predicted + 1.0) * example["_level"]
        stats = options["normalisation"][options["target"]]
        return predicted * stats["scale"] + stats["shift"]

    def encode(self, text, options):
        """Typed numbers (``112, 118, 132``, oldest first) or a CSV file (its last window of
        the columns the model was trained on) → one example."""
        window = self.option(options, "window")
        inputs = options["inputs"]
        if not _names_a_file(text):
            if len(inputs) != 1:
                raise DataError(
                    f"the model reads {len(inputs)} columns ({', '.join(inputs)}) at every "
                    "step: give a CSV file with them rather than one row of numbers"
                )
            values = typed_numbers(text)
            # the model was trained on windows of this length: more is cut to the latest
            # window, as for a file; fewer still runs (a recurrent network reads any length)
            return self._window(values[-window:, None], inputs, options)
        header, rows = read_table(read_text(text, "the CSV file"), f"the CSV file '{text}'")
        columns = [numeric_column(header, rows, name, f"'{text}'") for name in inputs]
        if len(columns[0]) < window:
            raise DataError(f"'{text}' has {len(columns[0])} rows; the model reads {window}")
        return self._window(np.stack(columns, axis=1)[-window:], inputs, options)

    def decode(self, prediction, example, options):
        value = self.value(prediction, example, options)
        return f"{options['target']}, {self.option(options, 'horizon')} step(s) ahead: {value:.4g}"
