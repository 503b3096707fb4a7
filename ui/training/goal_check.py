"""An exercise's goal in the training panel, met or not: "goal: token accuracy on the 'late'
examples at least 99%: 93.2% (all examples: 98.9%) — not met yet", as ``evaluate`` prints it.

The goal is scored (:func:`rnn_builder.training.goals.evaluate_goal`) when a project with a goal
opens with trained weights, when a run ends (its weights become the document's) and after an
edit that the weights still fit. Scoring makes the goal's evaluation set and runs the network
over it — a second or more for the tagger's — so it runs on a helper thread, on a copy of the
project and of the weights; the GUI thread looks at it every 50 ms (no signal crosses threads,
as in :mod:`ui.editor.model_files`) and shows the line when it is done. A check asked for while
one runs replaces it: the older result is dropped when it arrives.
"""

from __future__ import annotations

import html
from concurrent.futures import Future

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import RNNBuilderError
from rnn_builder.training.goals import GoalResult, evaluate_goal
from ui.editor.data_trust import data_folder

POLL_MS = 50
EDIT_PAUSE_MS = 300  # after an edit, scored again once the edits pause
MET_COLOR, NOT_MET_COLOR = "#2e8b57", "#c0392b"


def score(project, weights, base) -> GoalResult:
    """The goal of ``project`` for the network with ``weights`` (run on the helper thread)."""
    executor = Executor(project.graph, seed=project.training.seed)
    executor.set_parameters(weights, strict=False)
    return evaluate_goal(project, executor, base)


class GoalCheck(QObject):
    def __init__(self, document, session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.session = session
        self.label = QLabel()
        self.label.setObjectName("goal")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.hide()
        self.result: GoalResult | None = None  # the last one shown
        self.state = "none"  # none, untrained, scoring, shown, failed
        self._job: Future | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._look)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.check)
        document.replaced.connect(self.check_soon)
        document.weights_changed.connect(self.check_soon)
        # slots of this object, not lambdas: they go with it, not with the document
        document.undo_stack.indexChanged.connect(self._edited)
        session.state_changed.connect(self._training_state)
        self.check_soon()

    def check_soon(self, delay: int = 0) -> None:
        """Score the goal once the event loop is free (several reasons at once: once)."""
        self._later.start(delay)

    def _edited(self, _index: int) -> None:
        self.check_soon(EDIT_PAUSE_MS)

    def _training_state(self, state: str) -> None:
        if state != "idle" and self.document.project.goal is not None:
            self._job = None  # a result of the weights before this run is no longer news
            self._poll.stop()
            self._show(f"{self._goal_words()} — scored when the run ends", "scoring")

    def check(self) -> None:
        goal = self.document.project.goal
        self._job = None
        self._poll.stop()
        if goal is None:
            self.state = "none"
            self.result = None
            self.label.hide()
            return
        if self.session.running:
            return  # scored when it ends (the document's weights change then)
        weights = self.document.weights_if_they_fit()
        if weights is None:
            self.result = None
            self._show(
                f"{self._goal_words()} — train the network to see whether it is met", "untrained"
            )
            return
        project = self.document.project.copy()
        weights = {name: value.copy() for name, value in weights.items()}
        self._job = one_thread("goal").submit(score, project, weights, data_folder(self.document))
        self._show(f"{self._goal_words()} — scoring…", "scoring")
        self._poll.start()

    def _look(self) -> None:
        job = self._job
        if job is None:
            self._poll.stop()
            return
        if not job.done():
            return
        self._poll.stop()
        self._job = None
        try:
            result = job.result()
        except RNNBuilderError as error:
            self.result = None
            self._show(
                f"{self._goal_words()} — cannot be scored: {html.escape(str(error))}", "failed"
            )
            return
        self.result = result
        color = MET_COLOR if result.met else NOT_MET_COLOR
        self._show(f"<span style='color:{color}'>{html.escape(result.describe())}</span>", "shown")

    def _goal_words(self) -> str:
        return html.escape(f"goal: {self.document.project.goal.describe()}")

    def _show(self, text: str, state: str) -> None:
        """``text`` is rich text (its words escaped by the caller)."""
        self.state = state
        self.label.setText(f"<b>{text}</b>" if state == "shown" else text)
        goal = self.document.project.goal
        self.label.setToolTip(html.escape(goal.text) if goal is not None and goal.text else "")
        self.label.show()

    def plain_text(self) -> str:
        """What the label says, without its markup (for the tests and the status bar)."""
        text = QTextDocument()
        text.setHtml(self.label.text())
        return text.toPlainText()
