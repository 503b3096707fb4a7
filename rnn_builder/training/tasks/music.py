"""Chord to arpeggio: from a chord (root and quality), its notes one after the other.

The chord is a vector: the root as one of 12 pitch classes, and the quality (major, minor,
diminished). The arpeggio is four notes on a two-octave keyboard from C: root, third, fifth and
the octave — a one-to-many layout, one vector unfolded over time. Notes are shown by name
("C4 E4 G4 C5").
"""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Drawn, Task, draw, prediction_of, split

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
QUALITIES = {"major": (0, 4, 7, 12), "minor": (0, 3, 7, 12), "diminished": (0, 3, 6, 12)}
NOTES = 24  # two octaves, C4 to B5


def note_name(index: int) -> str:
    return f"{PITCHES[index % 12]}{4 + index // 12}"


def chord_vector(root: int, quality: str) -> np.ndarray:
    vector = np.zeros(12 + len(QUALITIES))
    vector[root] = 1.0
    vector[12 + list(QUALITIES).index(quality)] = 1.0
    return vector


def arpeggio(root: int, quality: str) -> list[int]:
    return [root + interval for interval in QUALITIES[quality]]


class Arpeggio(Task):
    name = "arpeggio"
    title = "Chord to arpeggio"
    description = (
        "From a chord — its root and whether it is major, minor or diminished — play its "
        "arpeggio note by note."
    )
    metric = "sequence_accuracy"
    target = "notes"
    generative = True
    example_input = "A minor"
    prime_label = "Chord"
    default_prime = "C major"
    sample_steps = 4  # an arpeggio: root, third, fifth, octave
    sample_note = (
        "Each note is drawn from its own step's probabilities, independently of the notes "
        "drawn before it: this network reads the chord at every step but never its own notes "
        "(a decoder that fed each note back through a Delay would, as the encoder-decoder "
        "template does with digits)."
    )

    def spec(self, options):
        return DataSpec(
            {"chord": InputSpec("vec", 12 + len(QUALITIES))},
            {"notes": TargetSpec("cross_entropy", NOTES, True, steps=4)},
        )

    def longest(self, options):
        return {"notes": max(len(intervals) for intervals in QUALITIES.values())}

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        copies = self.option(options, "copies")  # each chord seen many times per epoch
        chords = [(root, quality) for root in range(12) for quality in QUALITIES]
        examples = [
            {
                "chord": chord_vector(root, quality),
                "notes": np.array(arpeggio(root, quality)),
                "_chord": f"{PITCHES[root]} {quality}",
            }
            for root, quality in chords
        ]
        train, validation = (
            split(examples, self.option(options, "held_out"), rng)
            if self.option(options, "held_out")
            else (examples, examples)
        )
        return [dict(e) for e in train for _ in range(copies)], validation

    def encode(self, text, options):
        from rnn_builder.errors import DataError

        parts = text.strip().split()
        names = {p.lower(): i for i, p in enumerate(PITCHES)}
        if len(parts) != 2 or parts[0].lower() not in names or parts[1].lower() not in QUALITIES:
            raise DataError("name a chord as a root and a quality, like 'A minor' or 'F# major'")
        return {"chord": chord_vector(names[parts[0].lower()], parts[1].lower())}

    def decode(self, prediction, example, options):
        return " ".join(note_name(int(i)) for i in prediction.argmax(axis=-1))

    def prime_choices(self, options):
        return [f"{root} {quality}" for quality in QUALITIES for root in PITCHES]

    def sample(self, executor, prime, length, temperature, rng, options, drawn=None):
        example = self.encode(prime or self.default_prime, options)
        steps = prediction_of(executor, example, self.target, options)
        if drawn is not None:
            names = tuple(note_name(i) for i in range(NOTES))
            drawn.extend(Drawn(np.asarray(p[:NOTES]), names) for p in steps)
        return " ".join(note_name(draw(p, temperature, rng)) for p in steps)
