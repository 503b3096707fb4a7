"""Two spirals: which of two interleaved spirals a point of the plane lies on (one-to-one)."""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import PROBABILITY_NOTE, Task, split


class TwoSpirals(Task):
    name = "two_spirals"
    title = "Two spirals"
    description = (
        "Points on two interleaved spirals; the network says which spiral a point is on. "
        "No time at all: the classic test that a plain network can bend its boundary."
    )
    metric = "accuracy"
    target = "spiral"
    example_input = "0.3, -0.5"
    prediction_note = PROBABILITY_NOTE

    def spec(self, options):
        return DataSpec(
            {"point": InputSpec("vec", 2)}, {"spiral": TargetSpec("cross_entropy", 2, False)}
        )

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        per_class = self.option(options, "points")
        turns = self.option(options, "turns")
        examples = []
        for label in (0, 1):
            t = np.sqrt(rng.uniform(0.0, 1.0, per_class)) * turns * 2 * np.pi
            radius = t / (turns * 2 * np.pi)
            angle = t + label * np.pi
            points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
            points += rng.normal(0.0, 0.02, points.shape)
            examples += [{"point": p, "spiral": label} for p in points]
        return split(examples, 0.2, rng)

    def encode(self, text, options):
        from rnn_builder.errors import DataError

        try:
            x, y = (float(v) for v in text.replace(",", " ").split())
        except ValueError:
            raise DataError("give a point as two numbers, like '0.3, -0.5'") from None
        return {"point": np.array([x, y])}

    def decode(self, prediction, example, options):
        label = int(np.argmax(prediction))
        return f"spiral {'AB'[label]} (p = {prediction[label]:.2f})"
