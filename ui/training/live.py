"""Training and explaining, attached to the main window: the training panel and the plots as
docks, stepping through one example in the unrolled view, sampling, and the guard that asks to
stop training before the graph is edited.

Kept apart from ``main_window`` (which is about editing) and given the window to work in.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.budget import OUT_OF_MEMORY
from rnn_builder.graph.unroll import UnrolledKey
from rnn_builder.training.summary import LEARNED
from rnn_builder.training.tasks import task_of
from ui.docks import scrolling
from ui.editor.data_trust import data_folder
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
        self._make_train_menu()
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

    def _make_train_menu(self) -> None:
        window, session = self.window, self.session
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
            "&Pause / resume", self.panel.run_controls.pause_or_resume, "F6", "train_pause_resume"
        )
        self.stop_action = window.make_action(
            "S&top training", lambda: session.stop(wait=False), "Shift+F5", "train_stop_action"
        )
        self.batch_action = window.make_action(
            "&One batch", session.one_batch, "F7", "train_one_batch_action"
        )
        self.sample_action = window.make_action(
            "S&ample",
            self.sample,
            None,
            "sample_action",
            "Generate notes or text with the trained network",
        )
        self.data_view_action = window.make_action(
            "Your &data…",
            lambda: self.open_data_view(),
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
        """Generate from the panel's prime and temperature, and show the result where the
        user is looking (the status bar) as well as in the panel, brought to the front: from
        the Train menu, a result only in a tab behind the inspector looked like nothing."""
        document = self.window.document
        try:
            self.context.dataset()  # works out what the task needs (a text's alphabet)
            task, options = task_of(document.project, data_folder(document))
            drawn = []  # what each step was drawn from, to show what the temperature does
            text = task.sample(
                self.context.executor(),
                self.panel.sample_box.prime(),
                120,
                self.panel.sample_box.temperature_value(),
                np.random.default_rng(),
                options,
                drawn=drawn,
            )
        except RNNBuilderError as error:
            self.window.show_error("Cannot sample", str(error))
            return
        self.panel.sample_box.show_sample(text, task.sample_note, drawn)
        dock = self.window.findChild(QDockWidget, "training_dock")
        dock.show()
        dock.raise_()
        # the bars and the entropy in view, and the sample's line just above them, once the
        # panel is laid out with them (they were hidden until now)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        dock.findChild(QScrollArea).ensureWidgetVisible(self.panel.sample_box.drawn_view, 0, 26)
        untrained = self.context.live_weights is None and document.weights_if_they_fit() is None
        said = "Sampled from the untrained network" if untrained else "Sampled"
        line = " ".join(text.split())  # the status bar holds one line
        self.window.statusBar().showMessage(
            f"{said}: {line[:90]}{'…' if len(line) > 90 else ''}", 20000
        )

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
        for item in scene.copies.values():
            item.values = None
            item.setToolTip(item.base_tip)
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
        for key, item in scene.copies.items():
            detail = stepper.details.get(key)
            if detail is not None and detail is item.values:
                # computed at an earlier step (a step back drops it, a step forward makes a
                # new one): its tip stands. Written again at every step, the tips took 2.5 s
                # of the 3.5 s of stepping in the translation template's 79-frame animation.
                continue
            item.values = detail
            if detail is not None:
                item.setToolTip(item.base_tip + "<br>" + _values_html(detail))
            else:
                item.setToolTip(item.base_tip + "<br><i>not computed yet</i>")
        for key, detail in stepper.details.items():
            if "prediction" in detail and key in scene.copies:
                truth, right = self._truth(key, detail["prediction"])
                scene.annotate(key, self._prediction_text(key, detail["prediction"]), truth, right)
        where = stepper.steps[stepper.position - 1] if stepper.position else None
        if where is None:
            self.step_label.setText("  step 0: nothing computed")
        else:
            # the segments of the plan being walked, as the unrolled view labels their bands
            segment = step_words(where, stepper.executor.graph)
            step = "" if where.t is None else f" · t = {where.t}"
            self.step_label.setText(f"  {stepper.position}/{len(stepper.steps)} · {segment}{step}")
        self.window.inspector.show_step(stepper)
        self.alignment.show_walk(stepper)
        # the memory's wires into each computed attention, as bright as it weighed them
        scene.show_alignments(
            {node: weights[:, 0] for node, weights in stepper.alignments.items()},
            stepper.details,
        )

    def reads(self) -> dict[UnrolledKey, str]:
        """What each input copy of the walk reads: its token (``paris``, not ``words t=0``),
        or its first values; nothing for a padded step. Worked out once per walk (its example
        does not change as it steps), and again if the data's words change meanwhile."""
        stepper = self.stepper
        if stepper is None:
            return {}
        names = self.context.names()
        if self._reads is not None and self._reads[0] is stepper and self._reads[1] is names:
            return self._reads[2]
        found: dict[UnrolledKey, str] = {}
        for key in self.window.unrolled_scene.copies:
            value = stepper.batch.inputs.get(key.node)
            if value is None:
                continue
            value = np.asarray(value)
            if key.t is not None and value.ndim >= 2 and key.t < value.shape[0]:
                at = value[key.t, 0]
            elif key.t is None and value.ndim == 2:
                at = value[0]
            else:
                continue
            if value.dtype.kind in "iu" and np.ndim(at) == 0:
                if int(at) >= 0:
                    found[key] = names.token_name(int(at))
            else:
                numbers = np.asarray(at, dtype=float).reshape(-1)
                more = "…" if numbers.size > 3 else ""
                found[key] = ", ".join(f"{v:.2f}" for v in numbers[:3]) + more
        self._reads = (stepper, names, found)
        return found

    def _truth(self, key: UnrolledKey, prediction) -> tuple[str, bool | None]:
        """The true label of an output copy, and whether the prediction is it ("" when the
        example has none: a typed input, a padded step)."""
        node = self.window.document.graph.node(key.node)
        target = self.stepper.batch.targets.get(node.params["target"])
        if target is None:
            return "", None
        target = np.asarray(target)
        if key.t is not None:
            if key.t >= target.shape[0]:
                return "", None
            target = target[key.t]
        target = target[0]
        if node.params["loss"] == "cross_entropy":
            truth = int(target)
            if truth < 0:  # a position the loss ignores
                return "", None
            chosen = int(np.asarray(prediction).reshape(-1).argmax())
            right = truth == chosen
            return f"{'✓' if right else '✗'} true: {self.context.class_name(truth)}", right
        values = np.asarray(target, dtype=float).reshape(-1)
        return "true: " + np.array2string(values[:3], precision=2), None

    def _prediction_text(self, key: UnrolledKey, prediction) -> str:
        node = self.window.document.graph.node(key.node)
        values = np.asarray(prediction).reshape(-1)
        if node.params["loss"] == "cross_entropy":
            chosen = int(values.argmax())
            # p as the rest of the app says it: the network's probability, not "71 % sure"
            return f"{self.context.class_name(chosen)} p = {values[chosen]:.2f}"
        return np.array2string(values[:3], precision=2)


def step_words(step, graph) -> str:
    """A step in words: its segment's label, or, for a time step across several segments,
    their nodes in the order they run."""
    if len(step.segments) == 1:
        return step.segments[0].label(graph)
    names = " → ".join(graph.node(n).name for s in step.segments for n in s.nodes)
    return f"{len(step.segments)} segments · {names}"


def _values_html(detail: dict) -> str:
    rows = []
    for name, value in detail.items():
        array = np.asarray(value).reshape(-1)
        shown = np.array2string(array[:8], precision=3, separator=" ")
        more = f" … ({array.size} values)" if array.size > 8 else ""
        rows.append(f"<b>{html.escape(name)}</b> = {html.escape(shown)}{more}")
    return "<br>".join(rows)


def ask_stop_training(window) -> bool:
    answer = QMessageBox.question(
        window,
        "Training is running",
        "The network is training. Stop training to edit the graph? (The best weights so far "
        "are kept.)",
    )
    return answer == QMessageBox.StandardButton.Yes
