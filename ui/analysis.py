"""What the explanation views share: the network with its trained weights, the project's data,
one validation example at a time, and words for its tokens and classes.

Everything here runs the core in the GUI thread on a single example, which takes milliseconds;
training itself runs in its worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_builder.data import Dataset, make_batch
from rnn_builder.errors import RNNBuilderError
from rnn_builder.executor import Executor
from rnn_builder.stepping import Stepper
from rnn_builder.tasks import entities, load_dataset, music, numbers, sentiment, task_of

# Words for the classes and tokens of the built-in tasks: what the views print instead of ids.
CLASS_NAMES = {
    "sentiment": list(sentiment.LABELS),
    "entities": list(entities.TAGS),
    "numbers": list(numbers.DIGIT_NAMES),
    "arpeggio": [music.note_name(i) for i in range(music.NOTES)],
    "two_spirals": ["spiral A", "spiral B"],
}
TOKEN_NAMES = {
    "sentiment": list(sentiment.VOCABULARY),
    "entities": list(entities.VOCABULARY),
    "numbers": list(numbers.VOCABULARY),
}


class AnalysisContext:
    def __init__(self, document) -> None:
        self.document = document
        self._dataset: Dataset | None = None
        self._dataset_key = None

    def executor(self) -> Executor:
        """The network with the document's trained weights (those that fit), float64."""
        executor = Executor(
            self.document.graph, dtype=np.float64, seed=self.document.project.training.seed
        )
        weights = self.document.weights_if_they_fit()
        if weights:
            executor.set_parameters(
                {k: v.astype(np.float64) for k, v in weights.items()}, strict=False
            )
        return executor

    def dataset(self) -> Dataset:
        project = self.document.project
        reference = project.dataset
        key = (
            None
            if reference is None
            else (reference.kind, reference.name, repr(sorted(reference.options.items()))),
            project.training.seed,
            id(project),
        )
        if self._dataset is None or key != self._dataset_key:
            base = self.document.path.parent if self.document.path is not None else None
            self._dataset = load_dataset(project, base=base)
            self._dataset_key = key
        return self._dataset

    def example(self, index: int) -> dict:
        split = self.dataset().validation
        if len(split) == 0:
            raise RNNBuilderError("this data set has no validation examples")
        return split.examples[index % len(split)]

    def stepper(self, index: int, executor: Executor | None = None) -> Stepper:
        executor = executor or self.executor()
        batch = make_batch([self.example(index)], executor.report, executor.graph)
        return Stepper(executor, batch, teacher=False)

    def task_name(self) -> str | None:
        try:
            task, _options = task_of(
                self.document.project,
                Path(self.document.path).parent if self.document.path else None,
            )
        except RNNBuilderError:
            return None
        return task.name

    def class_name(self, index: int) -> str:
        names = CLASS_NAMES.get(self.task_name() or "")
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
        names = TOKEN_NAMES.get(task or "")
        return names[index] if names and index < len(names) else str(index)
