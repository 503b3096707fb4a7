"""Number words to digits: "three hundred and twelve" → "3 1 2" (many-to-many, unequal).

The source is a sentence of number words from zero to nine hundred and ninety-nine, the target
its digits followed by an end mark; source and target lengths differ and do not follow from
each other word by word. A tenth or so of the numbers are held out: the network has to have
learned how the words compose, not memorised the pairs.
"""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Task, split, words_to_ids

UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
VOCABULARY = [*UNITS, *TENS, "hundred", "and"]
START, END = 10, 11  # digit classes beyond 0-9: the start mark fed back first, the end mark
DIGIT_NAMES = [*"0123456789", "<start>", "<end>"]


def words(number: int) -> list[str]:
    """English words for 0 ≤ number ≤ 999, British style ("one hundred and five")."""
    if number < 20:
        return [UNITS[number]]
    if number < 100:
        tens, units = divmod(number, 10)
        return [TENS[tens - 2]] + ([UNITS[units]] if units else [])
    hundreds, rest = divmod(number, 100)
    return [UNITS[hundreds], "hundred"] + (["and", *words(rest)] if rest else [])


def digits(number: int) -> list[int]:
    return [*(int(d) for d in str(number)), END]


class Numbers(Task):
    name = "numbers"
    title = "Number words to digits"
    description = "Translate English number words to digits: many words in, fewer digits out."
    metric = "sequence_accuracy"
    target = "digits"
    example_input = "three hundred and twelve"

    def spec(self, options):
        return DataSpec(
            {"words": InputSpec("seq", 32, tokens=True)},
            {"digits": TargetSpec("cross_entropy", 12, True, steps=4, start=START)},
        )

    def longest(self, options):
        return {
            "words": max(len(words(n)) for n in range(1000)),
            "digits": max(len(digits(n)) for n in range(1000)),
        }

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        examples = [
            {
                "words": words_to_ids(words(n), VOCABULARY, "the numbers task"),
                "digits": np.array(digits(n)),
                "_number": n,
            }
            for n in range(1000)
        ]
        return split(examples, self.option(options, "held_out"), rng)

    def encode(self, text, options):
        text = text.lower().replace("-", " ")
        return {"words": words_to_ids(text.split(), VOCABULARY, "the numbers task")}

    def decode(self, prediction, example, options):
        shown = []
        for cls in prediction.argmax(axis=-1):
            if cls == END:
                break
            shown.append(DIGIT_NAMES[cls])
        return " ".join(shown) or "(nothing)"
