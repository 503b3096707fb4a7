"""Writes the example data files beside this script, one for each kind of data file RNN Builder
reads (``python docs/examples/make_examples.py``; seeded, so the files come out the same).

* ``reviews.csv`` — labelled text: short reviews, positive or negative. Negation flips the
  label ("the soup was not good"), and "X, but Y" takes Y's side, so a model that counts words
  cannot learn it; one that reads in order can.
* ``pos_tags.conll`` — tagged tokens: each word with its part of speech. "book", "play",
  "watch" and "park" are nouns or verbs by the words around them.
* ``english_spanish.tsv`` — sequence pairs: English phrases and their Spanish, of other
  lengths and another word order ("the black cat" → "el gato negro"; "i see" → "veo").
* ``shapes.csv`` — numeric sequences: noisy series of 8 to 24 steps labelled by their shape
  (rising, falling, peak, valley).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUBJECTS = [
    "the soup",
    "the film",
    "the service",
    "the hotel",
    "the book",
    "the music",
    "the room",
    "the staff",
    "the ending",
    "the coffee",
    "the game",
    "the show",
]
GOOD = ["good", "great", "lovely", "excellent", "fine", "superb", "pleasant", "wonderful"]
BAD = ["bad", "awful", "terrible", "poor", "dull", "horrible", "boring", "bland"]
ADVERBS = ["", "", "very ", "really ", "quite ", "truly "]


def review(rng: random.Random) -> tuple[str, str]:
    subject, other = rng.sample(SUBJECTS, 2)
    positive = rng.random() < 0.5
    word = rng.choice(GOOD if positive else BAD)
    opposite = rng.choice(BAD if positive else GOOD)
    adverb = rng.choice(ADVERBS)
    verb = rng.choice(["was", "is"])
    shape = rng.randrange(6)
    if shape == 0:
        text, label = f"{subject} {verb} {adverb}{word}", positive
    elif shape == 1:
        text, label = f"{subject} {verb} not {adverb}{word}", not positive
    elif shape == 2:
        text, label = f"i did not think {subject} {verb} {word}", not positive
    elif shape == 3:
        text, label = f"{subject} {verb} {opposite}, but {other} {verb} {adverb}{word}", positive
    elif shape == 4:
        text, label = f"{subject} {verb} {word}, not {opposite}", positive
    else:
        text, label = f"{subject} {verb} never {word}", not positive
    return text.capitalize() + ".", "positive" if label else "negative"


DETERMINERS = ["the", "a", "this", "my"]
NOUNS = ["book", "play", "watch", "park", "dog", "child", "friend", "teacher", "car", "letter"]
VERBS_3 = {
    "book": "books",
    "play": "plays",
    "watch": "watches",
    "park": "parks",
    "read": "reads",
    "write": "writes",
    "see": "sees",
    "like": "likes",
}
ADJECTIVES = ["old", "new", "small", "red", "quiet", "long"]
PRONOUNS = ["i", "we", "they", "you"]


def tagged(rng: random.Random) -> list[tuple[str, str]]:
    def noun_phrase() -> list[tuple[str, str]]:
        words = [(rng.choice(DETERMINERS), "DET")]
        if rng.random() < 0.5:
            words.append((rng.choice(ADJECTIVES), "ADJ"))
        return [*words, (rng.choice(NOUNS), "NOUN")]

    shape = rng.randrange(3)
    if shape == 0:  # they book a small car
        verb = rng.choice(list(VERBS_3))
        return [(rng.choice(PRONOUNS), "PRON"), (verb, "VERB"), *noun_phrase()]
    if shape == 1:  # the old teacher watches the park
        verb = VERBS_3[rng.choice(list(VERBS_3))]
        return [*noun_phrase(), (verb, "VERB"), *noun_phrase()]
    # the play was long
    return [*noun_phrase(), (rng.choice(["was", "is"]), "AUX"), (rng.choice(ADJECTIVES), "ADJ")]


ANIMALS = {
    "cat": ("gato", "m"),
    "dog": ("perro", "m"),
    "house": ("casa", "f"),
    "car": ("coche", "m"),
    "table": ("mesa", "f"),
    "bird": ("pájaro", "m"),
    "flower": ("flor", "f"),
    "book": ("libro", "m"),
}
COLOURS = {
    "black": ("negro", "negra"),
    "white": ("blanco", "blanca"),
    "red": ("rojo", "roja"),
    "small": ("pequeño", "pequeña"),
    "old": ("viejo", "vieja"),
    "new": ("nuevo", "nueva"),
}
SUBJECT_VERBS = {
    ("i", "see"): "veo",
    ("we", "see"): "vemos",
    ("i", "want"): "quiero",
    ("we", "want"): "queremos",
    ("i", "have"): "tengo",
    ("we", "have"): "tenemos",
}


def pair(rng: random.Random) -> tuple[str, str]:
    noun = rng.choice(list(ANIMALS))
    spanish, gender = ANIMALS[noun]
    article_en = rng.choice(["the", "a"])
    article_es = {("the", "m"): "el", ("the", "f"): "la", ("a", "m"): "un", ("a", "f"): "una"}[
        (article_en, gender)
    ]
    english, target = [article_en], [article_es, spanish]
    if rng.random() < 0.7:
        colour = rng.choice(list(COLOURS))
        english.append(colour)
        target.append(COLOURS[colour][0 if gender == "m" else 1])
    english.append(noun)
    if rng.random() < 0.6:
        subject, verb = rng.choice(list(SUBJECT_VERBS))
        english = [subject, verb, *english]
        target = [SUBJECT_VERBS[(subject, verb)], *target]
    return " ".join(english), " ".join(target)


def shape_series(rng: random.Random) -> tuple[str, str]:
    length = rng.randrange(8, 25)
    label = rng.choice(["rising", "falling", "peak", "valley"])
    turn = rng.randrange(length // 3, 2 * length // 3 + 1)
    values = []
    for t in range(length):
        if label == "rising":
            base = t / length
        elif label == "falling":
            base = 1 - t / length
        elif label == "peak":
            base = 1 - abs(t - turn) / length * 2
        else:
            base = abs(t - turn) / length * 2
        values.append(base + rng.gauss(0, 0.08))
    return " ".join(f"{v:.3f}" for v in values), label


def main() -> None:
    rng = random.Random(2026)
    with open(HERE / "reviews.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["review", "sentiment"])
        writer.writerows(review(rng) for _ in range(4000))
    with open(HERE / "pos_tags.conll", "w", encoding="utf-8") as stream:
        stream.write("# token<TAB>part of speech; a blank line ends a sentence\n")
        for _ in range(1500):
            stream.writelines(f"{word}\t{tag}\n" for word, tag in tagged(rng))
            stream.write("\n")
    with open(HERE / "english_spanish.tsv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, delimiter="\t")
        writer.writerow(["english", "spanish"])
        writer.writerows(pair(rng) for _ in range(3000))
    with open(HERE / "shapes.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["values", "shape"])
        writer.writerows(shape_series(rng) for _ in range(2000))


if __name__ == "__main__":
    main()
