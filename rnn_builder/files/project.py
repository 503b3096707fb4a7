"""A project: the graph, a title and description, training settings and the data it trains on.

This is what a project file holds (see ``serialization``) and what the GUI has open. Training
settings and the dataset reference are plain records here; the trainer and the tasks read them.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

from rnn_builder.graph.model import Graph

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "cosine")
DATASET_KINDS = ("builtin", "csv", "text")


@dataclass
class TrainingSettings:
    """How a project trains. ``clip_norm`` 0 means no clipping; ``truncated_bptt`` 0 means
    backpropagation through the whole sequence; ``patience`` 0 means no early stopping (else:
    stop after that many epochs without a better validation loss); ``schedule`` is the learning
    rate's course: constant, step (halved at each third of training) or cosine (down to zero)."""

    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int = 32
    epochs: int = 20
    clip_norm: float = 1.0
    truncated_bptt: int = 0
    seed: int = 0
    schedule: str = "constant"
    patience: int = 0
    weight_decay: float = 0.0

    # name -> (type, minimum, maximum or None, choices)
    LIMITS: ClassVar[dict[str, tuple]] = {
        "optimizer": (str, None, None, OPTIMIZERS),
        "learning_rate": (float, 0.0, 10.0, ()),
        "batch_size": (int, 1, 65_536, ()),
        "epochs": (int, 1, 1_000_000, ()),
        "clip_norm": (float, 0.0, 1e6, ()),
        "truncated_bptt": (int, 0, 100_000, ()),
        "seed": (int, 0, 2**32 - 1, ()),
        "schedule": (str, None, None, SCHEDULES),
        "patience": (int, 0, 1_000_000, ()),
        "weight_decay": (float, 0.0, 1.0, ()),
    }

    def problems(self) -> list[str]:
        """Sentences for values out of range (empty when all are fine)."""
        found = []
        for f in fields(self):
            value = getattr(self, f.name)
            _type, low, high, choices = self.LIMITS[f.name]
            if choices and value not in choices:
                found.append(f"{f.name} must be one of {', '.join(choices)}, not {value!r}")
            elif low is not None and (value < low or (high is not None and value > high)):
                found.append(f"{f.name} must be between {low} and {high}, not {value}")
            elif f.name == "learning_rate" and (value == 0 or not math.isfinite(value)):
                found.append("learning_rate must be above 0")
        return found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DatasetReference:
    """Which data trains the project: a built-in task by name, or a user's CSV or text file,
    with options (columns, window length, normalisation, ...) as plain JSON values."""

    kind: str = "builtin"
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "options": self.options}


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    title: str = "Untitled"
    description: str = ""
    template: str | None = None
    training: TrainingSettings = field(default_factory=TrainingSettings)
    dataset: DatasetReference | None = None

    def copy(self) -> Project:
        """An independent copy (for a worker thread): the graph with its validation (the same
        meaning, so not checked again), the settings and data options deep-copied."""
        return replace(
            self,
            graph=self.graph.copy(),
            training=copy.deepcopy(self.training),
            dataset=copy.deepcopy(self.dataset),
        )
