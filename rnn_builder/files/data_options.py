"""Every kind of data's options, in one table: name, type, range or choices, default.

A project's ``dataset.options`` are a person's to edit (a hand-edited file, ``edit
--data-option``, ``data --option``), and the tasks that read them once raised ``TypeError`` or
``ValueError`` on a value of the wrong type (``"window": "x"``, ``"alphabet": 5``, a text
``"stride": 0``): an internal error. This table is the one place that says what each option
may hold. The project reader checks a file's options against it (a problem is refused with its
JSON path, as a graph's parameters are), :meth:`DatasetReference.problem` checks a reference
the editor or ``edit`` sets, and the tasks read their options through :func:`option`, which
gives the value checked or the default.

Two sorts of option share the table: those a person sets (a window, a column, how to split)
and those *learned*, which reading the data works out and keeps with the project so that
trained weights read new input as training did (a vocabulary, the classes, a normalisation,
an alphabet). A learned value is checked as strictly: it is as hand-editable as any other.

An option name a data kind does not have is refused, with the names it has: nothing that
RNN Builder writes holds one (what reading works out is in the table, ``path`` and ``_``-names
are never kept), so such a name is a typo in a hand-edited file, or ``path``, which would read
a file the project's data path does not name.

Plain data only: this module imports nothing from ``training``; the tasks name their options
by the keys of :data:`OPTIONS` (``training.tasks`` holds them to it by a test).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rnn_builder.errors import DataError
from rnn_builder.values import MAX_LIST, MAX_TEXT, is_number, is_savable_text, short

UNKNOWN_TOKEN = "<unk>"  # the first token of every vocabulary (training.vocabulary.UNKNOWN)
MAX_CLASSES = 10_000
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class DataOption:
    """One option: ``kind`` says what it holds (see :data:`KINDS`); ``low`` and ``high``
    bound a number (``open``: strictly between them); ``choices`` list a choice's values
    (``""`` where leaving it to the data is one); ``default`` is what an absent option means
    (``None``: nothing, and ``null`` may be written for it); ``learned``: worked out by
    reading the data, not set by a person."""

    name: str
    kind: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    open: bool = False
    choices: tuple[str, ...] = ()
    learned: bool = False
    fields: tuple[str, ...] = ()  # the names a learned object may hold (empty: any)


def _whole(name, default, low, high) -> DataOption:
    return DataOption(name, "whole", default, low, high)


def _fraction(name, default, low=0.0, high=1.0, open=True) -> DataOption:
    return DataOption(name, "number", default, low, high, open)


def _choice(name, default, *choices) -> DataOption:
    return DataOption(name, "choice", default, choices=choices)


def _column(name) -> DataOption:
    return DataOption(name, "column")


def _learned(name, kind, **more) -> DataOption:
    return DataOption(name, kind, learned=True, **more)


# --- the table --------------------------------------------------------------------------------

_OWN_TEXT = (
    _choice("tokens", "words", "words", "characters"),
    DataOption("lowercase", "switch", True),
    _whole("min_count", 1, 1, 1_000_000),
    _whole("max_vocabulary", 10_000, 4, 100_000),
    _fraction("validation", 0.2),
)
_TABLE = (_choice("format", "", "", "csv", "tsv", "jsonl"), _column("split_column"))
_LABEL = (
    _column("label_column"),
    _choice("target", "", "", "classes", "values"),
    _learned("classes", "classes"),
)

_BY_TASK: dict[str, tuple[DataOption, ...]] = {
    # built-in tasks, by name
    "two_spirals": (
        _whole("points", 1000, 2, 100_000),
        DataOption("turns", "number", 1.5, 0.1, 100.0),
    ),
    "arpeggio": (
        _whole("copies", 40, 1, 10_000),
        _fraction("held_out", 0.0, 0.0, 0.9, open=False),
    ),
    "sentiment": (_whole("sentences", 6000, 10, 100_000),),
    "entities": (_whole("sentences", 5000, 10, 100_000),),
    "numbers": (_fraction("held_out", 0.12),),
    "adding": (
        _whole("steps", 50, 2, 10_000),
        _whole("train", 20_000, 1, 1_000_000),
        _whole("validation", 1_000, 1, 1_000_000),
    ),
    "reversal": (
        _whole("shortest", 5, 1, 1_000),
        _whole("longest", 40, 1, 1_000),
        _whole("train", 20_000, 1, 1_000_000),
        _whole("validation", 1_000, 1, 1_000_000),
    ),
    # a text (kind "text"); the bundled rhymes as a built-in task
    "language_model": (
        _whole("vocabulary", 48, 2, 65_536),
        _whole("window", 24, 1, 10_000),
        _whole("stride", 3, 1, 10_000),
        _learned("alphabet", "alphabet"),
    ),
    # a CSV time series (kind "csv"); the bundled passengers as a built-in task
    "csv_series": (
        _whole("window", 12, 1, 10_000),
        _whole("horizon", 1, 1, 10_000),
        _choice("normalise", "relative", "relative", "zscore", "minmax", "none"),
        DataOption("target", "column"),  # learned when not given: the last numeric column
        DataOption("inputs", "columns"),  # learned when not given: the target alone
        _learned("normalisation", "statistics"),
    ),
    # a person's files (training.tasks.own)
    "labelled_text": (
        _column("text_column"),
        *_LABEL,
        *_OWN_TEXT,
        *_TABLE,
        _learned("vocabulary", "vocabulary"),
        _learned("normalisation", "statistics", fields=("label",)),
        _learned("lengths", "lengths"),
        _learned("columns", "column_map"),
    ),
    "tagged_tokens": (
        _choice("tokens", "words", "words"),  # one token a line
        *_OWN_TEXT[1:],
        _learned("vocabulary", "vocabulary"),
        _learned("classes", "classes"),
        _learned("lengths", "lengths"),
    ),
    "sequence_pairs": (
        _column("source_column"),
        _column("target_column"),
        *_OWN_TEXT,
        _choice("target_tokens", None, "words", "characters"),  # default: as tokens
        *_TABLE,
        _learned("vocabulary", "vocabulary"),
        _learned("target_vocabulary", "vocabulary"),
        _learned("lengths", "lengths"),
        _learned("columns", "column_map"),
    ),
    "numeric_sequences": (
        _column("sequence_column"),
        *_LABEL,
        _fraction("validation", 0.2),
        *_TABLE,
        _learned("features", "whole", low=1, high=MAX_COLUMNS),
        _learned("normalisation", "statistics", fields=("sequence", "label")),
        _learned("lengths", "lengths"),
        _learned("columns", "column_map"),
    ),
}

OPTIONS: dict[str, dict[str, DataOption]] = {
    task: {o.name: o for o in options} for task, options in _BY_TASK.items()
}

# the task that reads each kind of file (a built-in task is named by the reference)
TASK_OF_KIND = {
    "csv": "csv_series",
    "text": "language_model",
    "labelled": "labelled_text",
    "tagged": "tagged_tokens",
    "pairs": "sequence_pairs",
    "sequences": "numeric_sequences",
}


def task_of_reference(kind: str, name: str) -> str | None:
    """The task a data reference names: a file's kind's, or the built-in task ``name``."""
    return name if kind == "builtin" else TASK_OF_KIND.get(kind)


# --- what each kind of value may be -----------------------------------------------------------

Problem = tuple[str, str]  # (what is wrong, the path below the option: "" or ".label.scale")


def _number_words(option: DataOption) -> str:
    whole = option.kind == "whole"
    what = "a whole number" if whole else "a number"
    low, high = option.low, option.high
    show = (lambda v: f"{int(v):,}") if whole else (lambda v: f"{v:g}")
    if low is not None and high is not None:
        if option.open:
            return f"{what} between {show(low)} and {show(high)} (not either)"
        return f"{what} from {show(low)} to {show(high)}"
    return what


def _check_number(option: DataOption, value: Any) -> str | None:
    whole = option.kind == "whole"
    if not is_number(value) or (whole and not isinstance(value, int)):
        return f"must be {_number_words(option)}"
    low, high = option.low, option.high
    if low is not None and (value <= low if option.open else value < low):
        return f"must be {_number_words(option)}"
    if high is not None and (value >= high if option.open else value > high):
        return f"must be {_number_words(option)}"
    return None


def _is_text(value: Any, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and is_savable_text(value)


def _distinct_texts(value: Any, low: int, high: int) -> bool:
    return (
        isinstance(value, list)
        and low <= len(value) <= high
        and all(_is_text(v) for v in value)
        and len(set(value)) == len(value)
    )


def _check_statistics(option: DataOption, value: Any) -> Problem | None:
    """``{name: {"shift": s, "scale": k}}``: numbers, or lists of numbers of one length (a
    value a step's features); a scale is never 0 (it divides)."""
    if not isinstance(value, dict):
        return "must be an object of {shift, scale} for each column", ""
    for name, stats in value.items():
        where = f".{name}" if len(name) <= 40 else ".(a long name)"
        if option.fields and name not in option.fields:
            return f"may hold {' and '.join(option.fields)} only", where
        if not isinstance(stats, dict) or set(stats) != {"shift", "scale"}:
            return 'must be {"shift": ..., "scale": ...}', where
        shift, scale = stats["shift"], stats["scale"]
        if isinstance(shift, list) or isinstance(scale, list):
            if not (
                isinstance(shift, list)
                and isinstance(scale, list)
                and 0 < len(shift) == len(scale) <= MAX_COLUMNS
            ):
                return (
                    "must give every feature's shift and scale, as two lists of one length",
                    where,
                )
            shift_values, scale_values = shift, scale
        else:
            shift_values, scale_values = [shift], [scale]
        if not all(is_number(v) for v in shift_values):
            return "must be finite numbers", f"{where}.shift"
        if not all(is_number(v) and v != 0 for v in scale_values):
            return "must be finite numbers other than 0", f"{where}.scale"
    return None


def _check_lengths(value: Any) -> Problem | None:
    if not isinstance(value, dict):
        return "must be an object of {max, mean} for each field", ""
    for name, length in value.items():
        where = f".{name}" if len(name) <= 40 else ".(a long name)"
        if (
            not isinstance(length, dict)
            or set(length) != {"max", "mean"}
            or isinstance(length["max"], bool)
            or not isinstance(length["max"], int)
            or not 1 <= length["max"] <= 10**9
            or not is_number(length["mean"])
            or length["mean"] < 0
        ):
            return 'must be {"max": a whole number ≥ 1, "mean": a number ≥ 0}', where
    return None


def value_problem(option: DataOption, value: Any) -> Problem | None:
    """Why ``value`` cannot be ``option`` (and where, below it), or None."""
    if value is None and option.default is None:
        return None
    kind = option.kind
    if kind in ("whole", "number"):
        problem = _check_number(option, value)
        return None if problem is None else (problem, "")
    if kind == "switch":
        return None if isinstance(value, bool) else ("must be true or false", "")
    if kind == "choice":
        if isinstance(value, str) and value in option.choices:
            return None
        shown = [f"'{c}'" for c in option.choices if c]
        words = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        return f"must be {words}", ""
    if kind == "column":
        return None if _is_text(value) else ("must be a column's name (text)", "")
    if kind == "columns":
        if _distinct_texts(value, 1, MAX_COLUMNS):
            return None
        return f"must be a list of 1 to {MAX_COLUMNS:,} distinct column names", ""
    if kind == "vocabulary":
        if _distinct_texts(value, 1, MAX_LIST) and value[0] == UNKNOWN_TOKEN:
            return None
        return f"must be a list of distinct tokens starting with {UNKNOWN_TOKEN}", ""
    if kind == "classes":
        if _distinct_texts(value, 2, MAX_CLASSES):
            return None
        return f"must be a list of 2 to {MAX_CLASSES:,} distinct class names", ""
    if kind == "alphabet":
        if _is_text(value, 65_536) and len(set(value)) == len(value):
            return None
        return "must be text of distinct characters", ""
    if kind == "statistics":
        return _check_statistics(option, value)
    if kind == "lengths":
        return _check_lengths(value)
    if kind == "column_map":
        if isinstance(value, dict) and all(_is_text(v) for v in value.values()):
            return None
        return "must be an object naming the column of each field", ""
    raise ValueError(f"no kind of data option '{kind}'")  # a mistake in the table


# options whose values must agree: (task, check) -> a problem naming the option, or None
def _alphabet_fits(options: Mapping[str, Any]) -> tuple[str, Problem] | None:
    alphabet, vocabulary = (
        options.get("alphabet"),
        option_value("language_model", options, "vocabulary"),
    )
    if isinstance(alphabet, str) and len(alphabet) > vocabulary:
        return "alphabet", (
            f"has {len(alphabet)} characters, more than the vocabulary's {vocabulary}",
            "",
        )
    return None


def _examples_fit(options: Mapping[str, Any]) -> tuple[str, Problem] | None:
    steps = option_value("adding", options, "steps")
    for name in ("train", "validation"):
        count = option_value("adding", options, name)
        if count * steps > 5_000_000:
            return name, (
                f"is {count:,} sequences of {steps:,} steps: at most 5 million steps in all",
                "",
            )
    return None


def _lengths_fit(options: Mapping[str, Any]) -> tuple[str, Problem] | None:
    shortest, longest = (option_value("reversal", options, n) for n in ("shortest", "longest"))
    if shortest > longest:
        return "shortest", (f"is {shortest}, more than the longest, {longest}", "")
    for name in ("train", "validation"):
        count = option_value("reversal", options, name)
        if count * longest > 5_000_000:
            return name, (
                f"is {count:,} sequences of up to {longest:,} letters: at most 5 million in all",
                "",
            )
    return None


def _features_fit(options: Mapping[str, Any]) -> tuple[str, Problem] | None:
    features = options.get("features")
    statistics = (options.get("normalisation") or {}).get("sequence")
    if statistics is None:
        return None
    shift = statistics["shift"]
    count = len(shift) if isinstance(shift, list) else 1
    if features is not None and count != features:
        where = ".sequence.shift"
        return "normalisation", (f"gives {count} features' shifts; the data has {features}", where)
    return None


RELATIONS: dict[str, tuple[Callable[[Mapping[str, Any]], tuple[str, Problem] | None], ...]] = {
    "language_model": (_alphabet_fits,),
    "adding": (_examples_fit,),
    "reversal": (_lengths_fit,),
    "numeric_sequences": (_features_fit,),
}


# --- checking and reading ---------------------------------------------------------------------


def options_problem(task: str | None, options: Any) -> tuple[str, str] | None:
    """Why ``options`` cannot be the options of ``task`` (a task name, or None when it is not
    known: then only their names' form is checked), as (message, path below ``options``:
    ``".window"``), or None."""
    if not isinstance(options, dict):
        return "the data options must be an object", ""
    table = OPTIONS.get(task or "")
    for name, value in options.items():
        if not isinstance(name, str):
            return "an option's name must be text", ""
        shown = name if len(name) <= 40 and name.isprintable() else short(name)[1:-1]
        if table is None:
            continue
        option = table.get(name)
        if option is None:
            known = ", ".join(table) or "none"
            return f"the {task} data has no option '{shown}' (its options: {known})", f".{shown}"
        problem = value_problem(option, value)
        if problem is not None:
            message, below = problem
            return _refusal(option, message, below, value), f".{name}{below}"
    for relation in RELATIONS.get(task or "", ()):
        found = relation(options)
        if found is not None:
            name, (message, below) = found
            return f"the data option '{name}' {message}", f".{name}{below}"
    return None


def _refusal(option: DataOption, message: str, below: str = "", value: Any = None) -> str:
    """``the data option 'window' must be ..., not 'x'``; inside a learned object, where:
    ``the data option 'normalisation' (at label.scale) must be ...``."""
    if below:
        said = f"the data option '{option.name}' (at {below[1:]}) {message}"
    else:
        said = f"the data option '{option.name}' {message}, not {short(value)}"
    if option.learned:
        said += " (it is what reading the data worked out: read the file afresh)"
    return said


def check_options(task: str | None, options: Any) -> None:
    """Raise :class:`DataError` naming the first option that cannot be (see
    :func:`options_problem`)."""
    problem = options_problem(task, options)
    if problem is not None:
        raise DataError(problem[0])


def option_value(task: str, options: Mapping[str, Any], name: str) -> Any:
    """The option ``name`` of ``task`` as given in ``options`` (checked), or its default; a
    value it cannot take raises :class:`DataError` that names it (the options a program
    builds, or ``data --option``, reach the task without the file reader's check)."""
    option = OPTIONS[task][name]
    value = options.get(name)
    if name not in options or (value is None and option.default is None):
        return option.default
    problem = value_problem(option, value)
    if problem is not None:
        raise DataError(_refusal(option, *problem, value=value))
    if option.kind == "number":
        return float(value)
    return value


__all__ = [
    "OPTIONS",
    "RELATIONS",
    "TASK_OF_KIND",
    "DataOption",
    "check_options",
    "option_value",
    "options_problem",
    "task_of_reference",
    "value_problem",
]
