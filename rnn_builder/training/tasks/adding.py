"""The adding problem: sum the two marked numbers of a long sequence.

Hochreiter & Schmidhuber (1997) set it to test memory over long lags; this is the variant of
Le, Jaitly & Hinton (2015), as most papers since use it: each step holds a random number drawn
uniformly from [0, 1] and a marker; exactly two steps are marked, one in each half of the
sequence, and the answer, given after the last step, is the sum of the two marked numbers.
Predicting the mean (1) scores a mean squared error of 1/6 ≈ 0.167; getting below 0.01 needs
memory across the whole sequence, which a plain tanh RNN fails to learn at long lengths (its
gradient vanishes) and an LSTM learns.
"""

from __future__ import annotations

import numpy as np

from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks.base import Task


class AddingProblem(Task):
    name = "adding"
    title = "Adding problem"
    description = (
        "Sum the two marked numbers of a long sequence: the classic test of memory over long "
        "lags (Hochreiter & Schmidhuber, 1997), in the variant of Le et al. (2015): numbers "
        "uniform in [0, 1], one marked in each half."
    )
    metric = "mse"
    target = "sum"

    def spec(self, options):
        steps = self.option(options, "steps")
        return DataSpec(
            {"values": InputSpec("seq", 2, steps=steps)}, {"sum": TargetSpec("mse", 1, False)}
        )

    @staticmethod
    def sequences(rng: np.random.Generator, count: int, steps: int):
        values = rng.uniform(0.0, 1.0, (count, steps))
        markers = np.zeros((count, steps))
        half = steps // 2
        first = rng.integers(0, half, count)
        second = rng.integers(half, steps, count)
        rows = np.arange(count)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        x = np.stack([values, markers], axis=2)
        y = values[rows, first] + values[rows, second]
        return x, y

    def longest(self, options):
        return {"values": self.option(options, "steps")}

    def examples(self, seed, options):
        rng = np.random.default_rng(seed)
        steps = self.option(options, "steps")
        train_x, train_y = self.sequences(rng, self.option(options, "train"), steps)
        val_x, val_y = self.sequences(rng, self.option(options, "validation"), steps)
        train = [{"values": x, "sum": np.array([y])} for x, y in zip(train_x, train_y, strict=True)]
        val = [{"values": x, "sum": np.array([y])} for x, y in zip(val_x, val_y, strict=True)]
        return train, val
