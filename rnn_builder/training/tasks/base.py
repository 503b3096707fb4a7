"""What a built-in task is: a data set its template trains on, and how to read predictions."""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.files.data_options import check_options, option_value
from rnn_builder.training.data import Dataset, DataSpec, Split

Array = np.ndarray

# What a class's probability is, said wherever one is shown: a softmax output is not a
# calibrated confidence. Measured on the sentiment template trained by ``rnn-builder train``
# with its defaults (README, "Measured"): on 1,200 validation sentences it was right every time
# and said p > 0.9999 (expected calibration error 7e-6: calibrated there), yet a lone "bad"
# came out positive with p = 0.94 and "the" positive with p = 0.96: off its training data, p
# says nothing of how likely the answer is to be right.
PROBABILITY_NOTE = (
    "p is the network's probability for its answer (its softmax output), not a calibrated "
    "confidence: on examples like its training data a trained network is right when it says "
    "p ≈ 1, but it can say p near 1 for inputs unlike them, and be wrong."
)
SHORT_PROBABILITY_NOTE = "p: the network's probability, not a calibrated confidence"


class Task:
    """A data set generator (or loader) with the words to read its inputs and predictions.

    ``generate(seed, options)`` returns a :class:`~rnn_builder.training.data.Dataset`;
    ``encode(text)``
    turns what a person types into an example; ``decode(prediction)`` turns one example's
    prediction (probabilities or values, as the Output gives them) into words.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    metric: ClassVar[str]  # accuracy | token_accuracy | sequence_accuracy | mse
    target: ClassVar[str]
    generative: ClassVar[bool] = False
    # the target at every step is the input one step on (a language model): reading ahead
    # would read the answer (explain and the data check say so)
    predicts_next_step: ClassVar[bool] = False
    example_input: ClassVar[str] = ""
    # What a generative task starts from: how to call it, and what it uses when given nothing.
    prime_label: ClassVar[str] = "Start with"
    default_prime: ClassVar[str] = ""
    # a generator that writes a fixed number of steps (None: as many as asked for)
    sample_steps: ClassVar[int | None] = None
    # what a reader of a sample should know about how it was drawn
    sample_note: ClassVar[str] = ""
    # what a reader of :meth:`decode`'s words should know (a probability is not a confidence)
    prediction_note: ClassVar[str] = ""

    def spec(self, options: dict[str, Any]) -> DataSpec:
        raise NotImplementedError

    def option(self, options: dict[str, Any], name: str) -> Any:
        """The option ``name`` checked against the table of every task's options
        (``files.data_options``), or its default: a value of the wrong type is a
        :class:`DataError` that names it, never a TypeError."""
        return option_value(self.name, options, name)

    def check_options(self, options: dict[str, Any]) -> None:
        """Refuse options this task does not have or cannot take (``path`` and ``_``-names are
        the task's own, set as it runs)."""
        check_options(self.name, {k: v for k, v in options.items() if k != "path" and k[:1] != "_"})

    def metric_of(self, options: dict[str, Any]) -> str:
        """The metric of the data these options make (a file's labels may be values)."""
        return self.metric

    def not_read(self, options: dict[str, Any]) -> bool:
        """Whether :meth:`spec` needs the data read first (its widths are not in the options)."""
        return False

    def examples(self, seed: int, options: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        """Training and validation examples."""
        raise NotImplementedError

    def longest(self, options: dict[str, Any]) -> dict[str, int]:
        """The most steps of each sequence it feeds or expects (by input id and target name),
        known without making the data, so that the memory a run needs can be told before
        anything is made (``training.workload``). Empty: no sequences."""
        return {}

    def generate(self, seed: int = 0, options: dict[str, Any] | None = None) -> Dataset:
        options = dict(options or {})
        self.check_options(options)
        train, validation = self.examples(seed, options)
        return Dataset(
            self.name,
            self.spec(options),
            Split(train),
            Split(validation),
            self.metric,
            self.target,
            {"task": self, "options": options},
        )

    def encode(self, text: str, options: dict[str, Any]) -> dict[str, Array]:
        raise NotImplementedError(f"the {self.title} task does not read typed input")

    def decode(self, prediction: Array, example: dict[str, Array], options: dict[str, Any]) -> str:
        return np.array2string(np.asarray(prediction), precision=3)

    def prime_choices(self, options: dict[str, Any]) -> list[str] | None:
        """The primes :meth:`sample` takes, when they are a fixed set (the chords of the music
        task); ``None`` when any text will do (a language model's opening words)."""
        return None

    def sample(
        self,
        executor,
        prime: str | None,
        length: int,
        temperature: float,
        rng: np.random.Generator,
        options: dict[str, Any],
        drawn: list[Drawn] | None = None,
    ) -> str:
        """Generate (for generative tasks): text after ``prime``, notes for a chord; with no
        ``prime``, from :attr:`default_prime`. With ``drawn``, the distribution each step was
        drawn from is appended to it (the network's, before the temperature), so that what
        the temperature does can be shown."""
        raise DataError(f"the {self.title} task does not generate")


@dataclass(frozen=True)
class Drawn:
    """What one step of a sample was drawn from: the network's probabilities (before the
    temperature) and the name of each class."""

    probabilities: Array
    names: tuple[str, ...]

    def at(self, temperature: float) -> Array:
        return tempered(self.probabilities, temperature)


def tempered(probabilities: Array, temperature: float) -> Array:
    """Probabilities sharpened (T < 1) or flattened (T > 1): p^(1/T), normalised."""
    logits = np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), 1e-12)) / temperature
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def entropy_bits(probabilities: Array) -> float:
    """How uncertain a draw from ``probabilities`` is, in bits (0: always the same class;
    log2 of the number of classes: all alike)."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def draw(probabilities: Array, temperature: float, rng: np.random.Generator) -> int:
    """One class drawn from probabilities sharpened (T < 1) or flattened (T > 1)."""
    weights = tempered(probabilities, temperature)
    return int(rng.choice(len(weights), p=weights))


def keyed(example: dict[str, Array], options: dict[str, Any]) -> dict[str, Array]:
    """An example of the task's fields with the keys the graph reads them by (the binding's,
    in ``options["_keys"]``; a field it does not name keeps its name)."""
    keys = options.get("_keys") or {}
    return {keys.get(name, name): value for name, value in example.items()}


def prediction_of(
    executor, example: dict[str, Array], target: str, options: dict[str, Any] | None = None
) -> Array:
    """The prediction for the task's ``target`` on one example of its fields (steps first for
    sequences)."""
    from rnn_builder.training.data import make_batch

    options = options or {}
    example = keyed(example, options)
    target = (options.get("_keys") or {}).get(target, target)
    run = executor.forward(make_batch([example], executor.report, executor.graph), train=False)
    output = executor.graph.output_for(target).id
    prediction = run.predictions[output]
    return prediction[:, 0] if output in executor.report.node_axes else prediction[0]


def split(
    examples: list[dict], fraction: float, rng: np.random.Generator
) -> tuple[list[dict], list[dict]]:
    """Shuffle, then hold out ``fraction`` of the examples for validation."""
    order = rng.permutation(len(examples))
    held = max(1, round(len(examples) * fraction))
    return [examples[i] for i in order[held:]], [examples[i] for i in order[:held]]


def cumulative(probabilities) -> list[float]:
    """Cumulative probabilities exactly as ``Generator.choice(n, p=...)`` makes them, for
    :func:`pick`."""
    cdf = np.asarray(probabilities, dtype=float).cumsum()
    cdf /= cdf[-1]
    return cdf.tolist()


def pick(rng: np.random.Generator, cdf: list[float]) -> int:
    """``rng.choice(len(cdf), p=...)``, drawing the same number from the same generator (so
    the same data), in a microsecond instead of sixteen."""
    return bisect.bisect_right(cdf, rng.random())


@functools.lru_cache(maxsize=16)
def _index(vocabulary: tuple[str, ...]) -> dict[str, int]:
    return {w: i for i, w in enumerate(vocabulary)}


def words_to_ids(words: list[str], vocabulary: list[str], what: str) -> Array:
    index = _index(tuple(vocabulary))
    unknown = [w for w in words if w not in index]
    if unknown:
        known = " ".join(vocabulary)
        raise DataError(f"{what} does not know the word '{unknown[0]}' (it knows: {known})")
    return np.array([index[w] for w in words], dtype=np.int64)
