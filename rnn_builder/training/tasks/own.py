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

from array import array
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
from rnn_builder.training.tasks.own_columns import (
    MAX_LENGTH,
    LabelColumn,
    TokenColumn,
    choose_column,
    lengths_of,
)
from rnn_builder.training.vocabulary import (
    END,
    START,
    TARGET_SPECIALS,
    UNKNOWN,
    Tokenizer,
    Vocabulary,
)

MAX_EXAMPLES = 5_000_000
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

    def columns(
        self, header: list[str], options: dict, path, *chosen: tuple[str, tuple, int, str]
    ) -> list[str]:
        """The input's and the target's columns, each chosen by ``(option, guesses, fallback
        column, what it holds)`` (see ``choose_column``), and refused in words when they are
        the same one."""
        names = [
            choose_column(header, self.option(options, option), option, guesses, fallback, path)
            for option, guesses, fallback, _what in chosen
        ]
        if names[0] == names[1]:
            raise DataFileError(
                path,
                f"the {chosen[0][3]} and the {chosen[1][3]} are the same column, '{names[0]}'",
            )
        return names

    def not_read(self, options: dict) -> bool:
        """Whether the file has not been read into these options yet (no widths known)."""
        return "vocabulary" not in options and "features" not in options


def table_rows(task: OwnData, path, options) -> tuple[list[str], Iterator[Row]]:
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
        return DataSpec(
            {"text": InputSpec("seq", vocabulary, tokens=True)}, {"label": self.label_spec(options)}
        )

    def label_spec(self, options: dict) -> TargetSpec:
        """The label: a value to regress when reading found values (and normalised them), else
        one of the classes."""
        if self.label_statistics(options):
            return TargetSpec("mse", 1, False)
        return TargetSpec("cross_entropy", len(self.learned(options, "classes")) or 2, False)

    def label_targets(
        self, labels: LabelColumn, held: np.ndarray, options: dict
    ) -> tuple[dict[str, np.ndarray], dict | None]:
        """The label column's targets, with each row's line, as ``ColumnExamples`` takes them;
        and the values' normalisation when it holds values to regress (None for classes, which
        are kept in the options here)."""
        if labels.is_values(options):
            statistics, targets = labels.numbers(held, self.label_statistics(options))
            options.pop("classes", None)
            targets = targets[:, None]
        else:
            statistics = None
            classes, targets = labels.classes(held, self.learned(options, "classes") or None)
            options["classes"] = classes
        return {"label": targets, "_line": np.frombuffer(labels.lines, dtype=np.int64)}, statistics

    def examples(self, seed, options):
        path = self.path(options)
        header, rows = table_rows(self, path, options)
        text, label = self.columns(
            header,
            options,
            path,
            ("text_column", TEXT_NAMES, 0, "text"),
            ("label_column", LABEL_NAMES, len(header) - 1, "label"),
        )
        split_column = self.option(options, "split_column")
        if split_column is not None:
            choose_column(header, self.option(options, "split_column"), "split_column", (), 0, path)
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
        targets, statistics = self.label_targets(labels, held, options)
        if statistics is not None:
            options["normalisation"] = {"label": statistics}
        options.update(
            columns={"text": text, "label": label}, lengths={"text": lengths_of(offsets)}
        )
        examples = ColumnExamples({"text": (flat, offsets)}, targets)
        return split_examples(examples, held)

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


def split_examples(
    examples: ColumnExamples, held: np.ndarray
) -> tuple[ColumnExamples, ColumnExamples]:
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
        options.update(classes=classes, lengths={"tokens": lengths_of(offsets)})
        examples = ColumnExamples(
            {"tokens": (flat, offsets), "tags": (tag_ids, offsets)},
            {"_line": np.array(lines, dtype=np.int64)},
        )
        return split_examples(examples, held)

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
        header, rows = table_rows(self, path, options)
        source, target = self.columns(
            header,
            options,
            path,
            ("source_column", ("source", "src", "input"), 0, "source"),
            ("target_column", ("target", "tgt", "output"), 1, "target"),
        )
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
            lengths={"source": lengths_of(source_ids[1]), "target": lengths_of(target_ids[1])},
        )
        examples = ColumnExamples(
            {"source": source_ids, "target": target_ids},
            {"_line": np.frombuffer(lines, dtype=np.int64)},
        )
        return split_examples(examples, held)

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
