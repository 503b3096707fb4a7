"""An exercise's goal, checked: its metric on the fixed evaluation set it names.

A teacher sets a goal in a project (``Project.goal``: a metric, a threshold, the seed of the
evaluation set, optionally a subset of examples the task marks); a student trains as they see
fit; ``evaluate`` (and the app) score the trained network on the validation part made with the
goal's seed — the same examples for every student, whatever training seed they chose — and say
whether it is met. A subset (``late``: the tagging sentences whose clue comes after the name)
is scored on its own, beside the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.project import Goal, Project
from rnn_builder.training.data import Split
from rnn_builder.training.tasks import make_dataset
from rnn_builder.training.trainer import evaluate


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    value: float | None  # the goal's metric on its examples
    met: bool
    examples: int  # how many it was measured on
    overall: float | None  # the same metric on the whole evaluation set (for a subset)

    def describe(self) -> str:
        """One line: ``goal: token accuracy on the 'late' examples at least 99%: 100.0% — met``."""
        shown = "—" if self.value is None else _shown(self.goal.metric, self.value)
        verdict = "met" if self.met else "not met yet"
        overall = ""
        if self.goal.subset and self.overall is not None:
            overall = f" (all examples: {_shown(self.goal.metric, self.overall)})"
        return f"goal: {self.goal.describe()}: {shown}{overall} — {verdict}"

    def to_json(self) -> dict:
        return {
            "goal": self.goal.to_json(),
            "goal_value": self.value,
            "goal_met": self.met,
            "goal_examples": self.examples,
            "goal_overall": self.overall,
        }


def evaluate_goal(project: Project, executor: Executor, base: Path | None = None) -> GoalResult:
    """Score ``executor`` (the trained network) against ``project.goal``."""
    goal = project.goal
    if goal is None:
        raise DataError("this project sets no goal")
    dataset = make_dataset(project, goal.seed, base)
    split = dataset.validation
    whole = evaluate(executor, dataset, split)
    chosen = split
    if goal.subset:
        flag = "_" + goal.subset
        examples = [e for e in split.examples if e.get(flag)]
        if not examples:
            raise DataError(
                f"the goal scores the '{goal.subset}' examples, but the data marks none: "
                "is it the data the exercise was set on?"
            )
        chosen = Split(examples)
    result = evaluate(executor, dataset, chosen) if goal.subset else whole
    value = _value(goal.metric, result)
    overall = _value(goal.metric, whole) if goal.subset else None
    return GoalResult(goal, value, goal.met(value), len(chosen), overall)


def _value(metric: str, evaluation) -> float | None:
    if evaluation is None:
        return None
    return evaluation.loss if metric == "mse" else evaluation.metric


def _shown(metric: str, value: float) -> str:
    return f"{value:.4g}" if metric == "mse" else f"{value:.1%}"
