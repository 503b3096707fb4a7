"""What a data file holds, as a person needs to see it before training: the format and the
columns read, the examples in each part, the classes and their counts, the vocabulary, how
often validation text holds a token the vocabulary lacks, the lengths, and the layouts (and
templates) the data fits. The ``data`` command prints it and the app's data view shows it; both
read the file with the same task that trains on it, so what they show is what training sees.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_builder.files.data_readers import lines, table_format
from rnn_builder.files.project import DatasetReference, Project
from rnn_builder.training.data import Dataset, OnDemandExamples
from rnn_builder.training.tasks import FILE_TASKS, KIND_TASKS, TASKS, Task
from rnn_builder.training.vocabulary import UNKNOWN

# what each kind of data is for: the layout it fits and the templates built for it
FITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "labelled": ("many-to-one (a sequence in, one label or value out)", ("many_to_one",)),
    "sequences": (
        "many-to-one (a sequence of numbers in, one label or value out)",
        ("adding_problem", "forecast"),
    ),
    "csv": ("many-to-one (a window of a series in, a later value out)", ("forecast",)),
    "tagged": (
        "many-to-many, equal lengths (a tag for every token)",
        ("many_to_many_equal", "bidirectional_tagger"),
    ),
    "text": ("many-to-many, equal lengths (every next character)", ("stacked_lstm",)),
    "pairs": (
        "many-to-many, unequal lengths (an encoder-decoder)",
        ("encoder_decoder_feedback", "many_to_many_unequal"),
    ),
}
HISTOGRAM_BINS = 10


@dataclass
class DataSummary:
    kind: str
    path: str
    format: str
    train: int
    validation: int
    fields: dict[str, str]  # field -> what it is ("tokens, vocabulary 44", "2 classes")
    options: dict[str, Any]  # what reading worked out (kept with the project)
    classes: dict[str, int] = field(default_factory=dict)  # class -> training examples
    vocabulary: int | None = None
    unknown_rate: float | None = None  # validation tokens the vocabulary does not know
    lengths: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> stats, histogram
    layout: str = ""
    templates: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["options"] = {k: v for k, v in self.options.items() if not k.startswith("_")}
        data["templates"] = list(self.templates)
        return data

    def lines(self) -> list[str]:
        """The summary in words, a line a fact (what ``data`` prints)."""
        out = [
            f"{self.path}: {self.kind} data ({self.format})",
            f"examples: {self.train + self.validation:,} "
            f"({self.train:,} to train on, {self.validation:,} to validate)",
        ]
        out += [f"field {name}: {what}" for name, what in self.fields.items()]
        if self.classes:
            shown = ", ".join(f"{c} {n:,}" for c, n in list(self.classes.items())[:12])
            more = f" and {len(self.classes) - 12} more" if len(self.classes) > 12 else ""
            out.append(f"classes ({len(self.classes)}, training examples each): {shown}{more}")
        if self.vocabulary is not None:
            out.append(f"vocabulary: {self.vocabulary:,} tokens (with <unk>)")
        if self.unknown_rate is not None:
            out.append(f"unknown tokens in validation: {self.unknown_rate:.1%}")
        for name, stats in self.lengths.items():
            out.append(
                f"lengths of {name}: {stats['min']} to {stats['max']}, mean {stats['mean']:.1f}"
            )
        out.append(f"fits: {self.layout}; templates: {', '.join(self.templates)}")
        return out


def guess_kind(path: str | Path) -> str:
    """The kind of a data file from its name and first lines (a guess the options can undo):
    CoNLL is tagged, .txt text, a table of two text columns pairs, of a column of numbers
    sequences, a table with one number a row a series, else labelled text."""
    suffix = Path(path).suffix.lower()
    if suffix in (".conll", ".conllu", ".iob", ".bio"):
        return "tagged"
    if suffix in (".txt", ".md"):
        return "text"
    first = list(_first_lines(path, 6))
    if not first:
        return "labelled"
    kind = table_format(path, first[0])
    if kind == "jsonl":
        return "labelled"
    split = "\t" if kind == "tsv" else ","
    if len(first) > 1 and all(len(line.split("\t")) == 2 for line in first[:4]) and split == "\t":
        rows = [line.split("\t") for line in first[1:]]
        if all(len(r[0].split()) > 1 and not _numeric(r[1]) for r in rows):
            return "pairs"
    rows = [line.split(split) for line in first[1:]]
    if rows and all(_numeric_sequence(r[0]) for r in rows if r):
        return "sequences"
    if rows and all(_numeric(cell) for r in rows for cell in r[1:]):
        return "csv"  # a series: numbers in every column after the first (a date, say)
    return "labelled"


def _first_lines(path, count: int):
    for number, line in lines(path):
        if line.strip():
            yield line
        if number >= count:
            return


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_sequence(text: str) -> bool:
    parts = text.replace(";", " ").replace('"', " ").split()
    return len(parts) > 1 and all(_numeric(p) for p in parts)


def read_data(
    kind: str, path: str | Path, options: dict[str, Any] | None = None, seed: int = 0
) -> tuple[Task, Dataset]:
    """Read a data file afresh (what it worked out is in ``dataset.info['options']``)."""
    options = {k: v for k, v in (options or {}).items() if k not in LEARNED}
    options["path"] = str(path)
    task = {**TASKS, **FILE_TASKS}[KIND_TASKS[kind]]
    return task, task.generate(seed, options)


# what reading works out, so read afresh when a file is chosen again (not kept from before)
LEARNED = (
    "vocabulary",
    "target_vocabulary",
    "classes",
    "normalisation",
    "features",
    "lengths",
    "columns",
    "alphabet",
    "inputs",
)


def summarise(kind: str, path: str | Path, task: Task, dataset: Dataset) -> DataSummary:
    options = dataset.info["options"]
    fields = {}
    for name, spec in dataset.spec.inputs.items():
        fields[name] = (
            f"input, a sequence of tokens (vocabulary {spec.width:,})"
            if spec.tokens
            else f"input, a {'sequence' if spec.kind == 'seq' else 'vector'} of {spec.width} "
            f"number{'s' if spec.width != 1 else ''} a step"
        )
    for name, spec in dataset.spec.targets.items():
        what = f"{spec.width} classes" if spec.loss == "cross_entropy" else f"{spec.width} value"
        fields[name] = f"target, {what} {'a step' if spec.per_step else 'an example'}"
    classes: dict[str, int] = {}
    names = options.get("classes")
    if names:
        counts: Counter = Counter()
        target = dataset.target
        for example in dataset.train.examples:
            counts.update(np.ravel(example[target]).tolist())
        classes = {names[i]: counts.get(i, 0) for i in range(len(names))}
    token_fields = [n for n, s in dataset.spec.inputs.items() if s.tokens]
    vocabulary = dataset.spec.inputs[token_fields[0]].width if token_fields else None
    unknown_rate = None
    # id 0 is the unknown token of a vocabulary read from the training part (own data); a
    # text's alphabet is the whole file's and its id 0 a character ('\n' counted as unknown)
    learned = options.get("vocabulary")
    if token_fields and len(dataset.validation) and _unknown_first(learned):
        tokens = np.concatenate([e[token_fields[0]] for e in dataset.validation.examples])
        unknown_rate = float((tokens == 0).mean()) if len(tokens) else 0.0
    lengths = {}
    for name, spec in {**dataset.spec.inputs, **dataset.spec.targets}.items():
        if (spec.kind == "seq") if hasattr(spec, "kind") else spec.per_step:
            sizes = lengths_of(dataset.train.examples, name)
            if len(sizes):
                counts_, edges = np.histogram(sizes, bins=length_bins(sizes))
                lengths[name] = {
                    "min": int(sizes.min()),
                    "max": int(sizes.max()),
                    "mean": float(sizes.mean()),
                    "histogram": counts_.tolist(),
                    "edges": [round(float(e), 2) for e in edges],
                }
    layout, templates = FITS.get(kind, ("", ()))
    format_ = (
        "CoNLL" if kind == "tagged" else "text" if kind == "text" else _format_name(path, options)
    )
    return DataSummary(
        kind,
        str(path),
        format_,
        len(dataset.train),
        len(dataset.validation),
        fields,
        options,
        classes,
        vocabulary,
        unknown_rate,
        lengths,
        layout,
        templates,
    )


def lengths_of(examples, name: str) -> np.ndarray:
    """Each example's length of the field ``name``, from what examples made on demand know
    (a text's 6 million windows, each made to be measured, took 30 s)."""
    if isinstance(examples, OnDemandExamples):
        known = examples.lengths(name)
        if known is not None:
            return known
    return np.array([len(e[name]) for e in examples])


def length_bins(sizes: np.ndarray) -> np.ndarray:
    """Edges for a histogram of whole-number lengths: at most ``HISTOGRAM_BINS`` bins of
    the same whole width, each edge half-way between two lengths (8 bins over lengths 5 to
    12 split at 5.875, 6.75, ...: a bin held no length, or two)."""
    low, high = int(sizes.min()), int(sizes.max())
    width = max(1, math.ceil((high - low + 1) / HISTOGRAM_BINS))
    return np.arange(low, high + width + 1, width) - 0.5


def _unknown_first(vocabulary: Any) -> bool:
    return isinstance(vocabulary, list) and vocabulary[:1] == [UNKNOWN]


def _format_name(path, options) -> str:
    chosen = options.get("format")
    if chosen:
        return chosen.upper()
    first = next(_first_lines(path, 3), "")
    return {"jsonl": "JSON Lines", "tsv": "TSV", "csv": "CSV"}[table_format(path, first)]


def use_data(
    project: Project, kind: str, path: str, options: dict[str, Any], base: Path | None = None
) -> DataSummary:
    """Train ``project`` on a file read afresh: the reference with what reading worked out and
    the binding found for the graph (both kept in the project). ``path`` is kept as given and
    read relative to ``base`` (the project's folder) when it is relative."""
    from rnn_builder.graph.validation import validate
    from rnn_builder.training.binding import bind

    found = Path(path)
    if not found.is_absolute() and base is not None:
        found = base / found
    task, dataset = read_data(kind, found, options, project.training.seed)
    kept = {k: v for k, v in dataset.info["options"].items() if k != "path" and k[:1] != "_"}
    report = validate(project.graph)
    check = bind(dataset.spec, project.graph, report, {}, f"the {task.title} data")
    project.set_dataset(DatasetReference(kind, path, kept, check.binding.as_dict()))
    return summarise(kind, found, task, dataset)
