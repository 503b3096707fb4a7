"""What the explanation views share: the network with its trained weights, the project's data,
one validation example at a time, and words for its tokens and classes.

Everything here runs the core in the GUI thread on a single example, which takes milliseconds;
training itself runs in its worker. Only making the data set takes longer (up to ~0.4 s for the
generated sentence tasks): :meth:`AnalysisContext.prefetch` starts it on a helper thread when a
project opens, so that the first view that needs it rarely waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.stepping import Stepper
from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import DataError, RNNBuilderError
from rnn_builder.files.data_options import task_of_reference
from rnn_builder.files.data_paths import DataFolder
from rnn_builder.files.project import DatasetReference
from rnn_builder.training.data import Dataset, make_batch
from rnn_builder.training.predict import TypedInput, predict, read_input
from rnn_builder.training.tasks import (
    check_data,
    entities,
    keep_options,
    make_dataset,
    music,
    numbers,
    reversal,
    sentiment,
)
from ui.editor.data_trust import data_folder

# Words for the classes and tokens of the built-in tasks: what the views print instead of ids.
CLASS_NAMES = {
    "sentiment": list(sentiment.LABELS),
    "entities": list(entities.TAGS),
    "numbers": list(numbers.DIGIT_NAMES),
    "arpeggio": [music.note_name(i) for i in range(music.NOTES)],
    "two_spirals": ["spiral A", "spiral B"],
    "reversal": list(reversal.CLASS_NAMES),
}
TOKEN_NAMES = {
    "sentiment": list(sentiment.VOCABULARY),
    "entities": list(entities.VOCABULARY),
    "numbers": list(numbers.VOCABULARY),
    "reversal": list(reversal.LETTERS),
}


# how a text's characters are shown where a blank or a line break would be lost
CHARACTER_SIGNS = {" ": "␣", "\n": "⏎"}


@dataclass(frozen=True)
class Names:
    """Words for the token and class ids of one data source: a built-in task's, a text's
    alphabet, or what reading the project's own file worked out and keeps with its options
    (a vocabulary, the classes). An id with no word is shown as its number."""

    tokens: Sequence[Any] = ()
    classes: Sequence[Any] = ()
    characters: bool = False  # the tokens are a text's characters

    @staticmethod
    def of(reference: DatasetReference | None) -> Names:
        if reference is None:
            return Names()
        task = task_of_reference(reference.kind, reference.name) or ""
        options = reference.options

        def learned(key: str) -> tuple:  # none for a built-in task, or before a file is read
            value = options.get(key)
            return tuple(value) if reference.kind != "builtin" and isinstance(value, list) else ()

        # a file of pairs names its target tokens, of labels or tags its classes
        classes = CLASS_NAMES.get(task) or learned("target_vocabulary") or learned("classes")
        alphabet = options.get("alphabet", "") if task == "language_model" else ""
        if alphabet:
            return Names(alphabet, classes, characters=True)
        return Names(TOKEN_NAMES.get(task) or learned("vocabulary"), classes)

    def class_name(self, index: int) -> str:
        return str(self.classes[index]) if 0 <= index < len(self.classes) else str(index)

    def token_name(self, index: int) -> str:
        if index < 0:
            return "·"
        if index >= len(self.tokens):
            return str(index)
        token = self.tokens[index]
        return str(CHARACTER_SIGNS.get(token, token) if self.characters else token)


def _background() -> ThreadPoolExecutor:
    return one_thread("data")


def structure(graph) -> tuple:
    """What of a graph its data and its computations depend on (not names, not positions)."""
    return (
        tuple((n.id, n.type_name, tuple(sorted(n.params.items()))) for n in graph),
        tuple(graph.edges),
    )


class AnalysisContext:
    def __init__(self, document) -> None:
        self.document = document
        self._dataset: Dataset | None = None
        self._dataset_key = None
        self._pending: tuple[object, Future] | None = None  # (key, data set being made)
        self._fits = None  # the graph (its structure) the data set was last checked against
        # the user's own input, run instead of a validation example (see ui/training/probe.py)
        self.typed: TypedInput | None = None
        # while a run trains: the weights of its latest report, used instead of the
        # document's (which are the previous run's until it ends), so that the views show
        # what the training panel's numbers are about
        self.live_weights: dict[str, np.ndarray] | None = None
        self._names: tuple[DatasetReference | None, Names] | None = None  # (made for, words)

    def executor(self, dtype=np.float64) -> Executor:
        """The network with the document's trained weights (those that fit), or with the
        running training's latest (:attr:`live_weights`); float64 unless asked (explaining
        wants the precision; ``predict`` runs in float32, as trained)."""
        executor = Executor(
            self.document.graph, dtype=dtype, seed=self.document.project.training.seed
        )
        weights = self.live_weights
        if weights is None:
            weights = self.document.weights_if_they_fit()
        if weights:
            executor.set_parameters(weights, strict=False)  # cast there, checked
        return executor

    def read_input(self, text: str) -> TypedInput:
        """Typed text read as ``predict --input`` reads it (the data set is made first: what it
        works out, an alphabet or a normalisation, is how the text must be read)."""
        self.dataset()
        return read_input(self.document.project, text, self._base())

    def predict(self, typed: TypedInput) -> str:
        """What ``predict`` prints for a typed input: the same function on a network built as
        the CLI builds it (float32, the document's weights), so the words agree exactly."""
        return predict(self.executor(np.float32), typed)

    def _key(self) -> tuple:
        project = self.document.project
        reference = project.dataset
        return (
            None
            if reference is None
            else (reference.kind, reference.name, repr(sorted(reference.options.items()))),
            project.training.seed,
            id(project),
            self.document.path,
            self._base(),  # a file allowed since: made again
        )

    def _base(self) -> DataFolder | None:
        return data_folder(self.document)

    def prefetch(self) -> None:
        """Start making the project's data set on a helper thread (from a copy of the
        project, so that edits meanwhile cannot reach it)."""
        key = self._key()
        if key == self._dataset_key or (self._pending is not None and self._pending[0] == key):
            return
        project = self.document.project.copy()
        future = _background().submit(make_dataset, project, base=self._base())
        self._pending = (key, future)

    def dataset(self) -> Dataset:
        """The project's data set: made once per data source and seed (if a prefetch for
        them is under way, its result, waited for; its error, raised here)."""
        key = self._key()
        if self._dataset is None or key != self._dataset_key:
            pending, self._pending = self._pending, None
            dataset = None
            if pending is not None and pending[0] == key:
                try:
                    dataset = pending[1].result()
                except RNNBuilderError:  # checked against the graph as it was: try it as it is
                    dataset = None
            if dataset is None:
                dataset = make_dataset(self.document.project, base=self._base())
            self._dataset = dataset
            keep_options(self.document.project, self._dataset)  # as the trainer does
            self._dataset_key = self._key()
            self._fits = structure(self.document.graph)
        elif self._fits != structure(self.document.graph):  # edited since: does it still fit?
            project = self.document.project
            check = check_data(project, self._base())
            if check is not None and not check.ok:
                raise DataError(check.errors[0].message)
            if check is not None and check.binding.keys(project.graph) != self._dataset.info[
                "options"
            ].get("_keys"):  # bound to other nodes now: made again, under their ids
                self._dataset = None
                return self.dataset()
            self._fits = structure(self.document.graph)
        return self._dataset

    def example(self, index: int) -> dict:
        split = self.dataset().validation
        if len(split) == 0:
            raise RNNBuilderError("this data set has no validation examples")
        return split.examples[index % len(split)]

    def stepper(self, index: int, executor: Executor | None = None) -> Stepper:
        """A walk through validation example ``index`` — or through the typed input, if any."""
        executor = executor or self.executor()
        example = self.typed.example if self.typed is not None else self.example(index)
        batch = make_batch([example], executor.report, executor.graph)
        return Stepper(executor, batch, teacher=False)

    def names(self) -> Names:
        """Words for the project's token and class ids, made once per data reference. The
        project replaces its reference whenever its data, options or learned vocabulary change
        (``Project.set_dataset``, ``keep_dataset_options``), and another project has its own:
        the same object is the same words. (Worked out afresh per word, each time locating
        the data and checking it against the graph, they took 1 s of the 4.5 s of stepping
        in the translation template's 79-frame animation, and 330 ms for 80 tokens of a
        20,000-word vocabulary.)"""
        reference = self.document.project.dataset
        if self._names is None or self._names[0] is not reference:
            self._names = (reference, Names.of(reference))
        return self._names[1]

    def class_name(self, index: int) -> str:
        return self.names().class_name(index)

    def token_name(self, index: int) -> str:
        return self.names().token_name(index)
