"""A character-level language model: predict each next character of a text, then sample.

The text is the bundled nursery rhymes or any UTF-8 text file of the user's. Characters become
token ids by frequency; if the text has more distinct characters than the model's vocabulary,
the rarest read as '?'. Training reads windows of the text and predicts, at every step, the
character that follows; the last tenth of the text is held out.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Drawn, Task, draw, prediction_of
from rnn_builder.training.tasks.files import bundled, read_text

UNKNOWN = "?"


def alphabet(text: str, size: int) -> list[str]:
    """The ``size`` most frequent characters (ties by code point), '?' last for the rest."""
    counts = Counter(text)
    ordered = sorted(counts, key=lambda c: (-counts[c], c))
    if len(ordered) <= size:
        return sorted(ordered)
    kept = sorted(c for c in ordered[: size - 1] if c != UNKNOWN)
    return [*kept, UNKNOWN]


class TextModel(Task):
    name = "language_model"
    title = "Character language model"
    description = "Predict every next character of a text; sample from it to write more."
    metric = "token_accuracy"
    target = "next_char"
    generative = True
    predicts_next_step = True
    example_input = "this is the "
    default_prime = "the "

    def spec(self, options):
        vocabulary = int(options.get("vocabulary", 48))
        return DataSpec(
            {
                "text": InputSpec(
                    "seq", vocabulary, tokens=True, steps=int(options.get("window", 24))
                )
            },
            {"next_char": TargetSpec("cross_entropy", vocabulary, True)},
        )

    def load(self, options) -> str:
        path = options.get("path") or bundled("rhymes.txt")
        text = read_text(path, "the text file")
        window = int(options.get("window", 24))
        if len(text) < 10 * (window + 1):
            raise DataError(
                f"the text file has {len(text)} characters; a language model needs "
                f"at least {10 * (window + 1)} to learn from"
            )
        return text

    def characters(self, options) -> list[str]:
        if "alphabet" in options:
            return list(options["alphabet"])
        return alphabet(self.load(options), int(options.get("vocabulary", 48)))

    def ids(self, text: str, characters: list[str]) -> np.ndarray:
        index = {c: i for i, c in enumerate(characters)}
        unknown = index.get(UNKNOWN, len(characters) - 1)
        return np.array([index.get(c, unknown) for c in text], dtype=np.int64)

    def longest(self, options):
        window = int(options.get("window", 24))
        return {"text": window, "next_char": window}

    def examples(self, seed, options):
        text = self.load(options)
        characters = self.characters(options)
        options["alphabet"] = "".join(characters)  # kept with the project for decoding
        ids = self.ids(text, characters)
        window, stride = int(options.get("window", 24)), int(options.get("stride", 3))
        cut = int(len(ids) * 0.9)

        def windows(start: int, stop: int, step: int) -> list[dict]:
            return [
                {"text": ids[i : i + window], "next_char": ids[i + 1 : i + window + 1]}
                for i in range(start, stop - window - 1, step)
            ]

        return windows(0, cut, stride), windows(cut, len(ids), window // 2)

    def encode(self, text, options):
        return {"text": self.ids(text, self.characters(options))}

    def decode(self, prediction, example, options):
        characters = self.characters(options)
        return "".join(characters[i] for i in prediction.argmax(axis=-1))

    def sample(self, executor, prime, length, temperature, rng, options, drawn=None):
        characters = self.characters(options)
        names = tuple(characters)
        text = prime if prime else self.default_prime
        ids = list(self.ids(text, characters))
        context = 4 * int(options.get("window", 24))
        for _ in range(length):
            recent = np.array(ids[-context:])
            probabilities = prediction_of(executor, {"text": recent}, self.target, options)[-1]
            # a network wider than the alphabet can only say the characters there are
            probabilities = np.asarray(probabilities[: len(characters)])
            if drawn is not None:
                drawn.append(Drawn(probabilities, names))
            ids.append(draw(probabilities, temperature, rng))
        return text + "".join(characters[i] for i in ids[len(text) :])
