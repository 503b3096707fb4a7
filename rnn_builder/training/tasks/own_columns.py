"""What reading a person's file works out, column by column (``tasks.own``): a column of text
as token ids in one flat array as the rows stream in, and a column of labels as classes or
values, with the limits a file is held to and the messages that name its line."""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any

import numpy as np

from rnn_builder.files.data_readers import DataFileError
from rnn_builder.training.vocabulary import END, Tokenizer, Vocabulary, class_order

MAX_CLASSES_GUESS = 20  # a numeric label with more distinct values is a value, not a class
MAX_CLASSES = 10_000
MAX_LENGTH = 10_000  # tokens or steps in one example
MAX_LABEL = 1_000  # characters in a class's name (10,000 classes of it fit a project file)


class _Ids(dict):
    """Token -> provisional id, a new token taking the next id: a lookup of a known token stays
    in C (``map(ids.__getitem__, tokens)``), only a new one calls back into Python."""

    def __missing__(self, token: str) -> int:
        self[token] = value = len(self)
        return value


class TokenColumn:
    """A column of text as provisional token ids, in one flat array as the rows stream in."""

    def __init__(self, tokenizer: Tokenizer, end: bool = False) -> None:
        self.tokenizer = tokenizer
        self.index: dict[str, int] = _Ids()
        self.flat = array("i")
        self.offsets = array("q", [0])
        self.end = end  # close every row with <end>

    def add(self, text: str, line: int, path, what: str) -> None:
        tokens = self.tokenizer(text)
        if not tokens:
            raise DataFileError(path, f"the {what} is empty", line)
        if len(tokens) > MAX_LENGTH:
            raise DataFileError(
                path, f"the {what} has {len(tokens):,} tokens; at most {MAX_LENGTH:,}", line
            )
        self.flat.extend(map(self.index.__getitem__, tokens))
        if self.end:
            self.flat.append(self.index[END])
        self.offsets.append(len(self.flat))

    def vocabulary(self, held: np.ndarray, min_count: int, most: int, specials) -> Vocabulary:
        """Made from the training rows' counts (never the held-out rows')."""
        flat = np.frombuffer(self.flat, dtype=np.int32)
        lengths = np.diff(np.frombuffer(self.offsets, dtype=np.int64))
        training = np.repeat(~held, lengths)
        counts = np.bincount(flat[training], minlength=len(self.index))
        names = list(self.index)
        seen = Counter({names[i]: int(counts[i]) for i in np.flatnonzero(counts)})
        return Vocabulary.build(seen, min_count, most, specials)

    def ids(self, vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        """Every row's final ids (one flat array) and the row offsets."""
        names = list(self.index)
        table = np.array([vocabulary.index.get(t, 0) for t in names], dtype=np.int64)
        flat = table[np.frombuffer(self.flat, dtype=np.int32)] if names else np.zeros(0, np.int64)
        return flat, np.frombuffer(self.offsets, dtype=np.int64)


def lengths_of(offsets: np.ndarray) -> dict[str, float]:
    sizes = np.diff(offsets) if len(offsets) > 1 else np.zeros(1)
    return {"max": int(sizes.max()), "mean": round(float(sizes.mean()), 2)}


class LabelColumn:
    """A column of labels: classes (by name) or values (numbers), decided once all are in."""

    def __init__(self, name: str, path, forced: str | None) -> None:
        self.name, self.path, self.forced = name, path, forced
        self.values: list[str] = []
        self.lines = array("q")

    def add(self, value: Any, line: int) -> None:
        if isinstance(value, bool) or value is None or isinstance(value, list | dict):
            raise DataFileError(
                self.path, f"column '{self.name}': {value!r:.30} is not a label or a number", line
            )
        text = str(value).strip()
        if not text:
            raise DataFileError(self.path, f"column '{self.name}': the label is empty", line)
        if len(text) > MAX_LABEL:  # the classes are kept in the project file
            raise DataFileError(
                self.path,
                f"column '{self.name}': a label of {len(text):,} characters; at most {MAX_LABEL:,}",
                line,
            )
        self.values.append(text)
        self.lines.append(line)

    def is_values(self, known: dict) -> bool:
        if "classes" in known:
            return False
        if "normalisation" in known:
            return True
        if self.forced is not None:
            return self.forced == "values"
        unique = set(self.values)
        return len(unique) > MAX_CLASSES_GUESS and all(
            number_or_none(v) is not None for v in unique
        )

    def classes(self, held: np.ndarray, known: list[str] | None) -> tuple[list[str], np.ndarray]:
        if known is None:
            counts = Counter(self.values)
            lonely = next((v for v, n in counts.items() if n < 2), None)
            if lonely is not None:
                raise DataFileError(
                    self.path,
                    f"column '{self.name}': the label '{lonely[:30]}' has one example; a class "
                    "needs at least two (one to learn from, one to check): fix or remove it",
                    self.lines[self.values.index(lonely)],
                )
            known = class_order(counts)
            if len(known) < 2:
                raise DataFileError(
                    self.path, f"column '{self.name}' has one label only: nothing to tell apart"
                )
            if len(known) > MAX_CLASSES:
                raise DataFileError(
                    self.path,
                    f"column '{self.name}' has {len(known):,} labels; at most "
                    f'{MAX_CLASSES:,}: is it a number to predict? Set "target": "values"',
                )
        index = {c: i for i, c in enumerate(known)}
        ids = np.fromiter(
            (index.get(v, -1) for v in self.values), dtype=np.int64, count=len(self.values)
        )
        unknown = np.flatnonzero(ids < 0)
        if len(unknown):
            at = int(unknown[0])
            raise DataFileError(
                self.path,
                f"column '{self.name}': the label '{self.values[at][:30]}' is not one the "
                f"network was trained on ({', '.join(known[:8])}); read the file afresh to "
                "learn its labels",
                self.lines[at],
            )
        return known, ids

    def numbers(self, held: np.ndarray, known: dict | None) -> tuple[dict, np.ndarray]:
        parsed = {v: number_or_none(v) for v in set(self.values)}
        values = np.fromiter(
            (np.nan if parsed[v] is None else parsed[v] for v in self.values),
            dtype=np.float64,
            count=len(self.values),
        )
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            text = self.values[int(bad[0])]
            raise DataFileError(
                self.path,
                f"column '{self.name}': '{text[:20]}' is not a finite number",
                self.lines[int(bad[0])],
            )
        if known is None:
            train = values[~held]
            known = {"shift": float(train.mean()), "scale": float(train.std() or 1.0)}
        return known, (values - known["shift"]) / known["scale"]


def number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def choose_column(
    header: list[str], chosen: str | None, name: str, guesses: tuple[str, ...], fallback: int, path
) -> str:
    """The column the option ``name`` chose, else the first of ``guesses`` the header has,
    else the one at ``fallback``."""
    if chosen is not None:
        if chosen not in header:
            raise DataFileError(
                path,
                f"has no column {chosen!r:.40} (the data option '{name}'); its columns: "
                f"{', '.join(header[:10])}",
            )
        return chosen
    lowered = {h.lower(): h for h in header}
    for guess in guesses:
        if guess in lowered:
            return lowered[guess]
    return header[fallback]
