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


class TemplateGallery(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gallery")
        self.setWindowTitle("New project from a template")
        self.resize(640, 520)
        self.list = QListWidget()
        self.list.setObjectName("gallery_list")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        for template in TEMPLATES.values():
            kind = LAYOUT_KINDS[template.layout]
            # the template is its own example: "e.g. named-entity recognition" under a
            # language model misled more than it explained
            item = QListWidgetItem(f"{template.title}  —  {kind.title}\n{template.description}")
            item.setData(NAME_ROLE, template.name)
            item.setToolTip(kind.explanation)
            self.list.addItem(item)
            if template.name == DEFAULT_TEMPLATE:
                self.list.setCurrentItem(item)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Each template is a ready network with a task to train on."))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None


class ExerciseGallery(QDialog):
    """File → New exercise…: the exercises a teacher can set, each a project with a goal that
    the app (and ``evaluate``) checks; the assignment under its title."""

    NAME_ROLE = NAME_ROLE

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exercises")
        self.setWindowTitle("New exercise")
        self.resize(640, 480)
        self.list = QListWidget()
        self.list.setObjectName("exercise_list")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        for exercise in EXERCISES.values():
            goal = exercise.build().goal
            item = QListWidgetItem(f"{exercise.title}\n{exercise.text}\nGoal: {goal.describe()}")
            item.setData(NAME_ROLE, exercise.name)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Each exercise is a project with a goal: change the network or its settings, "
                "train, and the Training panel says whether the goal is met."
            )
        )
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None
