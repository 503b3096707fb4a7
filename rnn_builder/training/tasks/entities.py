"""Entity tagging: every word of a sentence tagged other, person or location.

Names such as "paris", "jordan" or "florence" are people in some sentences and places in others;
the words around them decide ("mr paris", "went to paris"). Most sentences give the clue before
the name, which a left-to-right RNN can use; some give it after ("paris said hello", "paris is a
city"), which only a bidirectional cell sees in time.
"""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Task, cumulative, pick, split, words_to_ids

AMBIGUOUS = ("paris", "jordan", "florence", "georgia", "austin", "victoria", "chelsea", "sydney")
PEOPLE = ("alice", "bob")
PLACES = ("london", "berlin")
CONTEXT = (
    "mr ms dr said hello smiled with met to in from went we i lives is a city the beautiful "
    "visited yesterday and"
).split()
VOCABULARY = [*AMBIGUOUS, *PEOPLE, *PLACES, *CONTEXT]
TAGS = ("other", "person", "location")
OTHER, PERSON, LOCATION = 0, 1, 2


_WEIGHTS = np.array([3, 3, 3, 2, 2, 2, 1, 1, 1], dtype=float)  # of the sentence shapes below
SHAPE_CDF = cumulative(_WEIGHTS / _WEIGHTS.sum())
LONGEST = 6  # words in the longest sentence the shapes make (tests hold it)


def sentence(rng: np.random.Generator) -> tuple[list[str], list[int], bool]:
    """Words, tags, and whether the clue came after the name."""

    def name(kind: int) -> str:
        pool = AMBIGUOUS + (PEOPLE if kind == PERSON else PLACES)
        return pool[rng.integers(len(pool))]

    person, place = name(PERSON), name(LOCATION)
    title = ("mr", "ms", "dr")[rng.integers(3)]
    subject = ("we", "i")[rng.integers(2)]
    shapes = [
        ([title, person, "said", "hello"], [0, 1, 0, 0], False),
        ([subject, "met", person, "yesterday"], [0, 0, 1, 0], False),
        ([subject, "went", "to", place], [0, 0, 0, 2], False),
        ([title, person, "lives", "in", place], [0, 1, 0, 0, 2], False),
        ([subject, "visited", place, "with", person], [0, 0, 2, 0, 1], False),
        (["the", "city", place, "is", "beautiful"], [0, 0, 2, 0, 0], False),
        ([subject, "went", "from", place, "to", place], [0, 0, 0, 2, 0, 2], False),
        ([person, "said", "hello", "and", "smiled"], [1, 0, 0, 0, 0], True),
        ([place, "is", "a", "beautiful", "city"], [2, 0, 0, 0, 0], True),
    ]
    words, tags, late = shapes[pick(rng, SHAPE_CDF)]
    return list(words), list(tags), late


class Entities(Task):
    name = "entities"
    title = "Entity tagging"
    description = (
        "Tag each word as a person, a location or other; the same name can be either, and the "
        "words around it decide."
    )
    metric = "token_accuracy"
    target = "tags"
    example_input = "we went to paris with mr jordan"

    def spec(self, options):
        return DataSpec(
            {"words": InputSpec("seq", 40, tokens=True)},
            {"tags": TargetSpec("cross_entropy", 3, True)},
        )

    def longest(self, options):
        return {"words": LONGEST, "tags": LONGEST}  # "we went from paris to rome"

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        examples = []
        for _ in range(self.option(options, "sentences")):
            words, tags, late = sentence(rng)
            examples.append(
                {
                    "words": words_to_ids(words, VOCABULARY, "the tagging task"),
                    "tags": np.array(tags),
                    "_late": late,
                }
            )
        return split(examples, 0.2, rng)

    def encode(self, text, options):
        return {"words": words_to_ids(text.lower().split(), VOCABULARY, "the tagging task")}

    def decode(self, prediction, example, options):
        ids = example[(options.get("_keys") or {}).get("words", "words")]
        words = [VOCABULARY[i] for i in ids if i >= 0]
        tags = prediction.argmax(axis=-1)[: len(words)]
        return " ".join(
            w if t == OTHER else f"{w}/{TAGS[t]}" for w, t in zip(words, tags, strict=True)
        )
