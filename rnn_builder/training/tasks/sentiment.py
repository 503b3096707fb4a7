"""Sentiment of short sentences from a grammar in which word order decides.

Sentences praise or pan a subject, with intensifiers ("very good"), negation ("not good",
"not bad at all", "i did not think it was bad"), and two constructions whose bag of words is the
same either way round: "good , not bad" against "bad , not good", and "good but the ending was
bad" against "bad but the ending was good". A model that only counts words cannot tell those
apart; one that reads in order can.
"""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import (
    PROBABILITY_NOTE,
    Task,
    cumulative,
    pick,
    split,
    words_to_ids,
)

VOCABULARY = (
    "the movie film plot acting book food ending this was is very really so good great fun "
    "brilliant bad awful boring dull not at all but , i did think it and"
).split()
POSITIVE = ("good", "great", "fun", "brilliant")
NEGATIVE = ("bad", "awful", "boring", "dull")
SUBJECTS = (
    ("the", "movie"),
    ("the", "film"),
    ("the", "plot"),
    ("the", "acting"),
    ("this", "book"),
    ("the", "food"),
    ("this", "movie"),
)
INTENSIFIERS = ("very", "really", "so")
LABELS = ("negative", "positive")
# Sentence shapes whose words alone do not give the answer: the order does.
ORDER_SHAPES = ("contrast", "but")


SHAPES = ("plain", "negated", "not_at_all", "did_not_think", "contrast", "but")
SHAPE_CDF = cumulative([0.2, 0.2, 0.12, 0.12, 0.18, 0.18])
LONGEST = 10  # words in the longest sentence the grammar makes (tests hold it)


def sentence(rng: np.random.Generator) -> tuple[list[str], int, str]:
    """One sentence, its label (1 positive) and the name of its shape."""
    subject = list(SUBJECTS[rng.integers(len(SUBJECTS))])
    verb = ["was", "is"][rng.integers(2)]
    polarity = int(rng.integers(2))
    adjective = (POSITIVE if polarity else NEGATIVE)[rng.integers(4)]
    opposite = (NEGATIVE if polarity else POSITIVE)[rng.integers(4)]
    intensifier = [INTENSIFIERS[rng.integers(3)]] if rng.random() < 0.4 else []
    shape = SHAPES[pick(rng, SHAPE_CDF)]
    if shape == "plain":
        return [*subject, verb, *intensifier, adjective], polarity, shape
    if shape == "negated":
        return [*subject, verb, "not", *intensifier, adjective], 1 - polarity, shape
    if shape == "not_at_all":
        return [*subject, verb, "not", adjective, "at", "all"], 1 - polarity, shape
    if shape == "did_not_think":
        return ["i", "did", "not", "think", "it", "was", adjective], 1 - polarity, shape
    if shape == "contrast":  # "good , not bad": the first word counts
        return [*subject, verb, adjective, ",", "not", opposite], polarity, shape
    # "good but the ending was bad": the clause after "but" counts
    return (
        [*subject, verb, opposite, "but", "the", "ending", verb, *intensifier, adjective],
        (polarity),
        shape,
    )


class Sentiment(Task):
    name = "sentiment"
    title = "Sentence sentiment"
    description = (
        "Short sentences with negation and intensifiers, labelled positive or negative; some "
        "use the same words both ways round, so that only reading in order gets them right."
    )
    metric = "accuracy"
    target = "sentiment"
    example_input = "the plot was not bad at all"
    prediction_note = PROBABILITY_NOTE

    def spec(self, options):
        return DataSpec(
            {"words": InputSpec("seq", 40, tokens=True)},
            {"sentiment": TargetSpec("cross_entropy", 2, False)},
        )

    def longest(self, options):
        return {"words": LONGEST}  # "the film was bad but the ending was very good"

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        count = self.option(options, "sentences")
        examples = []
        for _ in range(count):
            words, label, shape = sentence(rng)
            examples.append(
                {
                    "words": words_to_ids(words, VOCABULARY, "the sentiment task"),
                    "sentiment": label,
                    "_shape": shape,
                }
            )
        return split(examples, 0.2, rng)

    def encode(self, text, options):
        words = text.lower().replace(",", " , ").split()
        return {"words": words_to_ids(words, VOCABULARY, "the sentiment task")}

    def decode(self, prediction, example, options):
        label = int(np.argmax(prediction))
        return f"{LABELS[label]} (p = {prediction[label]:.2f})"
