"""The template gallery: a new project from one of the five classic layouts or the extras, each
with its layout, what it demonstrates and its example application; and the exercises' list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.files.exercises import EXERCISES
from rnn_builder.files.templates import DEFAULT_TEMPLATE, TEMPLATES
from rnn_builder.graph.layouts import LAYOUT_KINDS

NAME_ROLE = Qt.ItemDataRole.UserRole + 3


class _Gallery(QDialog):
    """A list of things to start from, each named by ``NAME_ROLE``: OK or a double click takes
    the current one (``chosen``)."""

    NAME_ROLE = NAME_ROLE

    def __init__(
        self, parent: QWidget | None, *, name: str, title: str, height: int, intro: str
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.resize(640, height)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(intro))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def add(self, text: str, name: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(NAME_ROLE, name)
        self.list.addItem(item)
        return item

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None


class TemplateGallery(_Gallery):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            name="gallery",
            title="New project from a template",
            height=520,
            intro="Each template is a ready network with a task to train on.",
        )
        self.list.setObjectName("gallery_list")
        for template in TEMPLATES.values():
            kind = LAYOUT_KINDS[template.layout]
            # the template is its own example: "e.g. named-entity recognition" under a
            # language model misled more than it explained
            item = self.add(
                f"{template.title}  —  {kind.title}\n{template.description}", template.name
            )
            item.setToolTip(kind.explanation)
            if template.name == DEFAULT_TEMPLATE:
                self.list.setCurrentItem(item)


class ExerciseGallery(_Gallery):
    """File → New exercise…: the exercises a teacher can set, each a project with a goal that
    the app (and ``evaluate``) checks; the assignment under its title."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            name="exercises",
            title="New exercise",
            height=480,
            intro="Each exercise is a project with a goal: change the network or its settings, "
            "train, and the Training panel says whether the goal is met.",
        )
        self.list.setObjectName("exercise_list")
        for exercise in EXERCISES.values():
            goal = exercise.build().goal
            self.add(f"{exercise.title}\n{exercise.text}\nGoal: {goal.describe()}", exercise.name)
        self.list.setCurrentRow(0)
