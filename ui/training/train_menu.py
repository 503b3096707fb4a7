"""The Train menu: start or continue, from scratch, pause, stop and one batch; the data view and
fitting the graph to the data; sampling. Its items follow the training's state as the panel's
buttons do, so that the menu never offers what the panel would refuse.

Made by :class:`ui.training.live.Live`, which gives it what its items run.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject


class TrainMenu(QObject):
    """The Train menu's actions, in the window's menu bar (made by the window's
    ``make_action``, so that their shortcuts work wherever the focus is)."""

    def __init__(
        self,
        window,
        session,
        pause_or_resume: Callable[[], None],
        sample: Callable[[], None],
        open_data_view: Callable[[], object],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.window, self.session = window, session
        menu = window.menuBar().addMenu("&Train")
        self.train_action = window.make_action(
            "&Start training", session.start, "F5", "train", "Train in the background"
        )
        self.scratch_action = window.make_action(
            "Train from s&cratch",
            session.from_scratch,
            "Ctrl+F5",
            "train_scratch_action",
            "Train again from fresh weights, not on from the trained ones",
        )
        self.pause_action = window.make_action(
            "&Pause / resume", pause_or_resume, "F6", "train_pause_resume"
        )
        self.stop_action = window.make_action(
            "S&top training", lambda: session.stop(wait=False), "Shift+F5", "train_stop_action"
        )
        self.batch_action = window.make_action(
            "&One batch", session.one_batch, "F7", "train_one_batch_action"
        )
        self.sample_action = window.make_action(
            "S&ample",
            sample,
            None,
            "sample_action",
            "Generate notes or text with the trained network",
        )
        self.data_view_action = window.make_action(
            "Your &data…",
            open_data_view,
            "Ctrl+Shift+D",
            "data_view_action",
            "See a data file as training reads it, choose its columns and options, and use it",
        )
        self.fit_data_action = window.make_action(
            "&Fit graph to data",
            window.fit_to_data,
            None,
            "fit_data_action",
            "Set the inputs' vocabulary or width and the outputs' classes or units to the "
            "data's, and bind each field to its node (one undo step)",
        )
        menu.addActions(
            [
                self.train_action,
                self.scratch_action,
                self.pause_action,
                self.stop_action,
                self.batch_action,
            ]
        )
        menu.addSeparator()
        menu.addActions([self.data_view_action, self.fit_data_action])
        menu.addSeparator()
        menu.addActions([self.sample_action])

        session.state_changed.connect(self._follow_training_state)
        document = window.document
        document.weights_changed.connect(self._follow_training_state)
        document.replaced.connect(self._follow_training_state)
        document.undo_stack.indexChanged.connect(self._follow_training_state)
        self._follow_training_state()

    def _follow_training_state(self, *_changed) -> None:
        """The Train menu as the panel's buttons: Continue or Start, From scratch once trained
        (slots of this object: they go with it, not with the document that outlives it)."""
        running = self.session.state != "idle"
        trained = self.window.document.weights_if_they_fit() is not None
        self.train_action.setText("&Continue training" if trained else "&Start training")
        self.scratch_action.setEnabled(not running and trained)
        self.train_action.setEnabled(not running)
        self.batch_action.setEnabled(not running)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
