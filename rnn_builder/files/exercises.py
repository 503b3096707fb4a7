"""Exercises for the lessons the app teaches, each a project with a goal (``Project.goal``).

``python -m rnn_builder exercises`` lists them and ``exercises NAME -o FILE`` writes one; the
student changes the network or its settings, trains, and ``evaluate`` says whether the goal is
met, on an evaluation set fixed by the goal (not by the student's seed). Each starts where the
lesson's problem shows and can be met (``benchmarks/exercises.py`` trains the changes that meet
them and prints the figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rnn_builder.files.project import Goal, Project
from rnn_builder.files.templates import new_project


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    text: str  # the assignment
    build: Callable[[], Project]


def _vanishing() -> Project:
    """The adding problem at 100 steps with a plain tanh RNN: its gradient vanishes."""
    project = new_project("adding_problem")
    graph = project.graph
    graph.remove_node("memory")
    graph.add_node(
        "rnn", node_id="memory", name="memory", params={"hidden_size": 32}, position=(200.0, 0.0)
    )
    graph.connect("values", "y", "memory", "x")
    graph.connect("memory", "h_n", "readout", "x")
    project.dataset.options["steps"] = 100
    graph.set_param("values", "steps", 100)
    project.training.epochs = 6
    project.training.batch_size = 64
    return _with(
        project, EXERCISES_TEXT["vanishing"], Goal("mse", 0.01, text=EXERCISES_TEXT["vanishing"][1])
    )


def _future() -> Project:
    """The entity tagger reading forwards only: a name whose clue comes later is a guess."""
    project = new_project("many_to_many_equal")
    goal = Goal("token_accuracy", 0.99, subset="late", text=EXERCISES_TEXT["future"][1])
    return _with(project, EXERCISES_TEXT["future"], goal)


def _exploding() -> Project:
    """A ReLU RNN trained by plain SGD at a learning rate of 1, unclipped: it blows up."""
    project = new_project("adding_problem")
    graph = project.graph
    graph.remove_node("memory")
    graph.add_node(
        "rnn",
        node_id="memory",
        name="memory",
        params={"hidden_size": 32, "nonlinearity": "relu"},
        position=(200.0, 0.0),
    )
    graph.connect("values", "y", "memory", "x")
    graph.connect("memory", "h_n", "readout", "x")
    project.dataset.options["steps"] = 20
    graph.set_param("values", "steps", 20)
    settings = project.training
    settings.optimizer, settings.learning_rate, settings.clip_norm = "sgd", 1.0, 0.0
    settings.epochs = 8
    return _with(
        project, EXERCISES_TEXT["exploding"], Goal("mse", 0.01, text=EXERCISES_TEXT["exploding"][1])
    )


EXERCISES_TEXT = {
    "vanishing": (
        "See the gradient vanish, then make the adding problem learn at T = 100",
        "Train as it is and watch the Gradient flow view: the gradient never reaches the early "
        "steps, and the MSE stays at the mean's 0.167. Change the network so that it learns to "
        "add the two marked numbers of 100 steps: a validation MSE below 0.01.",
    ),
    "future": (
        "Give the tagger the future it needs",
        "Some names are only told apart by a word after them ('paris is a beautiful city'). "
        "A cell reading forwards has not seen that word when it tags the name. Change the "
        "network so that it tags the sentences whose clue comes late: a token accuracy of at "
        "least 99% on them.",
    ),
    "exploding": (
        "Tame an exploding ReLU RNN",
        "Train as it is: the loss turns NaN within the first epoch and training stops. Change "
        "the training settings, not the network, so that this ReLU RNN learns the adding "
        "problem at 20 steps: a validation MSE below 0.01.",
    ),
}


def _with(project: Project, text: tuple[str, str], goal: Goal) -> Project:
    project.title = f"Exercise: {text[0]}"
    project.description = text[1]
    project.template = None
    project.goal = goal
    return project


EXERCISES: dict[str, Exercise] = {
    name: Exercise(name, EXERCISES_TEXT[name][0], EXERCISES_TEXT[name][1], build)
    for name, build in (("vanishing", _vanishing), ("future", _future), ("exploding", _exploding))
}


def new_exercise(name: str) -> Project:
    if name not in EXERCISES:
        from rnn_builder.errors import RNNBuilderError

        raise RNNBuilderError(
            f"there is no exercise '{name}' (the exercises: {', '.join(EXERCISES)})"
        )
    return EXERCISES[name].build()
