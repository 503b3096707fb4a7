"""The main window: palette (left), canvas (centre), inspector (right), problems (bottom); menus
for projects, editing, views and pictures; the layout and parameter count in the status bar.

The project commands (new, open, save, recent files, export) and the dialogs that wait for the
user are in :class:`~ui.editor.projects.ProjectCommands`; adding, deleting, copying and pasting
nodes in :class:`~ui.editor.canvas_commands.CanvasCommands`; the actions, menus and toolbar in
:class:`~ui.window_actions.WindowActions`.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSpinBox,
    QStackedWidget,
    QTabBar,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.nodes import MAX_STEPS
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import ValidationReport, classify
from ui import themes
from ui.canvas import GraphScene, GraphView
from ui.docks import scrolling
from ui.editor import clipboard
from ui.editor.canvas_commands import CanvasCommands
from ui.editor.data_commands import DataCommands
from ui.editor.document import GraphDocument
from ui.editor.inspector import Inspector
from ui.editor.model_files import ModelFiles
from ui.editor.palette import Palette
from ui.editor.problems import ProblemsPanel
from ui.editor.projects import APP_NAME, ProjectCommands
from ui.training.live import Live
from ui.training.unrolled_view import DRAWN_STEPS, UnrolledScene
from ui.window_actions import WindowActions

# Unsaved work is copied for recovery this long after an edit (a burst of edits is one write):
# a crash loses at most the last second (issue 23: every 30 s, a crash lost up to 30 s).
AUTOSAVE_MS = 1_000
# The bottom docks' share of the window's height when a view that draws (the loss, a heatmap)
# is in front: room for a hidden state heatmap (one row, ``HiddenStateView.ROW_HEIGHT``) under
# its controls in a 1360×840 window; at a fixed 110 px it had about 60 px left. The Problems
# list in front is as tall as its rows (issue 23: 40 % of the window said "No problems").
BOTTOM_SHARE = 0.4
START_HINT = (
    "An empty canvas.\n\n"
    "Drag a node here from the palette, or type its name (Tab lists them all).\n"
    "Start with an input, end with an Output, and drag from a port to wire them;\n"
    "let a wire go on empty canvas to be offered the nodes that can take it."
)
PROBLEM_ROWS_SHOWN = 8  # rows the Problems dock grows to show; more scroll
DEFAULT_STEPS = 5  # T, the unrolled view's steps, as every project opens


class MainWindow(ProjectCommands, CanvasCommands, DataCommands, WindowActions, QMainWindow):
    def __init__(
        self,
        document: GraphDocument,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.settings = settings or QSettings(APP_NAME, APP_NAME)
        self.scene = GraphScene(document, self)
        self.view = GraphView(self.scene)
        self.view.start_hint = START_HINT
        self.unrolled_scene = UnrolledScene(self)
        self.unrolled_scene.notes_of = lambda: self.document.project.notes
        self.unrolled_view = GraphView(self.unrolled_scene, name="unrolled")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.unrolled_view)
        self.setCentralWidget(self.stack)
        self.palette = Palette(document.graph.registry)
        self.inspector = Inspector(document)
        self.problems = ProblemsPanel()
        self.add_dock(self.palette, "Nodes", Qt.DockWidgetArea.LeftDockWidgetArea, "palette_dock")
        self.add_dock(
            scrolling(self.inspector),
            "Inspector",
            Qt.DockWidgetArea.RightDockWidgetArea,
            "inspector_dock",
        )
        self.add_dock(
            self.problems, "Problems", Qt.DockWidgetArea.BottomDockWidgetArea, "problems_dock"
        )
        self.layout_label = QLabel()
        self.layout_label.setObjectName("layout_label")
        self.parameters_label = QLabel()
        self.statusBar().addWidget(self.layout_label, 1)
        self.statusBar().addPermanentWidget(self.parameters_label)
        self.steps = QSpinBox()
        self.steps.setObjectName("unroll_steps")
        self.steps.setRange(1, DRAWN_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setPrefix("T = ")
        self.steps.setToolTip("Time steps to unroll (every time axis)")
        # one box for each axis that sets its own length (a Repeat's, a generating decoder's):
        # an encoder-decoder is drawn with its two lengths, not with T for both (issue 24)
        self.own_axes = QWidget()
        self.own_axes.setObjectName("own_axes")
        QHBoxLayout(self.own_axes).setContentsMargins(4, 0, 0, 0)
        self.axis_steps: dict[str, QSpinBox] = {}
        self._axis_defaults: dict[str, int] = {}
        self.errors: list[tuple[str, str]] = []  # what show_error said, newest last
        self._tabs: list[tuple[QDockWidget, QDockWidget]] = []  # docks to tab on showing
        # the bottom docks are sized to what the one in front shows, once the event loop has
        # laid out what changed (a tab switch, the problems listed again)
        self._bottom_sizing = QTimer(self)
        self._bottom_sizing.setSingleShot(True)
        self._bottom_sizing.setInterval(0)
        self._bottom_sizing.timeout.connect(self.fit_bottom_docks)
        self._make_actions()
        self._make_quick_add()
        self._connect()
        self._make_data_checker()
        self.live = Live(self)  # training, plots, stepping and sampling
        self.model_files = ModelFiles(self)  # export to ONNX / PyTorch, import weights
        # Only now, with every dock tabbed: a dock's toggle action in a menu before it is
        # tabified leaves a stray tab bar on screen (Qt 6.11).
        for dock in self.findChildren(QDockWidget):
            self.view_menu.addAction(dock.toggleViewAction())
            if self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea:
                dock.visibilityChanged.connect(self._bottom_dock_shown)
        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self._write_recovery)
        self.document.undo_stack.indexChanged.connect(self._edited)
        self.document.weights_changed.connect(self._edited)
        self.document.replaced.connect(self._edited)
        self._show_report(self.scene.report)
        self._update_title()
        self._show_load_problems()
        self.resize(1360, 840)
        self._theme = str(self.settings.value("theme", "system"))
        if self._theme not in themes.THEMES:
            self._theme = "system"
        if self._theme != "system":
            self.apply_theme(self._theme)
        self._show_theme()

    def add_dock(
        self, widget: QWidget, title: str, area, name: str, behind: QDockWidget | None = None
    ) -> QDockWidget:
        """A dock for a panel; with ``behind``, as a tab of that dock."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        if behind is not None:
            # Tabbed once the window shows: tab groups made before that leave a stray tab bar
            # on screen (Qt 6.11).
            self._tabs.append((behind, dock))
            if self.isVisible():
                self._make_tabs()
            return dock
        if area != Qt.DockWidgetArea.BottomDockWidgetArea:  # bottom ones: when shown
            self.resizeDocks([dock], [250], Qt.Orientation.Horizontal)
        return dock

    # --- actions --------------------------------------------------------------------------

    def _connect(self) -> None:
        self.scene.validated.connect(self._show_report)
        self.scene.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.scene.selectionChanged.connect(self._selection_changed)
        self.view.node_dropped.connect(self._drop_node)
        self.palette.activated.connect(self._add_in_view)
        self.problems.node_chosen.connect(self.focus_node)
        self.unrolled_scene.nodes_selected.connect(self._unrolled_selection)
        self.steps.valueChanged.connect(lambda _v: self._steps_changed())
        self.document.modified_changed.connect(self._modified_changed)
        self.document.path_changed.connect(self._update_title)
        self.document.title_changed.connect(self._update_title)
        self.document.replaced.connect(self._replaced)
        self._followed_project = None
        self._follow_project()

    def _follow_project(self) -> None:
        """A training setting or the data changes the memory training needs: list it again."""
        project = self.document.project
        if self._followed_project is project:
            return
        notes = ("note_added", "note_removed", "note_changed")
        if self._followed_project is not None:
            self._followed_project.training_changed.unsubscribe(self._settings_changed)
            self._followed_project.dataset_changed.unsubscribe(self._settings_changed)
            for name in notes:
                getattr(self._followed_project, name).unsubscribe(self._notes_changed)
        project.training_changed.subscribe(self._settings_changed)
        project.dataset_changed.subscribe(self._settings_changed)
        for name in notes:  # the unrolled view draws them too
            getattr(project, name).subscribe(self._notes_changed)
        self._followed_project = project

    def _edited(self, *_change) -> None:
        """Copy the work for recovery soon: once, ``AUTOSAVE_MS`` after the first edit of a
        burst (the edits made meanwhile go in the same copy)."""
        if not self.autosave.isActive():
            self.autosave.start()

    def _write_recovery(self) -> None:
        try:
            self.document.write_recovery()
        except (OSError, RNNBuilderError) as error:  # a full disk: said, tried at the next edit
            self.statusBar().showMessage(f"The recovery copy could not be written: {error}", 10000)

    def _notes_changed(self, *_change) -> None:
        if self.unrolled_action.isChecked():
            self.refresh_unrolled()

    def _settings_changed(self, *_change) -> None:
        if self.scene.report is not None:
            self._show_problems(self.scene.report)

    def _show_problems(self, report: ValidationReport) -> None:
        """The panel lists what training needs too (its memory against the machine's budget)
        and the data's problems (:meth:`show_data_problems`, checked against the graph as
        ``report`` found it); the graph's own report stays the one the canvas, stepping and
        the unrolled view use."""
        shown = self.document.validate("train") if report.ok else report
        before = self.problems.topLevelItemCount()
        self.problems.show_report(shown, self.document.graph, self.data_check)
        if self.problems.topLevelItemCount() != before:
            self._bottom_sizing.start()

    def _bottom_dock_shown(self, visible: bool) -> None:
        if visible:
            self._bottom_sizing.start()

    def front_bottom_dock(self) -> QDockWidget | None:
        """The bottom dock whose tab is in front (a tab behind another stays "visible")."""
        for dock in self.findChildren(QDockWidget):
            if (
                self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
                and dock.isVisible()
                and not dock.visibleRegion().isEmpty()
            ):
                return dock
        return None

    def _tab_bar_height(self, dock: QDockWidget) -> int:
        """The height of the tab bar a tabbed dock's tab is on (0 when it has none)."""
        for bar in self.findChildren(QTabBar):
            if bar.isVisible() and any(
                bar.tabText(i) == dock.windowTitle() for i in range(bar.count())
            ):
                return bar.height()
        return 0

    def fit_bottom_docks(self) -> None:
        """Make the bottom docks as tall as the one in front needs: the Problems list its rows
        (a line when there are none), a view that draws ``BOTTOM_SHARE`` of the window (or
        what the user gave it, if more)."""
        dock = self.front_bottom_dock()
        if dock is None or dock.isFloating():
            return
        # resizeDocks sizes the area, a tab group's tab bar with it
        frame = dock.height() - dock.widget().height() + self._tab_bar_height(dock)
        if dock.widget() is self.problems:
            wanted = self.problems.wanted_height(PROBLEM_ROWS_SHOWN) + frame
        else:
            wanted = max(dock.height(), round(self.height() * BOTTOM_SHARE))
        if abs(wanted - dock.height()) > 2:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    # --- what is shown --------------------------------------------------------------------

    def current_view(self) -> GraphView:
        return self.stack.currentWidget()

    def _modified_changed(self, _modified: bool) -> None:
        self._update_title()

    def _update_title(self) -> None:
        # "[*]" is where Qt shows the modified marker ("*"; a dot in the close button on macOS)
        self.setWindowTitle(f"{self.document.display_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.document.modified)

    def _show_report(self, report: ValidationReport | None) -> None:
        if report is None:
            return
        data = self.show_data_problems(report)
        layout = classify(self.document.graph, report)
        if layout is not None:
            project = self.document.project
            # a template's project is its own example; other graphs get the layout's classic one
            summary = f"{layout.title} — {project.title}" if project.template else layout.summary
            self.layout_label.setText(summary + self.data_words(data))
            self.layout_label.setToolTip(layout.explanation)
            self.parameters_label.setText(f"{report.parameter_count:,} parameters")
        else:
            count = len(report.errors)
            self.layout_label.setText(f"{count} problem{'s' if count != 1 else ''} to fix")
            self.layout_label.setToolTip("See the Problems panel")
            self.parameters_label.setText("")
        self._show_problems(report)
        self.inspector.set_report(report)
        self._show_axes(report)
        if self.unrolled_action.isChecked():
            self.refresh_unrolled()

    def _show_axes(self, report: ValidationReport) -> None:
        """T sets the length of the axes whose length comes from the data; each axis that sets
        its own (a Repeat's, a generating decoder's ``steps``) has a box of its own beside it,
        starting at that length (T = 5 was shown, and used, for a Repeat of 4 steps, and an
        encoder-decoder was drawn with one length for both). With no axis of the first kind T
        shows the graph's own length and cannot be changed."""
        own = [a for a in report.axes.values() if a.kind != "input"]
        free = [a for a in report.axes.values() if a.kind == "input"]
        lengths = ", ".join(f"'{a.id}' {a.default_steps} steps (its own)" for a in own)
        tip = "Time steps to unroll the sequences read from the data"
        self.steps.setEnabled(bool(free) or not own)
        if own and not free:
            blocked = self.steps.blockSignals(True)
            self.steps.setValue(own[0].default_steps)
            self.steps.blockSignals(blocked)
            tip = "This graph's time axes set their own lengths"
        limits = (
            f" (1 to {DRAWN_STEPS} drawn here; sequences from the data may have up to "
            f"{MAX_STEPS:,} steps)"
        )
        self.steps.setToolTip(tip + (f": {lengths}" if lengths else "") + limits)
        self._own_axis_boxes(own if free else own[1:])

    def _own_axis_boxes(self, axes) -> None:
        """A box per axis with a length of its own (not the data's), reset to that length when
        the graph's changes; editing one redraws the view only (the node keeps its steps)."""
        wanted = {a.id: a.default_steps for a in axes}
        layout = self.own_axes.layout()
        for axis_id in list(self.axis_steps):
            if axis_id not in wanted:
                box = self.axis_steps.pop(axis_id)
                self._axis_defaults.pop(axis_id, None)
                layout.removeWidget(box)
                box.deleteLater()
        for axis_id, default in wanted.items():
            box = self.axis_steps.get(axis_id)
            if box is None:
                box = QSpinBox()
                box.setObjectName(f"axis_steps_{axis_id}")
                box.setRange(1, DRAWN_STEPS)
                box.setPrefix(f"{axis_id}: ")
                box.setToolTip(
                    f"Steps to draw on the time axis of '{axis_id}' (its own length: "
                    f"{default}; set it in the inspector to change what the network does)"
                )
                box.valueChanged.connect(lambda _v: self._steps_changed())
                layout.addWidget(box)
                self.axis_steps[axis_id] = box
            if self._axis_defaults.get(axis_id) != default:  # the graph's own length changed
                self._axis_defaults[axis_id] = default
                blocked = box.blockSignals(True)
                box.setValue(default)
                box.blockSignals(blocked)
        action = getattr(self, "own_axes_action", None)  # the toolbar's, once it is made
        if action is not None:
            action.setVisible(bool(self.axis_steps))

    def unroll_lengths(self, report: ValidationReport) -> dict[str, int]:
        """The unrolled view's lengths: T for data axes, each other axis its own box's."""
        lengths = {a.id: self.steps.value() for a in report.axes.values() if a.kind == "input"}
        for axis in report.axes.values():
            box = self.axis_steps.get(axis.id)
            if axis.kind != "input" and box is not None:
                lengths[axis.id] = box.value()
        return lengths

    def _selection_changed(self) -> None:
        chosen = self.scene.selected_node_ids()
        self.inspector.show_node(chosen[0] if len(chosen) == 1 else None, len(chosen))
        self.unrolled_scene.select_nodes(chosen)

    def _unrolled_selection(self, node_ids: set[str]) -> None:
        self.scene.select_nodes(node_ids)

    def focus_node(self, node_id: str) -> None:
        item = self.scene.node_items.get(node_id)
        if item is None:
            return
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        self.scene.select_nodes([node_id])
        self.view.centerOn(item)

    def fit(self) -> None:
        self.current_view().fit_to_contents()

    def _make_tabs(self) -> None:
        for behind, dock in self._tabs:
            self.tabifyDockWidget(behind, dock)
        for behind, _dock in self._tabs:
            behind.raise_()  # the first of each group stays in front
        self._tabs = []

    def showEvent(self, event) -> None:  # fit once the view has its real size
        super().showEvent(event)
        self._make_tabs()
        self.fit_bottom_docks()
        self.view.fit_to_contents()

    # --- unrolled view --------------------------------------------------------------------

    def set_unrolled(self, on: bool, steps: int | None = None) -> None:
        if steps is not None:
            self.steps.setValue(steps)
        if self.unrolled_action.isChecked() != on:
            self.unrolled_action.setChecked(on)  # comes back here through toggled
            return
        if on:
            self.refresh_unrolled()
            self.stack.setCurrentWidget(self.unrolled_view)
            self.unrolled_scene.select_nodes(self.scene.selected_node_ids())
            self.unrolled_view.fit_to_contents()
        else:
            self.stack.setCurrentWidget(self.view)

    def _steps_changed(self) -> None:
        """A new T: the unrolled view shows T steps (ending a walk through one example,
        whose length is the example's)."""
        if getattr(self, "live", None) is not None and self.live.stepper is not None:
            self.live.stop_stepping()  # draws the view again, with T steps
        else:
            self.refresh_unrolled()

    def refresh_unrolled(self) -> None:
        if not self.unrolled_action.isChecked():
            return
        live = getattr(self, "live", None)
        if live is not None and live.stepper is not None:  # the view shows the walk's network
            live.redraw_stepping()
            return
        graph, report = self.document.graph, self.scene.report
        if report is None or not report.ok:
            self.unrolled_scene.show_unrolled(
                graph,
                None,
                "The graph has problems to fix before it can be unrolled (see the Problems panel).",
            )
            return
        try:
            unrolled = unroll(graph, self.unroll_lengths(report), report)
        except RNNBuilderError as error:
            self.unrolled_scene.show_unrolled(graph, None, str(error))
            return
        self.unrolled_scene.show_unrolled(graph, unrolled)
        self.unrolled_scene.select_nodes(self.scene.selected_node_ids())

    def _replaced(self) -> None:
        # another project: T and each axis's own box start again at their defaults (they kept
        # the last project's values, issue 23)
        blocked = self.steps.blockSignals(True)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.blockSignals(blocked)
        self._axis_defaults.clear()
        self._follow_project()
        self.inspector.show_node(None)
        self._show_report(self.scene.report)
        self.view.fit_to_contents()
        self._update_title()
        self._show_load_problems()

    def _show_load_problems(self) -> None:
        """Say what was left out on opening (weights or runs that could not be used): the
        project opened, so this is a note in the status bar rather than an error box."""
        if self.document.load_problems:
            self.statusBar().showMessage(" ".join(self.document.load_problems), 20000)

    def closeEvent(self, event) -> None:
        if self.may_discard_changes():
            self.document.discard_recovery()
            event.accept()
        else:
            event.ignore()

    def shutdown(self) -> None:
        """Take the scenes down while Python is alive: scenes holding Python-made items must
        not be left for the interpreter's exit, which destroys them in no safe order."""
        self.autosave.stop()
        self.data_checker.detach()
        self.live.shutdown()
        clipboard.keep_as_text()
        self.scene.detach()
        for view in (self.view, self.unrolled_view):
            view.setScene(None)
        for scene in (self.scene, self.unrolled_scene):
            scene.clearSelection()
            scene.clear()

    # --- themes ---------------------------------------------------------------------------

    def _show_theme(self) -> None:
        """View → Theme ticks the theme in use."""
        for action in self.theme_actions.actions():
            action.setChecked(action.objectName() == f"theme_{self._theme}")

    def apply_theme(self, name: str) -> None:
        themes.apply(name)
        self._theme = name
        self._show_theme()
        self.settings.setValue("theme", name)
        self.live.follow_theme()
        for item in self.scene.items():
            item.update()
        self.view.viewport().update()
        self.unrolled_view.viewport().update()
