"""Reversing letters: "attention" → "noitnetta", sequences of 5 to 40 letters (many-to-many,
unequal: the output has its own axis, one step longer for the end mark).

A stand-in for translation on which the encoder-decoder's bottleneck shows: the decoder must
write back every letter of the input, and a plain encoder-decoder has only the encoder's final
state, one vector of fixed width, to carry them all. It gets short inputs right and long ones
wrong; with attention the decoder reads the letter it needs at each step, and its alignment is
the anti-diagonal (``benchmarks/attention.py`` measures both by input length). Letters are
drawn uniformly and independently, so nothing but the input tells what comes next.
"""

from __future__ import annotations

import string

import numpy as np

from rnn_builder.errors import DataError
from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Task

LETTERS = string.ascii_lowercase
START, END = len(LETTERS), len(LETTERS) + 1  # classes after the letters: fed back first, last
CLASS_NAMES = [*LETTERS, "<start>", "<end>"]


class Reversal(Task):
    name = "reversal"
    title = "Reversing letters"
    description = (
        "Write a sequence of 5 to 40 letters backwards: the output must give back every letter "
        "of the input, so the longer the input, the more an encoder-decoder's one vector must "
        "hold."
    )
    metric = "sequence_accuracy"
    target = "reversed"
    example_input = "attention"

    def lengths(self, options) -> tuple[int, int]:
        return self.option(options, "shortest"), self.option(options, "longest")

    def spec(self, options):
        longest = self.lengths(options)[1]
        classes = len(CLASS_NAMES)
        return DataSpec(
            {"letters": InputSpec("seq", len(LETTERS), tokens=True)},
            {
                "reversed": TargetSpec(
                    "cross_entropy", classes, True, steps=longest + 1, start=START
                )
            },
        )

    def longest(self, options):
        longest = self.lengths(options)[1]
        return {"letters": longest, "reversed": longest + 1}

    @staticmethod
    def example(letters: np.ndarray) -> dict[str, np.ndarray]:
        return {"letters": letters, "reversed": np.append(letters[::-1], END)}

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        shortest, longest = self.lengths(options)

        def made(count: int) -> list[dict]:
            lengths = rng.integers(shortest, longest + 1, count)
            return [self.example(rng.integers(0, len(LETTERS), n)) for n in lengths]

        return made(self.option(options, "train")), made(self.option(options, "validation"))

    def encode(self, text, options):
        letters = [c for c in text.lower() if not c.isspace()]
        unknown = [c for c in letters if c not in LETTERS]
        if unknown:
            raise DataError(f"the reversal task reads the letters a to z only, not {unknown[0]!r}")
        if not letters:
            raise DataError("type some letters to reverse")
        return {"letters": np.array([LETTERS.index(c) for c in letters], dtype=np.int64)}

    def decode(self, prediction, example, options):
        shown = []
        for cls in np.asarray(prediction).argmax(axis=-1):
            if cls == END:
                break
            shown.append(CLASS_NAMES[cls])
        return "".join(shown) or "(nothing)"
