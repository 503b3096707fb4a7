"""A character-level language model: predict each next character of a text, then sample.

The text is the bundled nursery rhymes or any UTF-8 text file of the user's. Characters become
token ids by frequency; if the text has more distinct characters than the model's vocabulary,
the rarest read as '?'. Training reads windows of the text and predicts, at every step, the
character that follows; the last tenth of the text is held out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec, WindowExamples
from rnn_builder.training.tasks.base import Drawn, Task, draw, prediction_of
from rnn_builder.training.tasks.files import bundled, read_text

UNKNOWN = "?"


CHUNK = 1 << 18  # characters turned into ids at a time (a 1 MB array of code points)


def _code_points(text: str) -> Iterator[np.ndarray]:
    """The text's code points a chunk at a time (a lone surrogate, which a typed argument
    can hold, is a code point like any other)."""
    for start in range(0, len(text), CHUNK):
        piece = text[start : start + CHUNK].encode("utf-32-le", "surrogatepass")
        yield np.frombuffer(piece, dtype=np.uint32)


def character_counts(text: str) -> Counter:
    """How often each character occurs (as ``Counter(text)``, counted a chunk at a time)."""
    counts = np.zeros(0, dtype=np.int64)
    for points in _code_points(text):
        chunk = np.bincount(points)  # as long as the chunk's highest code point
        if len(chunk) > len(counts):
            counts = np.concatenate([counts, np.zeros(len(chunk) - len(counts), np.int64)])
        counts[: len(chunk)] += chunk
    return Counter({chr(int(c)): int(counts[c]) for c in np.flatnonzero(counts)})


def alphabet(text: str, size: int) -> list[str]:
    """The ``size`` most frequent characters (ties by code point), '?' last for the rest."""
    counts = character_counts(text)
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
        vocabulary = self.option(options, "vocabulary")
        return DataSpec(
            {
                "text": InputSpec(
                    "seq", vocabulary, tokens=True, steps=self.option(options, "window")
                )
            },
            {"next_char": TargetSpec("cross_entropy", vocabulary, True)},
        )

    def load(self, options) -> str:
        path = options.get("path") or bundled("rhymes.txt")
        text = read_text(path, "the text file")
        window = self.option(options, "window")
        if len(text) < 10 * (window + 1):
            raise DataError(
                f"the text file has {len(text)} characters; a language model needs "
                f"at least {10 * (window + 1)} to learn from"
            )
        return text

    def characters(self, options, text: str | None = None) -> list[str]:
        """The alphabet kept with the project, else the one of ``text`` (read when not
        given)."""
        known = self.option(options, "alphabet")
        if known is not None:
            return list(known)
        text = self.load(options) if text is None else text
        return alphabet(text, self.option(options, "vocabulary"))

    def ids(self, text: str, characters: list[str]) -> np.ndarray:
        """Each character's id (int64); one the alphabet lacks reads as '?' (else the last)."""
        return self._ids(text, characters, np.int64)

    @staticmethod
    def _ids(text: str, characters: list[str], dtype) -> np.ndarray:
        """A chunk at a time through a table from code point to id, up to the alphabet's
        highest, with one more place for every character above it (a list of one Python int
        a character cost 8 bytes a character more than the ids)."""
        index = {c: i for i, c in enumerate(characters)}
        highest = max((ord(c) for c in index), default=0)
        table = np.full(highest + 2, index.get(UNKNOWN, len(characters) - 1), dtype=dtype)
        for character, i in index.items():
            table[ord(character)] = i
        ids = np.empty(len(text), dtype=dtype)
        done = 0
        for points in _code_points(text):
            ids[done : done + len(points)] = table[np.minimum(points, highest + 1)]
            done += len(points)
        return ids

    def longest(self, options):
        window = self.option(options, "window")
        return {"text": window, "next_char": window}

    def examples(self, seed, options):
        text = self.load(options)
        characters = self.characters(options, text)
        options["alphabet"] = "".join(characters)  # kept with the project for decoding
        # the whole text's ids in the smallest type that holds them (the windows are int64)
        dtype = np.uint8 if len(characters) <= 256 else np.uint16
        ids = self._ids(text, characters, dtype)
        del text
        window, stride = self.option(options, "window"), self.option(options, "stride")
        cut = int(len(ids) * 0.9)

        def windows(start: int, stop: int, step: int) -> WindowExamples:
            return WindowExamples(ids, range(start, stop - window - 1, step), window)

        return windows(0, cut, stride), windows(cut, len(ids), max(1, window // 2))

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
        context = 4 * self.option(options, "window")
        for _ in range(length):
            recent = np.array(ids[-context:])
            probabilities = prediction_of(executor, {"text": recent}, self.target, options)[-1]
            # a network wider than the alphabet can only say the characters there are
            probabilities = np.asarray(probabilities[: len(characters)])
            if drawn is not None:
                drawn.append(Drawn(probabilities, names))
            ids.append(draw(probabilities, temperature, rng))
        return text + "".join(characters[i] for i in ids[len(text) :])
