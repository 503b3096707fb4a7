"""A run's training loss at every step, whatever the machine's speed.

The trainer reports a few times a second, but the curve must not depend on how often: a
225-step run drawn from the means of six reports hid the noise a student should see (and a fast
machine drew fewer points than a slow one). So every report carries the loss of each step since
the one before, and :class:`LossCurve` keeps them all, one point a step.

A long run would make that list long, so past ``limit`` points (20,000 by default) the curve
keeps an envelope instead: neighbouring buckets merge in pairs, and each bucket keeps the
minimum, the mean and the maximum of its steps. Buckets cover fixed spans of steps (``width``
steps each, from step 1), so the same losses always give the same curve, however they arrived.
A run of 20,000 steps or fewer is exact; a run of a million keeps 15,625 to 31,250 points (64
steps a bucket), about a megabyte.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from rnn_builder.values import is_number, short

LIMIT = 20_000  # points kept exactly; past this, min/mean/max buckets


class CurveError(ValueError):
    """A saved curve that is not one :meth:`LossCurve.to_json` writes."""


class LossCurve:
    """Losses by step: exact up to ``limit`` points, then min/mean/max per bucket of steps.

    ``steps`` is each bucket's first step; a point is drawn there (with ``width`` 1 it is the
    step itself). Steps are added in increasing order.
    """

    def __init__(self, limit: int = LIMIT) -> None:
        if limit < 2:
            raise ValueError("a curve keeps at least two points")
        self.limit = limit
        self.width = 1  # steps a bucket spans
        self.steps: list[int] = []  # each bucket's first step
        self.counts: list[int] = []
        self.sums: list[float] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.last_step = 0

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def mean(self) -> list[float]:
        return [s / c for s, c in zip(self.sums, self.counts, strict=True)]

    @property
    def exact(self) -> bool:
        """Whether every point is one step's loss (no bucket holds two steps)."""
        return all(c == 1 for c in self.counts)

    @property
    def last(self) -> float | None:
        """The latest step's loss (the latest bucket's mean, once steps are bucketed)."""
        return self.sums[-1] / self.counts[-1] if self.steps else None

    def add(self, step: int, loss: float) -> None:
        """The loss of ``step`` (after every step added so far). A loss that is not finite is
        not a point: training stops on one, and it would hide the rest of the curve."""
        if step <= self.last_step:
            raise ValueError(f"step {step} comes after step {self.last_step}")
        self.last_step = step
        if not math.isfinite(loss):
            return
        start = 1 + (step - 1) // self.width * self.width
        if self.steps and self.steps[-1] == start:
            self.counts[-1] += 1
            self.sums[-1] += loss
            self.low[-1] = min(self.low[-1], loss)
            self.high[-1] = max(self.high[-1], loss)
            return
        self.steps.append(start)
        self.counts.append(1)
        self.sums.append(loss)
        self.low.append(loss)
        self.high.append(loss)
        if len(self.steps) > self.limit:
            self._merge()

    def extend(self, last_step: int, losses: Sequence[float]) -> None:
        """The losses of the steps up to ``last_step``, one a step (as a report carries them)."""
        first = last_step - len(losses) + 1
        for offset, loss in enumerate(losses):
            self.add(first + offset, float(loss))

    def _merge(self) -> None:
        """Twice as wide buckets: each pair of neighbours (by their fixed spans) becomes one."""
        self.width *= 2
        merged: dict[int, list] = {}
        for step, count, total, low, high in zip(
            self.steps, self.counts, self.sums, self.low, self.high, strict=True
        ):
            start = 1 + (step - 1) // self.width * self.width
            kept = merged.get(start)
            if kept is None:
                merged[start] = [count, total, low, high]
            else:
                kept[0] += count
                kept[1] += total
                kept[2] = min(kept[2], low)
                kept[3] = max(kept[3], high)
        self.steps = list(merged)
        self.counts = [v[0] for v in merged.values()]
        self.sums = [v[1] for v in merged.values()]
        self.low = [v[2] for v in merged.values()]
        self.high = [v[3] for v in merged.values()]

    # --- files ---------------------------------------------------------------------------

    def to_json(self) -> dict:
        data: dict = {"width": self.width, "steps": list(self.steps), "mean": self.mean}
        if not self.exact:
            data.update(counts=list(self.counts), low=list(self.low), high=list(self.high))
        return data

    @staticmethod
    def from_json(data: object, limit: int = LIMIT) -> LossCurve:
        """The curve :meth:`to_json` wrote; :class:`CurveError` names what is wrong."""
        if not isinstance(data, dict):
            raise CurveError("the loss curve is not an object")
        width = data.get("width", 1)
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 2**40:
            raise CurveError(f"the loss curve's width is {short(width)}, not a whole number ≥ 1")
        steps = _numbers(data, "steps", whole=True)
        mean = _numbers(data, "mean")
        count = len(steps)
        counts = _numbers(data, "counts", whole=True) if "counts" in data else [1] * count
        low = _numbers(data, "low") if "low" in data else list(mean)
        high = _numbers(data, "high") if "high" in data else list(mean)
        if any(len(values) != count for values in (mean, counts, low, high)):
            raise CurveError("the loss curve's lists are not all of one length")
        if any(b <= a for a, b in itertools.pairwise(steps)) or any(s < 1 for s in steps):
            raise CurveError("the loss curve's steps do not increase from 1")
        if any(c < 1 or c > width for c in counts):
            raise CurveError(f"the loss curve has a bucket of more than its {width} steps")
        if any(not lo <= m <= hi for lo, m, hi in zip(low, mean, high, strict=True)):
            raise CurveError("the loss curve has a mean outside its bucket's low and high")
        curve = LossCurve(max(limit, count))
        curve.width = width
        curve.steps, curve.counts = [int(s) for s in steps], [int(c) for c in counts]
        curve.sums = [m * c for m, c in zip(mean, counts, strict=True)]
        curve.low, curve.high = list(low), list(high)
        curve.last_step = curve.steps[-1] + width - 1 if steps else 0
        return curve

    @staticmethod
    def from_points(steps: Iterable[int], losses: Iterable[float]) -> LossCurve:
        """A curve of one point per given step (how runs were saved before every step was)."""
        curve = LossCurve()
        for step, loss in zip(steps, losses, strict=True):
            curve.add(int(step), float(loss))
        return curve


def is_loss(value: object, finite: bool = True) -> bool:
    """A float (any magnitude: a loss may be huge before it turns NaN) or a sane int."""
    if isinstance(value, float):
        return math.isfinite(value) or not finite
    return is_number(value)


def _numbers(data: dict, key: str, whole: bool = False) -> list:
    values = data.get(key)
    if not isinstance(values, list):
        raise CurveError(f"the loss curve's '{key}' is not a list")
    for value in values:
        number = is_number(value) and isinstance(value, int) if whole else is_loss(value)
        if not number:
            kind = "whole numbers" if whole else "finite numbers"
            raise CurveError(f"the loss curve's '{key}' holds {short(value)}, not only {kind}")
    return values
