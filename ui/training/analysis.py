"""What the explanation views share: the network with its trained weights, the project's data,
one validation example at a time, and words for its tokens and classes.

Everything here runs the core in the GUI thread on a single example, which takes milliseconds;
training itself runs in its worker. Only making the data set takes longer (up to ~0.4 s for the
generated sentence tasks): :meth:`AnalysisContext.prefetch` starts it on a helper thread when a
project opens, so that the first view that needs it rarely waits.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.stepping import Stepper
from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import DataError, RNNBuilderError
from rnn_builder.files.data_paths import DataFolder
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
    task_of,
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

    def task_name(self) -> str | None:
        try:
            task, _options = task_of(self.document.project, self._base())
        except RNNBuilderError:
            return None
        return task.name

    def _learned(self, key: str) -> list[str]:
        """What reading the project's own data file worked out and keeps with its options (a
        vocabulary, the classes); [] for a built-in task, or before the file is read."""
        reference = self.document.project.dataset
        if reference is None or reference.kind == "builtin":
            return []
        value = reference.options.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    def class_name(self, index: int) -> str:
        # a file of pairs names its target tokens, of labels or tags its classes
        names = (
            CLASS_NAMES.get(self.task_name() or "")
            or self._learned("target_vocabulary")
            or self._learned("classes")
        )
        return names[index] if names and 0 <= index < len(names) else str(index)

    def token_name(self, index: int) -> str:
        if index < 0:
            return "·"
        task = self.task_name()
        if task == "language_model":
            alphabet = self.document.project.dataset.options.get("alphabet", "")
            if 0 <= index < len(alphabet):
                character = alphabet[index]
                return "␣" if character == " " else ("⏎" if character == "\n" else character)
        names = TOKEN_NAMES.get(task or "") or self._learned("vocabulary")
        return names[index] if names and index < len(names) else str(index)
