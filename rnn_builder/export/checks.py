"""What the checks of exported models share (ONNX and PyTorch alike): the examples they run,
two batches of different sizes, the second with sequences cut to unequal lengths so that padding
is exercised, and the result, the largest difference from our executor's predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-5  # float32: what different summation orders leave over a few hundred terms


@dataclass
class CheckResult:
    """How far the exported model's predictions are from the executor's."""

    max_difference: float
    runtime: str  # "onnxruntime" or "reference"
    batches: list[tuple[dict[str, int], int]] = field(default_factory=list)  # (lengths, B)
    tolerance: float = TOLERANCE
    note: str = ""  # what the check could not cover

    @property
    def ok(self) -> bool:
        return self.max_difference <= self.tolerance

    def compared(self, got, expected: np.ndarray) -> None:
        """Take in one output's predictions: the largest difference so far, infinite where
        either side holds NaN or an infinity (Python's ``max`` drops a NaN: an exported model
        that gave NaN passed the check with a difference of 0)."""
        difference = np.abs(np.asarray(got, np.float64) - expected)
        worst = float(difference.max(initial=0.0)) if np.isfinite(difference).all() else np.inf
        self.max_difference = max(self.max_difference, worst)

    def summary(self) -> str:
        shapes = "; ".join(
            f"batch of {size}" + "".join(f", {axis} {steps} steps" for axis, steps in axes.items())
            for axes, size in self.batches
        )
        verdict = "within" if self.ok else "OVER"
        return (
            f"largest difference {self.max_difference:.3g} ({verdict} {self.tolerance:g}), "
            f"{self.runtime} vs our executor ({shapes})" + (f"; {self.note}" if self.note else "")
        )


def two_batches(examples: list[dict], graph, padded: bool = True) -> tuple[list[dict], list[dict]]:
    """Four examples as they are, then seven whose sequences are cut shorter than the first
    batch's longest and to unequal lengths (so the second batch is padded). Without
    ``padded``, each batch's sequences are all cut to its shortest."""
    input_ids = [n.id for n in graph.inputs()]
    sequence_ids = [n.id for n in graph.sequence_inputs()]
    plain = [{k: np.asarray(e[k]) for k in input_ids} for e in examples]
    first = [dict(plain[i % len(plain)]) for i in range(4)]
    longest = max((len(e[k]) for e in first for k in sequence_ids), default=1)
    cut = max(1, longest - 1)
    second = []
    for i in range(7):
        example = dict(plain[(4 + i) % len(plain)])
        for key in sequence_ids:
            example[key] = example[key][: max(1, min(len(example[key]), cut) - i % 3)]
        second.append(example)
    if not padded:
        for batch in (first, second):
            for key in sequence_ids:
                shortest = min(len(e[key]) for e in batch)
                for example in batch:
                    example[key] = example[key][:shortest]
    return first, second
