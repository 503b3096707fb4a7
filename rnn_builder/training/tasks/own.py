"""A person's own data, for every layout: labelled text, tagged tokens, sequence pairs and
numeric sequences, each read from a file by its reader (``files.data_readers``).

=============  ==========================================  ==============================
kind           file                                        fields (input → target)
=============  ==========================================  ==============================
``labelled``   CSV, TSV or JSON Lines: a text, a label     ``text`` → ``label`` (one)
``tagged``     CoNLL: ``token<TAB>tag``, blank line after  ``tokens`` → ``tags`` (a step)
               each sentence
``pairs``      CSV, TSV or JSON Lines: source, target      ``source`` → ``target`` (a
                                                           sequence of its own length)
``sequences``  CSV, TSV or JSON Lines: numbers, a label    ``sequence`` → ``label`` (one)
=============  ==========================================  ==============================

A label column of numbers with more than ``MAX_CLASSES_GUESS`` values (or ``"target":
"values"``) is a regression target, normalised on the training part; otherwise its values
are classes. The file is read once: tokens get provisional ids as the rows stream in (one flat
array, no list of strings a row), the validation part is drawn (a seeded fraction, or a split
column), and the vocabulary is made from the training part's counts.

What the data works out is written into the options and so kept with the project:
``vocabulary`` (and ``target_vocabulary`` for pairs), ``classes`` or ``normalisation``,
``features``, ``lengths``, the ``columns`` read. When the options already hold a vocabulary or
classes (the project was trained), they are used as they are, so that weights trained on them
read new data as they did; a ``data`` or ``edit --data-file`` works them out afresh.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.files.data_readers import (
    DataFileError,
    Row,
    checkpoint,
    read_table,
    read_tagged,
)
from rnn_builder.training.data import (
    ColumnExamples,
    Dataset,
    DataSpec,
    InputSpec,
    Split,
    TargetSpec,
)
from rnn_builder.training.tasks.base import PROBABILITY_NOTE, Task
from rnn_builder.training.vocabulary import (
    END,
    START,
    TARGET_SPECIALS,
    UNKNOWN,
    Tokenizer,
    Vocabulary,
    class_order,
)

MAX_CLASSES_GUESS = 20  # a numeric label with more distinct values is a value, not a class
MAX_CLASSES = 10_000
MAX_EXAMPLES = 5_000_000
MAX_LENGTH = 10_000  # tokens or steps in one example
MAX_LABEL = 1_000  # characters in a class's name (10,000 classes of it fit a project file)
VALIDATION_WORDS = {"validation", "valid", "val", "dev", "development", "test", "held_out"}
TRAINING_WORDS = {"train", "training"}
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y", "tag")
TEXT_NAMES = ("text", "sentence", "review", "document", "comment", "source", "input", "x")


class OwnData(Task):
    """What the four kinds share: the file, the split, tokenisation, the learned values."""

    kind: ClassVar[str]
    input_field: ClassVar[str]
    target_field: ClassVar[str]
    target = "label"

    def metric_of(self, options: dict[str, Any]) -> str:
        return "mse" if self.label_statistics(options) else self.metric

    # the options every kind reads (each checked by the table, files.data_options)
    def tokenizer(self, options: dict, name: str = "tokens") -> Tokenizer:
        unit = self.option(options, name) or self.option(options, "tokens")
        return Tokenizer(unit, self.option(options, "lowercase"))

    def vocabulary_limits(self, options: dict) -> tuple[int, int]:
        return self.option(options, "min_count"), self.option(options, "max_vocabulary")

    def learned(self, options: dict, key: str) -> list[str]:
        """A vocabulary or the class names reading worked out (kept in the options), checked
        as the table says; [] when the data has not been read yet."""
        return list(self.option(options, key) or [])

    def statistics(self, options: dict, field: str) -> dict | None:
        """The normalisation reading worked out for ``field`` (``label``, ``sequence``)."""
        return (self.option(options, "normalisation") or {}).get(field)

    def label_statistics(self, options: dict) -> dict | None:
        return self.statistics(options, "label")

    def longest(self, options):
        """What reading the file worked out and kept (``lengths``: each field's longest); a
        file not read yet says nothing."""
        found = {}
        for field, length in (self.option(options, "lengths") or {}).items():
            if isinstance(length, dict) and isinstance(length.get("max"), int):
                found[field] = length["max"]
        return found

    def path(self, options: dict) -> Path:
        path = options.get("path")
        if not path:
            raise DataError(f"the {self.title} data needs a file: choose one")
        return Path(path)

    def held_out(self, rows: int, split_values: list[str] | None, seed: int, options) -> np.ndarray:
        """Which rows are for validation: the split column's word, or a seeded fraction."""
        checkpoint()  # the file is read; a cancelled read stops before the vocabulary
        if split_values is not None:
            held = np.array([v.strip().lower() in VALIDATION_WORDS for v in split_values])
            if not held.any():
                raise DataError(
                    f"the split column '{options['split_column']}' marks no row for validation "
                    f"(a row is held out when it says {', '.join(sorted(VALIDATION_WORDS))})"
                )
        else:
            fraction = self.option(options, "validation")
            rng = np.random.default_rng(seed)
            held = np.zeros(rows, dtype=bool)
            held[rng.permutation(rows)[: max(1, round(rows * fraction))]] = True
        if held.all():
            raise DataError("every row is held out for validation: none is left to train on")
        return held

    def generate(self, seed: int = 0, options: dict[str, Any] | None = None) -> Dataset:
        options = dict(options or {})
        self.check_options(options)
        train, validation = self.examples(seed, options)
        checkpoint()
        spec = self.spec(options)
        return Dataset(
            self.name,
            spec,
            Split(train),
            Split(validation),
            self.metric_of(options),
            self.target_field,
            {"task": self, "options": options},
        )

    def not_read(self, options: dict) -> bool:
        """Whether the file has not been read into these options yet (no widths known)."""
        return "vocabulary" not in options and "features" not in options


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


def _lengths(offsets: np.ndarray) -> dict[str, float]:
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
        return len(unique) > MAX_CLASSES_GUESS and all(_number(v) is not None for v in unique)

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
        parsed = {v: _number(v) for v in set(self.values)}
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


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _column(
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


def _table_rows(task: OwnData, path, options) -> tuple[list[str], Iterator[Row]]:
    return read_table(path, task.option(options, "format") or None)


# --- labelled text ----------------------------------------------------------------------------


class LabelledText(OwnData):
    name = "labelled_text"
    kind = "labelled"
    title = "Labelled text"
    description = "Your texts with a label each (CSV, TSV or JSON Lines): one class per text."
    metric = "accuracy"
    input_field, target_field = "text", "label"
    example_input = ""
    prediction_note = PROBABILITY_NOTE

    def spec(self, options):
        vocabulary = len(self.learned(options, "vocabulary")) or 1
        if self.label_statistics(options):
            target = TargetSpec("mse", 1, False)
        else:
            target = TargetSpec("cross_entropy", len(self.learned(options, "classes")) or 2, False)
        return DataSpec({"text": InputSpec("seq", vocabulary, tokens=True)}, {"label": target})

    def examples(self, seed, options):
        path = self.path(options)
        header, rows = _table_rows(self, path, options)
        text = _column(
            header, self.option(options, "text_column"), "text_column", TEXT_NAMES, 0, path
        )
        label = _column(
            header,
            self.option(options, "label_column"),
            "label_column",
            LABEL_NAMES,
            len(header) - 1,
            path,
        )
        if text == label:
            raise DataFileError(path, f"the text and the label are the same column, '{text}'")
        split_column = self.option(options, "split_column")
        if split_column is not None:
            _column(header, self.option(options, "split_column"), "split_column", (), 0, path)
        forced = self.option(options, "target")
        tokens = TokenColumn(self.tokenizer(options))
        labels = LabelColumn(label, path, forced or None)
        splits: list[str] | None = [] if split_column else None
        count = 0
        for row in rows:
            value = row.values[text]
            if not isinstance(value, str):
                raise DataFileError(path, f"column '{text}': {value!r:.30} is not text", row.line)
            tokens.add(value, row.line, path, f"text in column '{text}'")
            labels.add(row.values[label], row.line)
            if splits is not None:
                splits.append(str(row.values[split_column]))
            count += 1
            if count > MAX_EXAMPLES:
                raise DataFileError(path, f"has over {MAX_EXAMPLES:,} rows; use part of it")
        if count < 2:
            raise DataFileError(path, "needs at least two rows of data below its header")
        held = self.held_out(count, splits, seed, options)
        vocabulary = self._vocabulary(tokens, held, options)
        flat, offsets = tokens.ids(vocabulary)
        known = self.label_statistics(options)
        if labels.is_values(options):
            statistics, targets = labels.numbers(held, known)
            options["normalisation"] = {"label": statistics}
            options.pop("classes", None)
            targets = targets[:, None]
        else:
            classes, targets = labels.classes(held, self.learned(options, "classes") or None)
            options["classes"] = classes
        options.update(columns={"text": text, "label": label}, lengths={"text": _lengths(offsets)})
        examples = ColumnExamples(
            {"text": (flat, offsets)},
            {"label": targets, "_line": np.frombuffer(labels.lines, dtype=np.int64)},
        )
        return _split(examples, held)

    def _vocabulary(self, tokens: TokenColumn, held, options, key="vocabulary", specials=None):
        if self.learned(options, key):
            return Vocabulary(self.learned(options, key))
        min_count, most = self.vocabulary_limits(options)
        vocabulary = tokens.vocabulary(held, min_count, most, specials or (UNKNOWN,))
        options[key] = vocabulary.tokens
        return vocabulary

    def encode(self, text, options):
        vocabulary = Vocabulary(self.learned(options, "vocabulary") or [UNKNOWN])
        tokens = self.tokenizer(options)(text)
        if not tokens:
            raise DataError("type a text to classify")
        return {"text": vocabulary.ids(tokens), "_unknown": vocabulary.unknown(tokens)}

    def decode(self, prediction, example, options):
        unknown = _unknown_note(example)
        if "classes" not in options:
            stats = self.label_statistics(options)
            value = float(np.ravel(prediction)[0]) * stats["scale"] + stats["shift"]
            return f"{value:.4g}{unknown}"
        label = int(np.argmax(prediction))
        return f"{self.learned(options, 'classes')[label]} (p = {prediction[label]:.2f}){unknown}"


def _unknown_note(example: dict) -> str:
    unknown = example.get("_unknown") or []
    if not unknown:
        return ""
    shown = ", ".join(f"'{w}'" for w in unknown[:5])
    return f" · read as {UNKNOWN}: {shown}"


def _split(examples: ColumnExamples, held: np.ndarray) -> tuple[ColumnExamples, ColumnExamples]:
    return examples.select(np.flatnonzero(~held)), examples.select(np.flatnonzero(held))


# --- tagged tokens ----------------------------------------------------------------------------


class TaggedTokens(LabelledText):
    name = "tagged_tokens"
    kind = "tagged"
    title = "Tagged tokens"
    description = "Your sentences with a tag for every token (CoNLL style): one tag per step."
    metric = "token_accuracy"
    input_field, target_field = "tokens", "tags"
    target = "tags"
    prediction_note = ""

    def metric_of(self, options):
        return self.metric

    def longest(self, options):
        found = super().longest(options)
        if "tokens" in found:  # a tag for every token
            found["tags"] = found["tokens"]
        return found

    def spec(self, options):
        vocabulary = len(self.learned(options, "vocabulary")) or 1
        classes = len(self.learned(options, "classes")) or 2
        return DataSpec(
            {"tokens": InputSpec("seq", vocabulary, tokens=True)},
            {"tags": TargetSpec("cross_entropy", classes, True)},
        )

    def examples(self, seed, options):
        path = self.path(options)
        tokenizer = self.tokenizer(options)
        if tokenizer.unit != "words":
            raise DataError("tagged tokens are words, one a line: the tokens option must be words")
        tokens = TokenColumn(Tokenizer("characters", tokenizer.lowercase))  # one token a line
        tags = LabelColumn("tag", path, "classes")
        lines = []
        for sentence in read_tagged(path):
            if len(sentence.tokens) > MAX_LENGTH:
                raise DataFileError(
                    path,
                    f"a sentence of {len(sentence.tokens):,} tokens; at most {MAX_LENGTH:,}",
                    sentence.line,
                )
            words = [w.lower() if tokenizer.lowercase else w for w in sentence.tokens]
            tokens.flat.extend(map(tokens.index.__getitem__, words))
            tokens.offsets.append(len(tokens.flat))
            for offset, tag in enumerate(sentence.tags):
                tags.add(tag, sentence.line + offset)
            lines.append(sentence.line)
            if len(lines) > MAX_EXAMPLES:
                raise DataFileError(path, f"has over {MAX_EXAMPLES:,} sentences; use part of it")
        if len(lines) < 2:
            raise DataFileError(path, "needs at least two sentences (a blank line between them)")
        held = self.held_out(len(lines), None, seed, options)
        vocabulary = self._vocabulary(tokens, held, options)
        flat, offsets = tokens.ids(vocabulary)
        token_held = np.repeat(held, np.diff(offsets))
        classes, tag_ids = tags.classes(token_held, self.learned(options, "classes") or None)
        options.update(classes=classes, lengths={"tokens": _lengths(offsets)})
        examples = ColumnExamples(
            {"tokens": (flat, offsets), "tags": (tag_ids, offsets)},
            {"_line": np.array(lines, dtype=np.int64)},
        )
        return _split(examples, held)

    def encode(self, text, options):
        vocabulary = Vocabulary(self.learned(options, "vocabulary") or [UNKNOWN])
        lowercase = self.option(options, "lowercase")
        tokens = [w.lower() if lowercase else w for w in text.split()]
        if not tokens:
            raise DataError("type a sentence to tag")
        return {
            "tokens": vocabulary.ids(tokens),
            "_words": text.split(),
            "_unknown": vocabulary.unknown(tokens),
        }

    def decode(self, prediction, example, options):
        classes = self.learned(options, "classes")
        words = example.get("_words") or Vocabulary(
            self.learned(options, "vocabulary") or [UNKNOWN]
        ).words([int(i) for i in _field(example, "tokens", options) if i >= 0])
        tags = prediction.argmax(axis=-1)[: len(words)]
        shown = " ".join(f"{w}/{classes[t]}" for w, t in zip(words, tags, strict=False))
        return shown + _unknown_note(example)


def _field(example: dict, name: str, options: dict):
    """A field of an example the binding may have given the node's name."""
    keys = options.get("_keys") or {}
    return example[keys.get(name, name)] if keys.get(name, name) in example else example[name]


# --- sequence pairs ---------------------------------------------------------------------------


class SequencePairs(LabelledText):
    name = "sequence_pairs"
    kind = "pairs"
    title = "Sequence pairs"
    description = (
        "Your pairs of sequences (a source and a target column): translate one into the "
        "other, of another length."
    )
    metric = "sequence_accuracy"
    input_field, target_field = "source", "target"
    target = "target"
    prediction_note = ""

    def metric_of(self, options):
        return self.metric

    def spec(self, options):
        source = len(self.learned(options, "vocabulary")) or 1
        target = self.learned(options, "target_vocabulary") or list(TARGET_SPECIALS)
        steps = (self.option(options, "lengths") or {}).get("target", {}).get("max")
        return DataSpec(
            {"source": InputSpec("seq", source, tokens=True)},
            {
                "target": TargetSpec(
                    "cross_entropy",
                    max(len(target), 2),
                    True,
                    steps=steps,
                    start=target.index(START) if START in target else None,
                )
            },
        )

    def examples(self, seed, options):
        path = self.path(options)
        header, rows = _table_rows(self, path, options)
        source = _column(
            header,
            self.option(options, "source_column"),
            "source_column",
            ("source", "src", "input"),
            0,
            path,
        )
        target = _column(
            header,
            self.option(options, "target_column"),
            "target_column",
            ("target", "tgt", "output"),
            1,
            path,
        )
        if source == target:
            raise DataFileError(path, f"the source and the target are the same column, '{source}'")
        split_column = self.option(options, "split_column")
        sources = TokenColumn(self.tokenizer(options))
        targets = TokenColumn(self.tokenizer(options, "target_tokens"), end=True)
        lines, splits = array("q"), ([] if split_column else None)
        for row in rows:
            for column, tokens in ((source, sources), (target, targets)):
                value = row.values[column]
                if not isinstance(value, str):
                    raise DataFileError(
                        path, f"column '{column}': {value!r:.30} is not text", row.line
                    )
                tokens.add(value, row.line, path, f"text in column '{column}'")
            lines.append(row.line)
            if splits is not None:
                splits.append(str(row.values.get(split_column, "")))
            if len(lines) > MAX_EXAMPLES:
                raise DataFileError(path, f"has over {MAX_EXAMPLES:,} rows; use part of it")
        if len(lines) < 2:
            raise DataFileError(path, "needs at least two rows of pairs below its header")
        held = self.held_out(len(lines), splits, seed, options)
        source_vocabulary = self._vocabulary(sources, held, options)
        target_vocabulary = self._vocabulary(
            targets, held, options, "target_vocabulary", TARGET_SPECIALS
        )
        source_ids = sources.ids(source_vocabulary)
        target_ids = targets.ids(target_vocabulary)
        options.update(
            columns={"source": source, "target": target},
            lengths={"source": _lengths(source_ids[1]), "target": _lengths(target_ids[1])},
        )
        examples = ColumnExamples(
            {"source": source_ids, "target": target_ids},
            {"_line": np.frombuffer(lines, dtype=np.int64)},
        )
        return _split(examples, held)

    def encode(self, text, options):
        vocabulary = Vocabulary(self.learned(options, "vocabulary") or [UNKNOWN])
        tokens = self.tokenizer(options)(text)
        if not tokens:
            raise DataError("type a sequence to translate")
        return {"source": vocabulary.ids(tokens), "_unknown": vocabulary.unknown(tokens)}

    def decode(self, prediction, example, options):
        vocabulary = self.learned(options, "target_vocabulary")
        words = []
        for i in prediction.argmax(axis=-1):
            if vocabulary[i] == END:
                break
            words.append(vocabulary[i])
        joiner = " " if self.tokenizer(options, "target_tokens").unit == "words" else ""
        return (joiner.join(words) or "(nothing)") + _unknown_note(example)


# --- numeric sequences ------------------------------------------------------------------------


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
        if self.label_statistics(options):
            target = TargetSpec("mse", 1, False)
        else:
            target = TargetSpec("cross_entropy", len(self.learned(options, "classes")) or 2, False)
        return DataSpec({"sequence": InputSpec("seq", features)}, {"label": target})

    def not_read(self, options):
        return "features" not in options

    def examples(self, seed, options):
        path = self.path(options)
        header, rows = _table_rows(self, path, options)
        column = _column(
            header,
            self.option(options, "sequence_column"),
            "sequence_column",
            ("sequence", "values", "x"),
            0,
            path,
        )
        label = _column(
            header,
            self.option(options, "label_column"),
            "label_column",
            LABEL_NAMES,
            len(header) - 1,
            path,
        )
        if column == label:
            raise DataFileError(path, f"the sequence and the label are the same column, '{column}'")
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
        known = self.label_statistics(options)
        if labels.is_values(options):
            label_statistics, targets = labels.numbers(held, known)
            normalisation["label"] = label_statistics
            options.pop("classes", None)
            targets = targets[:, None]
        else:
            classes, targets = labels.classes(held, self.learned(options, "classes") or None)
            options["classes"] = classes
        options.update(
            features=features,
            normalisation=normalisation,
            columns={"sequence": column, "label": label},
            lengths={"sequence": _lengths(offsets)},
        )
        examples = ColumnExamples(
            {"sequence": ((flat - shift) / scale, offsets)},
            {"label": targets, "_line": np.frombuffer(labels.lines, dtype=np.int64)},
        )
        return _split(examples, held)

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


OWN_TASKS = (LabelledText(), TaggedTokens(), SequencePairs(), NumericSequences())
