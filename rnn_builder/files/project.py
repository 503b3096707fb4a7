"""A project: the graph, a title and description, training settings, the data it trains on, and
the notes a teacher writes on the canvas.

This is what a project file holds (see ``serialization``) and what the GUI has open. Training
settings and the dataset reference are plain records here; the trainer and the tasks read them.

An open project changes as its graph does: through methods that check the new value (a value
that cannot be used raises ``InvalidSettingError`` and changes nothing) and then announce the
change by an event, once per real change and never for a value set again
(:meth:`Project.set_training`, :meth:`Project.set_dataset`, :meth:`Project.set_title`,
:meth:`Project.set_description`, and the notes' :meth:`Project.add_note`,
:meth:`Project.remove_note`, :meth:`Project.set_note_text`, :meth:`Project.move_note`). The
GUI's undo commands call these and its views follow the events, as the canvas follows the
graph's.

Notes are text placed on the canvas beside the network they explain (issue 23). They belong
to the project, not to the graph: they change nothing the network computes (nor a run's graph
digest), and a graph copied for training leaves them behind.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.data_options import options_problem, task_of_reference
from rnn_builder.graph.card import card_size
from rnn_builder.graph.events import Event
from rnn_builder.graph.model import Graph, Position, valid_node_id
from rnn_builder.values import MAX_TEXT, is_number, is_plain_value, is_savable_text, short

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "cosine")
# a built-in task, a CSV series, a text; then a person's files: labelled text (CSV, TSV or
# JSON Lines), tagged tokens (CoNLL), sequence pairs, numeric sequences
DATASET_KINDS = ("builtin", "csv", "text", "labelled", "tagged", "pairs", "sequences")
FILE_KINDS = DATASET_KINDS[1:]
MAX_BINDING = 100  # fields a data source can bind
MAX_DATA_NAME = 4096  # a file's path, as a project file may hold it


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
        found = (self.problem(f.name, getattr(self, f.name)) for f in fields(self))
        return [problem for problem in found if problem is not None]

    @classmethod
    def problem(cls, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be the setting ``name`` (of the right type), or None."""
        _type, low, high, choices = cls.LIMITS[name]
        if choices and value not in choices:
            return f"{name} must be one of {', '.join(choices)}, not {value!r}"
        if low is not None and (value < low or (high is not None and value > high)):
            return f"{name} must be between {low} and {high}, not {short(value)}"
        if name == "learning_rate" and (value == 0 or not math.isfinite(value)):
            return "learning_rate must be above 0"
        return None

    @classmethod
    def checked(cls, name: str, value: Any) -> Any:
        """``value`` as the setting ``name`` holds it (a whole number as a float where a float
        is due); raises ``InvalidSettingError`` saying what is wrong."""
        if name not in cls.LIMITS:
            raise InvalidSettingError(
                f"there is no training setting '{name}' (the settings: {', '.join(cls.LIMITS)})"
            )
        expected = cls.LIMITS[name][0]
        if expected is str and not isinstance(value, str):
            raise InvalidSettingError(f"{name} must be text, not {value!r}")
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidSettingError(f"{name} must be a whole number, not {value!r}")
        if expected is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidSettingError(f"{name} must be a number, not {value!r}")
            if isinstance(value, int) and abs(value) > sys.float_info.max:  # float() overflows
                raise InvalidSettingError(f"{name} must be a finite number, not {short(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise InvalidSettingError(f"{name} must be a finite number, not {value}")
        problem = cls.problem(name, value)
        if problem is not None:
            raise InvalidSettingError(problem)
        return value

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DatasetReference:
    """Which data trains the project: a built-in task by name, or a user's file, with options
    (columns, window length, tokenisation, ...) and what reading it worked out (a vocabulary,
    the classes, a normalisation) as plain JSON values; and the binding: which input node each
    field of the data feeds and which Output each target is compared with (field -> node id;
    a field it leaves out is bound by ``training.binding``'s rules)."""

    kind: str = "builtin"
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    binding: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {"kind": self.kind, "name": self.name, "options": self.options}
        if self.binding:
            data["binding"] = dict(self.binding)
        return data

    def copy(self) -> DatasetReference:
        return DatasetReference(
            self.kind, self.name, copy.deepcopy(self.options), dict(self.binding)
        )

    @staticmethod
    def checked(reference: Any) -> DatasetReference | None:
        """A copy of ``reference`` (None stays None); raises ``InvalidSettingError`` for one
        that cannot be a project's data source."""
        if reference is None:
            return None
        if not isinstance(reference, DatasetReference):
            raise InvalidSettingError(f"expected a data set reference, not {reference!r}")
        problem = reference.problem()
        if problem is not None:
            raise InvalidSettingError(problem)
        return reference.copy()

    def problem(self) -> str | None:
        """Why this reference cannot be a project's data source, or None."""
        if self.kind not in DATASET_KINDS:
            return f"the data kind must be one of {', '.join(DATASET_KINDS)}, not {self.kind!r}"
        if not isinstance(self.name, str):
            return f"the data's name must be text, not {self.name!r}"
        if len(self.name) > MAX_DATA_NAME or not is_savable_text(self.name):
            return (
                f"the data's name must be at most {MAX_DATA_NAME} characters that can be "
                f"saved as UTF-8, not {short(self.name)}"
            )
        if not isinstance(self.options, dict) or not all(
            isinstance(key, str) and is_plain_value(value) for key, value in self.options.items()
        ):
            return (
                "the data options must be named numbers, text, true/false, null, "
                "or lists and objects of those"
            )
        problem = options_problem(task_of_reference(self.kind, self.name), self.options)
        if problem is not None:
            return problem[0]
        if (
            not isinstance(self.binding, dict)
            or len(self.binding) > MAX_BINDING
            or not all(
                isinstance(k, str) and isinstance(v, str) and valid_node_id(v) and len(k) <= 200
                for k, v in self.binding.items()
            )
        ):
            return "the data binding must name, for each field, the id of a node"
        return None


MAX_NOTES = 1_000  # notes on one canvas
MAX_NOTE_TEXT = 4_000  # characters of one note: a paragraph or a few, not a document
# A note's card on the canvas is this wide (its height follows its text, which only the canvas
# lays out); it is measured from the middle of its first line, where a new note is centred.
NOTE_WIDTH = 220.0
NOTE_MIDDLE = (NOTE_WIDTH / 2, 20.0)  # from the note's top-left corner


@dataclass
class Note:
    """Text on the canvas: what a teacher says about the network, where they put it (its
    top-left corner). Change it through :class:`Project` so that views hear of it."""

    id: str
    text: str
    position: Position = (0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "position": [*self.position]}

    def nearest_node(self, graph: Graph, among: Iterable[str] | None = None) -> str | None:
        """The node (of ``among``; any of ``graph``'s by default) the note is most likely about:
        the one whose card's middle (``graph.card.card_size``) is nearest the note's
        (:data:`NOTE_MIDDLE`). Arrange moves a note with it; the unrolled view draws a note
        beside its row. None when there is no node."""
        x, y = self.position[0] + NOTE_MIDDLE[0], self.position[1] + NOTE_MIDDLE[1]

        def distance(node_id: str) -> float:
            left, top = graph.node(node_id).position
            width, height = card_size(graph.node_type(node_id))
            return (left + width / 2 - x) ** 2 + (top + height / 2 - y) ** 2

        return min(graph.nodes if among is None else among, key=distance, default=None)

    @staticmethod
    def checked_text(text: Any) -> str:
        """``text`` if a note can hold it; ``InvalidSettingError`` in words otherwise."""
        if not isinstance(text, str):
            raise InvalidSettingError(f"a note holds text, not {short(text)}")
        if len(text) > MAX_NOTE_TEXT:
            raise InvalidSettingError(
                f"a note holds at most {MAX_NOTE_TEXT:,} characters (this one has "
                f"{len(text):,}): split it into several"
            )
        if not is_savable_text(text):
            raise InvalidSettingError("the note holds characters that cannot be saved as UTF-8")
        return text

    @staticmethod
    def checked_position(position: Any) -> Position:
        try:
            x, y = position
        except (TypeError, ValueError):
            raise InvalidSettingError("a note's place is two numbers (x, y)") from None
        if not (is_number(x) and is_number(y)):
            raise InvalidSettingError("a note's place is two finite numbers of sensible size")
        return (float(x), float(y))


GOAL_METRICS = ("accuracy", "token_accuracy", "sequence_accuracy", "mse")


@dataclass(frozen=True)
class Goal:
    """What an exercise asks for: a metric on a fixed evaluation set reaching a threshold.

    The evaluation set is the data's validation part made with ``seed``, not with the
    student's training seed, so that every hand-in is scored on the same examples; ``subset``
    names examples the task marks (``late``: the tagging sentences whose clue comes after the
    name), scored on their own. ``mse`` is met below the threshold, the others at or above."""

    metric: str
    threshold: float
    seed: int = 1234
    subset: str = ""
    text: str = ""  # what the exercise asks, in words

    def met(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return value < self.threshold if self.metric == "mse" else value >= self.threshold

    def describe(self) -> str:
        names = {
            "accuracy": "accuracy",
            "token_accuracy": "token accuracy",
            "sequence_accuracy": "sequences exactly right",
            "mse": "validation MSE",
        }
        where = f" on the '{self.subset}' examples" if self.subset else ""
        target = (
            f"below {self.threshold:g}"
            if self.metric == "mse"
            else f"at least {self.threshold:.0%}"
        )
        return f"{names[self.metric]}{where} {target}"

    def problem(self) -> str | None:
        """Why this cannot be a goal, or None."""
        if self.metric not in GOAL_METRICS:
            return f"a goal's metric is one of {', '.join(GOAL_METRICS)}, not {short(self.metric)}"
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            return f"a goal's threshold is a number, not {short(self.threshold)}"
        if not math.isfinite(self.threshold) or abs(self.threshold) > 1e9:
            return "a goal's threshold must be a finite number"
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**32
        ):
            return f"a goal's seed is a whole number from 0 to 2^32-1, not {short(self.seed)}"
        for name, text in (("subset", self.subset), ("text", self.text)):
            if not isinstance(text, str) or len(text) > MAX_TEXT or not is_savable_text(text):
                return f"a goal's {name} is text of at most {MAX_TEXT:,} characters"
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Project:
    """The events are not fields: a copy (or a project read from a file) has its own, with
    no subscribers."""

    graph: Graph = field(default_factory=Graph)
    title: str = "Untitled"
    description: str = ""
    template: str | None = None
    training: TrainingSettings = field(default_factory=TrainingSettings)
    dataset: DatasetReference | None = None
    # What the file was saved with beside it: digests of its trained weights and its runs, by
    # "weights" / "runs" (``files.companions``). Not what the project means: no event, no undo.
    companions: dict[str, str] = field(default_factory=dict)
    goal: Goal | None = None  # an exercise's, when the project is one
    notes: list[Note] = field(default_factory=list)  # text on the canvas, in drawing order

    def __post_init__(self) -> None:
        self.training_changed = Event("training_changed")  # (name, old, new)
        self.dataset_changed = Event("dataset_changed")  # (old, new): copies, or None
        self.title_changed = Event("title_changed")  # (old, new)
        self.description_changed = Event("description_changed")  # (old, new)
        self.note_added = Event("note_added")  # (note)
        self.note_removed = Event("note_removed")  # (note)
        self.note_changed = Event("note_changed")  # (note_id, old text, new text)
        self.note_moved = Event("note_moved")  # (note_id, old position, new position)

    # --- notes on the canvas ----------------------------------------------------------------

    def note(self, note_id: str) -> Note:
        for note in self.notes:
            if note.id == note_id:
                return note
        raise InvalidSettingError(f"there is no note '{note_id}'")

    def new_note_id(self, taken: Iterable[str] = ()) -> str:
        """A note id no note has, nor any of ``taken`` (ids given out for notes not added yet)."""
        taken = {note.id for note in self.notes} | set(taken)
        number = len(self.notes) + 1
        while f"note_{number}" in taken:
            number += 1
        return f"note_{number}"

    def add_note(self, note: Note, index: int | None = None) -> Note:
        """Put a note on the canvas (a copy of ``note``, at ``index`` in the drawing order:
        undo puts a deleted one back where it was). Raises ``InvalidSettingError`` for a
        note that cannot be: a taken id, text it cannot hold, too many notes."""
        if any(n.id == note.id for n in self.notes):
            raise InvalidSettingError(f"there is already a note '{note.id}'")
        if len(self.notes) >= MAX_NOTES:
            raise InvalidSettingError(f"a canvas holds at most {MAX_NOTES:,} notes")
        if not valid_node_id(note.id):
            raise InvalidSettingError(f"{short(note.id)} cannot be a note's id")
        added = Note(note.id, Note.checked_text(note.text), Note.checked_position(note.position))
        place = len(self.notes) if index is None else max(0, min(index, len(self.notes)))
        self.notes.insert(place, added)
        self.note_added.emit(added)
        return added

    def remove_note(self, note_id: str) -> tuple[int, Note]:
        """Take a note off the canvas; where it was in the drawing order, and the note."""
        note = self.note(note_id)
        index = self.notes.index(note)
        del self.notes[index]
        self.note_removed.emit(note)
        return index, note

    def set_note_text(self, note_id: str, text: str) -> bool:
        return self._set_note(note_id, "text", text, Note.checked_text, self.note_changed)

    def move_note(self, note_id: str, position: Position) -> bool:
        return self._set_note(note_id, "position", position, Note.checked_position, self.note_moved)

    def _set_note(
        self, note_id: str, name: str, value: Any, checked: Callable[[Any], Any], event: Event
    ) -> bool:
        """Set a note's ``name`` to ``value`` as ``checked`` lets it be; False (and no event)
        when it holds that value already."""
        note, value = self.note(note_id), checked(value)
        old = getattr(note, name)
        if old == value:
            return False
        setattr(note, name, value)
        event.emit(note_id, old, value)
        return True

    # --- changes, each checked and announced ------------------------------------------------

    def set_training(self, name: str, value: Any) -> bool:
        """Set one training setting; False (and no event) when it holds that value already.
        Raises ``InvalidSettingError`` for an unknown name or a value it cannot take."""
        value = TrainingSettings.checked(name, value)
        old = getattr(self.training, name)
        if old == value and type(old) is type(value):
            return False
        setattr(self.training, name, value)
        self.training_changed.emit(name, old, value)
        return True

    def set_dataset(self, reference: DatasetReference | None) -> bool:
        """Train on other data (a copy of ``reference`` is kept; None: no data chosen); False
        when it is the same. Raises ``InvalidSettingError`` for a reference that cannot be."""
        return self._change_dataset(DatasetReference.checked(reference))

    def _change_dataset(self, reference: DatasetReference | None) -> bool:
        if reference == self.dataset:
            return False
        old, self.dataset = self.dataset, reference
        self.dataset_changed.emit(old, None if reference is None else reference.copy())
        return True

    def keep_dataset_options(self, options: dict[str, Any]) -> bool:
        """Keep what making the data worked out (an alphabet, a normalisation, the columns
        chosen) in the data options, as the weights trained on it need it; ``path`` is never
        kept (it is where the file was found this time). False when nothing changed."""
        if self.dataset is None:
            return False
        kept = {k: v for k, v in options.items() if k != "path" and not k.startswith("_")}
        changed = DatasetReference(
            self.dataset.kind,
            self.dataset.name,
            {**self.dataset.options, **kept},
            dict(self.dataset.binding),
        )
        return self._change_dataset(changed)  # the task's own values: not checked again

    def set_title(self, title: str) -> bool:
        return self._set_text("title", title, self.title_changed)

    def set_description(self, description: str) -> bool:
        return self._set_text("description", description, self.description_changed)

    @staticmethod
    def checked_text(name: str, text: Any) -> str:
        """``text`` if it can be the project's ``title`` or ``description`` and be saved and
        read back (a file's reader takes at most ``MAX_TEXT`` characters of UTF-8); otherwise
        ``InvalidSettingError`` in words."""
        if not isinstance(text, str):
            raise InvalidSettingError(f"the {name} must be text, not {short(text)}")
        if len(text) > MAX_TEXT:
            raise InvalidSettingError(
                f"the {name} is {len(text):,} characters long; a project file holds at most "
                f"{MAX_TEXT:,}"
            )
        if not is_savable_text(text):
            raise InvalidSettingError(f"the {name} holds characters that cannot be saved as UTF-8")
        if name == "title" and not text.strip():
            raise InvalidSettingError("the title cannot be empty: it names the project")
        return text

    def _set_text(self, name: str, text: str, event: Event) -> bool:
        text = self.checked_text(name, text)
        old = getattr(self, name)
        if old == text:
            return False
        setattr(self, name, text)
        event.emit(old, text)
        return True

    def copy(self) -> Project:
        """An independent copy (for a worker thread): the graph with its validation (the same
        meaning, so not checked again), the settings and data options deep-copied."""
        return replace(
            self,
            graph=self.graph.copy(),
            training=copy.deepcopy(self.training),
            dataset=copy.deepcopy(self.dataset),
            companions=dict(self.companions),
            notes=[Note(n.id, n.text, n.position) for n in self.notes],
        )
