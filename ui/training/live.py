"""Training and explaining, attached to the main window: the training panel and the plots as
docks, stepping through one example in the unrolled view, sampling, and the guard that asks to
stop training before the graph is edited.

Kept apart from ``main_window`` (which is about editing) and given the window to work in. The
Train menu (:mod:`ui.training.train_menu`), what a step shows on the unrolled view
(:mod:`ui.training.step_annotations`) and sampling (:mod:`ui.training.sampling`) are modules of
their own; this wires them to the session, the docks and the stepping toolbar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QLabel,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.budget import OUT_OF_MEMORY
from rnn_builder.graph.unroll import UnrolledKey
from rnn_builder.training.summary import LEARNED
from ui.docks import scrolling
from ui.training import sampling
from ui.training.alignment import AlignmentView
from ui.training.analysis import AnalysisContext, structure
from ui.training.data_view import DataView
from ui.training.goal_check import GoalCheck
from ui.training.gradient_flow import GradientFlowView
from ui.training.hidden_state import HiddenStateView
from ui.training.panel import TrainingPanel
from ui.training.plots import LossPlots, follow_palette
from ui.training.probe import Probe, ProbeBox
from ui.training.session import TrainingSession
from ui.training.step_annotations import (
    annotate_outputs,
    forget_values,
    input_reads,
    show_values,
    step_caption,
)
from ui.training.train_menu import TrainMenu

MINIMUM_VIEW_HEIGHT = 48  # a bottom view's least height: its controls' row
# A bottom view's least width. Until the window shows, its docks stand side by side (they are
# tabbed then), and their own minimum widths (the Alignment view's row of controls: 564 px)
# added up would widen the window as it first shows.
MINIMUM_VIEW_WIDTH = 160


class Live(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        document = window.document
        self.session = TrainingSession(document, self)
        self.context = AnalysisContext(document)
        self.panel = TrainingPanel(document, self.session)
        self.goal = GoalCheck(document, self.session, self)  # an exercise's goal, met or not
        self.panel.run_controls.layout().addWidget(self.goal.label)
        self.plots = LossPlots(self.session)
        self.gradients = GradientFlowView(self.session)
        self.probe = Probe(self.context, self)
        self.hidden = HiddenStateView(self.context, self.probe)
        self.alignment = AlignmentView(self.context, self.probe)
        training = QWidget()  # the buttons and progress stay, the rest scrolls
        training.setObjectName("training_dock_body")
        column = QVBoxLayout(training)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.panel.run_controls)
        column.addWidget(scrolling(self.panel), 1)
        window.add_dock(
            training,
            "Training",
            Qt.DockWidgetArea.RightDockWidgetArea,
            "training_dock",
            window.findChild(QDockWidget, "inspector_dock"),
        )
        problems_dock = window.findChild(QDockWidget, "problems_dock")
        self.docks = {}
        for widget, title, name in (
            (self.plots, "Loss", "loss_dock"),
            (self.gradients, "Gradient flow", "gradient_dock"),
            (self.hidden, "Hidden state", "hidden_dock"),
            (self.alignment, "Alignment", "alignment_dock"),
        ):
            # tabbed with Problems, whose short list would otherwise be held as tall as the
            # tallest of these (the window gives them their height when they come in front)
            widget.setMinimumSize(MINIMUM_VIEW_WIDTH, MINIMUM_VIEW_HEIGHT)
            dock = window.add_dock(
                widget, title, Qt.DockWidgetArea.BottomDockWidgetArea, name, problems_dock
            )
            self.docks[name] = dock
        self.docks["hidden_dock"].visibilityChanged.connect(self.hidden.set_seen)
        self.docks["alignment_dock"].visibilityChanged.connect(self.alignment.set_seen)
        self.docks["loss_dock"].visibilityChanged.connect(self.plots.seen_changed)
        self.docks["gradient_dock"].visibilityChanged.connect(self.gradients.seen_changed)
        self.data_view: DataView | None = None
        self.train_menu = TrainMenu(
            window,
            self.session,
            self.panel.run_controls.pause_or_resume,
            self.sample,
            lambda: self.open_data_view(),
            self,
        )
        self.stepper = None
        self._stepping_graph = None
        self._reads: tuple | None = None  # (stepper, names, what its inputs read): see reads()
        self._make_stepping_controls()
        document.guard = self.allow_edit
        self.session.frame.connect(self._frame)
        self.session.started.connect(self._started)
        self.session.finished.connect(self._finished)
        self.session.failed.connect(lambda message: window.show_error("Training", message))
        self.session.confirm_data = window.confirm_outside_data
        self.panel.choose_file.connect(self._choose_file)
        self.panel.sample_box.sample_button.clicked.connect(self.sample)
        document.replaced.connect(self._project_changed)
        document.weights_changed.connect(self._weights_changed)
        window.scene.validated.connect(lambda _report: self._graph_changed())
        self.probe.changed.connect(self._probe_changed)
        self._project_changed()
        self.follow_theme()  # the palette may be dark already (a dark desktop)

    def follow_theme(self) -> None:
        """The application's palette changed: the plots take its colours."""
        follow_palette(self.window)

    # --- training -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop training (waiting for its thread) and reading a data file before the window
        goes."""
        self.session.stop(wait=True)
        self.alignment.shutdown()
        self.panel.detach()
        if self.data_view is not None:
            self.data_view.cancel(quiet=True)

    def allow_edit(self) -> bool:
        """Asked before every edit: while training runs, offer to stop it first."""
        if not self.session.running:
            return True
        if self.window.ask_stop_training():
            self.session.stop(wait=True)
            return True
        self.window.statusBar().showMessage("The graph is training: stop it to edit", 5000)
        return False

    def _started(self) -> None:
        self.plots.redraw()
        dock = self.docks["loss_dock"]
        dock.raise_()
        if dock.height() < 240:  # room for the curves
            self.window.resizeDocks([dock], [280], Qt.Orientation.Vertical)

    def _frame(self, report) -> None:
        self.plots.refresh()
        if self._showing("gradient_dock"):
            self.gradients.redraw()
        if self.hidden.seen or self.alignment.seen:
            self._follow_training()

    def _follow_training(self) -> None:
        """Draw the hidden states and the alignment with the running network's latest
        weights (asked for at every frame that shows them, so that they are copied only for a
        view that is seen)."""
        weights = self.session.weights
        if weights is not None and weights is not self.context.live_weights:
            self.context.live_weights = weights
            if self.hidden.seen:
                self.hidden.redraw()
            else:  # drawn with these when it comes to the front
                self.hidden.stale = True
            if self.alignment.seen:
                self.alignment.redraw()
            else:
                self.alignment.stale = True
        self.session.want_weights()

    def _finished(self, result) -> None:
        self.context.live_weights = None  # the document's weights are the network's again
        self.plots.list_runs(self.session.document.runs)
        self.gradients.refresh()
        self.hidden.refresh()
        self.alignment.refresh()
        if result is not None:
            text = f"Training {result.stopped}: {result.steps} steps in {result.seconds:.1f} s"
            if result.message:
                text += f" — {result.message}"
            self.window.statusBar().showMessage(text, 10000)

    def _showing(self, dock: str) -> bool:
        """Whether a view can be seen (not closed, not a tab behind another)."""
        return not self.docks[dock].visibleRegion().isEmpty()

    def _weights_changed(self) -> None:
        self.stop_stepping()  # what it shows was computed with the old weights
        self.probe.refresh()  # and so was the typed input's prediction
        self.hidden.refresh()
        self.alignment.refresh()

    def _probe_changed(self) -> None:
        """Another example to explain (typed, or back to the validation ones): the walk
        starts again on it at the next step."""
        self.stop_stepping()
        typed = self.context.typed is not None
        self.example.setEnabled(not typed)
        self.example.setToolTip(
            "Clear your input to go back to the validation examples"
            if typed
            else "The validation example to step through"
        )

    def _project_changed(self) -> None:
        self.context.live_weights = None
        self.context.prefetch()  # the data the views draw, made while they are set up
        self._graph_changed()  # the views list the new project's cells before they draw
        self.probe.clear()  # typed for another task
        self.probe_box.follow_project()
        self.stop_stepping()
        if not self.session.running:  # (never running here: opening stops it first)
            self.panel.run_controls.show_document()
        self.plots.list_runs(self.window.document.runs)
        self.hidden.follow_project()
        self.alignment.follow_project()
        self.gradients.refresh()

    def _graph_changed(self) -> None:
        graph = self.window.document.graph
        self.gradients.list_cells(graph)
        self.hidden.list_cells(graph)
        self.alignment.list_nodes(graph)
        if self.stepper is not None and self._stepping_graph != structure(graph):
            self.stop_stepping()

    def _choose_file(self, why: str) -> None:
        """The panel's "Your own file…" (a file is asked for when the view shows none yet)
        or its View button."""
        self.open_data_view(ask=why == "file")

    def _chosen_data_path(self) -> str | None:
        """A file chosen in the app's own dialog: allowed to be read wherever it is."""
        path = self.window.choose_data_path("data")
        if path:
            self.window.document.data_trust.choose(path)
        return path

    def open_data_view(self, ask: bool = False) -> DataView:
        """Show the data view, on the project's file if it trains on one (asked first if it
        is outside the project's folder and not allowed yet); with ``ask``, and no file shown
        yet, ask for one."""
        window = self.window
        if self.data_view is None:
            self.data_view = DataView(window.document, self._chosen_data_path, window)
            self.data_view.used.connect(lambda said: window.statusBar().showMessage(said, 10000))
        view = self.data_view
        reference = window.document.project.dataset
        if (
            view.path is None
            and reference is not None
            and reference.kind != "builtin"
            and window.confirm_outside_data()
        ):
            base = window.document.base()
            path = Path(reference.name)
            if not path.is_absolute() and base is not None:
                path = base / path
            chosen = {k: v for k, v in reference.options.items() if k not in LEARNED}
            view.open_file(path, reference.kind, chosen)
        view.show()
        view.raise_()
        view.activateWindow()
        if ask and view.path is None:
            view.choose_file()
        return view

    def sample(self) -> None:
        """Generate with the network and show it (:func:`ui.training.sampling.sample`)."""
        sampling.sample(self.window, self.context, self.panel.sample_box)

    # --- stepping through one example -------------------------------------------------------

    def _make_stepping_controls(self) -> None:
        window = self.window
        self.example = QSpinBox()
        self.example.setObjectName("step_example")
        self.example.setRange(0, 100_000)
        self.example.setPrefix("example ")
        self.example.setToolTip("The validation example to step through")
        self.example.valueChanged.connect(lambda _v: self.stop_stepping())
        self.back_action = QAction("◀ Step back", window)
        self.back_action.setObjectName("step_back")
        self.back_action.setShortcut(QKeySequence("Ctrl+Left"))
        self.forward_action = QAction("Step ▶", window)
        self.forward_action.setObjectName("step_forward")
        self.forward_action.setShortcut(QKeySequence("Ctrl+Right"))
        self.forward_action.setToolTip(
            "Compute the next step of one example, in the order the network runs (unrolled view)"
        )
        self.reset_action = QAction("Reset", window)
        self.reset_action.setObjectName("step_reset")
        self.back_action.triggered.connect(lambda _c=False: self.step_back())
        self.forward_action.triggered.connect(lambda _c=False: self.step_forward())
        self.reset_action.triggered.connect(lambda _c=False: self.stop_stepping())
        self.step_label = QLabel()
        self.step_label.setObjectName("step_label")
        self.probe_box = ProbeBox(self.probe, "step_probe", QBoxLayout.Direction.LeftToRight)
        # a row of its own: beside the main toolbar, the probe box pushed the step buttons
        # into the overflow menu on a 1360-pixel window
        window.addToolBarBreak()
        toolbar = window.addToolBar("Stepping")
        toolbar.setObjectName("stepping_toolbar")
        toolbar.addWidget(self.example)
        toolbar.addWidget(self.probe_box)
        toolbar.addActions([self.back_action, self.forward_action, self.reset_action])
        toolbar.addWidget(self.step_label)
        window.addActions([self.back_action, self.forward_action])

    def step_forward(self) -> bool:
        if self.stepper is None and not self._start_stepping():
            return False
        if self.stepper.done:
            return False
        return self._walk(lambda stepper: stepper.step())

    def step_back(self) -> bool:
        if self.stepper is None or self.stepper.position == 0:
            return False
        return self._walk(lambda stepper: stepper.back())  # undoes the step: no replay

    def _walk(self, move) -> bool:
        """Move the stepper and show where it is; a step that cannot be computed (the data no
        longer fits the graph) says why and ends stepping."""
        try:
            move(self.stepper)
        except RNNBuilderError as error:
            self.stop_stepping()
            self.window.show_error("Cannot step", str(error))
            return False
        except MemoryError:
            self.stop_stepping()
            self.window.show_error("Cannot step", OUT_OF_MEMORY)
            return False
        self._show_step()
        return True

    def redraw_stepping(self) -> None:
        """The unrolled view is drawn again (a node renamed, the graph validated): draw the
        walk's network and where it is, or end the walk if the network changed."""
        graph = self.window.document.graph
        if self._stepping_graph != structure(graph):
            self.stop_stepping()
            return
        self.window.unrolled_scene.show_unrolled(graph, self.stepper.unrolled)
        self.window.unrolled_scene.show_reads(self.reads())
        if self.stepper.position:
            self._show_step()

    def stop_stepping(self) -> None:
        if self.stepper is None:
            return
        self.stepper = None
        self._reads = None
        self.step_label.setText("")
        scene = self.window.unrolled_scene
        scene.light(())
        scene.clear_annotations()
        scene.show_reads({})
        forget_values(scene.copies)
        self.window.inspector.show_step(None)
        self.window.refresh_unrolled()
        self.alignment.show_walk(None)

    def _start_stepping(self) -> bool:
        window = self.window
        if not window.scene.report or not window.scene.report.ok:
            window.statusBar().showMessage("Fix the graph's problems to step through it", 5000)
            return False
        report = window.document.validate("step")  # one example, in float64: does it fit?
        if not report.ok:
            window.show_error("Cannot step", report.errors[0].message)
            return False
        try:
            self.stepper = self.context.stepper(self.example.value())
        except RNNBuilderError as error:
            window.show_error("Cannot step", str(error))
            return False
        except MemoryError:  # the budget allowed it, but the machine has not got it now
            window.show_error("Cannot step", OUT_OF_MEMORY)
            return False
        self._stepping_graph = structure(window.document.graph)
        window.set_unrolled(True)
        window.unrolled_scene.show_unrolled(window.document.graph, self.stepper.unrolled)
        window.unrolled_scene.show_reads(self.reads())
        window.unrolled_view.fit_to_contents()
        return True

    def _show_step(self) -> None:
        stepper = self.stepper
        scene = self.window.unrolled_scene
        scene.clear_annotations()
        scene.show_reads(self.reads())  # the same each step: no copy is drawn again for it
        current = stepper.steps[stepper.position - 1].copies if stepper.position else ()
        scene.light(current, computed=stepper.details)
        show_values(scene.copies, stepper.details)
        annotate_outputs(scene, stepper, self.window.document.graph, self.context.class_name)
        self.step_label.setText(step_caption(stepper))
        self.window.inspector.show_step(stepper)
        self.alignment.show_walk(stepper)
        # the memory's wires into each computed attention, as bright as it weighed them
        scene.show_alignments(
            {node: weights[:, 0] for node, weights in stepper.alignments.items()},
            stepper.details,
        )

    def reads(self) -> dict[UnrolledKey, str]:
        """What each input copy of the walk reads (:func:`input_reads`: its token, or its
        first values). Worked out once per walk (its example does not change as it steps),
        and again if the data's words change meanwhile."""
        stepper = self.stepper
        if stepper is None:
            return {}
        names = self.context.names()
        if self._reads is not None and self._reads[0] is stepper and self._reads[1] is names:
            return self._reads[2]
        found = input_reads(stepper, names, self.window.unrolled_scene.copies)
        self._reads = (stepper, names, found)
        return found


def ask_stop_training(window) -> bool:
    answer = QMessageBox.question(
        window,
        "Training is running",
        "The network is training. Stop training to edit the graph? (The best weights so far "
        "are kept.)",
    )
    return answer == QMessageBox.StandardButton.Yes
