"""The main window: palette (left), canvas (centre), inspector (right), problems (bottom); menus
for projects, editing, views and pictures; the layout and parameter count in the status bar.

The project commands (new, open, save, recent files, export) and the dialogs that wait for the
user are in :class:`~ui.editor.projects.ProjectCommands`.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.nodes import MAX_STEPS
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import ValidationReport, classify
from ui import themes
from ui.canvas import GraphScene, GraphView
from ui.canvas.style import GRID_SIZE, NODE_WIDTH
from ui.docks import scrolling
from ui.editor import clipboard
from ui.editor.document import GraphDocument
from ui.editor.inspector import Inspector
from ui.editor.model_files import ModelFiles
from ui.editor.palette import Palette
from ui.editor.problems import ProblemsPanel
from ui.editor.projects import APP_NAME, ProjectCommands
from ui.training.live import Live
from ui.training.unrolled_view import DRAWN_STEPS, UnrolledScene

AUTOSAVE_MS = 30_000
# The bottom docks' share of the window's height at start: room for a hidden state heatmap
# (one row, ``HiddenStateView.ROW_HEIGHT``) under its controls in a 1360×840 window; at a fixed
# 110 px it had about 60 px left.
BOTTOM_SHARE = 0.4


class MainWindow(ProjectCommands, QMainWindow):
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
        self.unrolled_scene = UnrolledScene(self)
        # the unrolled view is an overview of many copies: Fit may zoom it out all the way
        self.unrolled_view = GraphView(self.unrolled_scene, name="unrolled", min_fit_zoom=0.0)
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
        self.steps.setValue(5)
        self.steps.setPrefix("T = ")
        self.steps.setToolTip("Time steps to unroll (every time axis)")
        self.errors: list[tuple[str, str]] = []  # what show_error said, newest last
        self._tabs: list[tuple[QDockWidget, QDockWidget]] = []  # docks to tab on showing
        self._make_actions()
        self._connect()
        self.live = Live(self)  # training, plots, stepping and sampling
        self.model_files = ModelFiles(self)  # export to ONNX / PyTorch, import weights
        # Only now, with every dock tabbed: a dock's toggle action in a menu before it is
        # tabified leaves a stray tab bar on screen (Qt 6.11).
        for dock in self.findChildren(QDockWidget):
            self.view_menu.addAction(dock.toggleViewAction())
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.document.write_recovery)
        self.autosave.start()
        self._show_report(self.scene.report)
        self._update_title()
        self._show_load_problems()
        self.resize(1360, 840)
        self._theme = str(self.settings.value("theme", "system"))
        if self._theme != "system":
            self.apply_theme(self._theme)

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

    def make_action(self, text: str, slot, shortcut=None, name: str = "", tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if name:
            action.setObjectName(name)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.new_action = self.make_action(
            "&New from template…",
            self.new_project,
            key.New,
            "new",
            "Start a project from one of the templates",
        )
        self.open_action = self.make_action("&Open…", self.open_project, key.Open, "open")
        self.save_action = self.make_action("&Save", self.save, key.Save, "save")
        self.save_as_action = self.make_action("Save &as…", self.save_as, key.SaveAs, "save_as")
        self.export_action = self.make_action(
            "&Picture…", self.export_picture, None, "export", "Save the canvas as PNG or SVG"
        )
        self.export_onnx_action = self.make_action(
            "&ONNX model…",
            lambda: self.model_files.export_onnx(),
            None,
            "export_onnx",
            "Write the network and its trained weights as an ONNX model, checked in ONNX Runtime",
        )
        self.export_pytorch_action = self.make_action(
            "&PyTorch project…",
            lambda: self.model_files.export_pytorch(),
            None,
            "export_pytorch",
            "Write a PyTorch project folder (model.py, weights, data, train.py for torchrun)",
        )
        self.import_weights_action = self.make_action(
            "&Import weights…",
            lambda: self.model_files.import_weights(),
            None,
            "import_weights",
            "Load trained weights from .npz, the PyTorch export's .safetensors or a checkpoint",
        )
        self.quit_action = self.make_action("&Quit", self.close, key.Quit, "quit")
        # Undo and redo go through the document, which asks the guard first (training).
        stack = self.document.undo_stack
        self.undo_action = self.make_action("&Undo", self.document.undo, key.Undo, "undo")
        self.redo_action = self.make_action("&Redo", self.document.redo, key.Redo, "redo")
        # every binding of the platform (Ctrl+Shift+Z and Ctrl+Y), not only the first
        self.undo_action.setShortcuts(key.Undo)
        self.redo_action.setShortcuts(key.Redo)
        stack.canUndoChanged.connect(self.undo_action.setEnabled)
        stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_action.setIconText("Undo")
        self.redo_action.setIconText("Redo")
        stack.undoTextChanged.connect(self._undo_text)
        stack.redoTextChanged.connect(self._redo_text)
        self.undo_action.setEnabled(stack.canUndo())
        self.redo_action.setEnabled(stack.canRedo())
        self.cut_action = self.make_action("Cu&t", self.cut, key.Cut, "cut")
        self.copy_action = self.make_action("&Copy", self.copy, key.Copy, "copy")
        self.paste_action = self.make_action("&Paste", self.paste, key.Paste, "paste")
        self.duplicate_action = self.make_action(
            "&Duplicate", self.duplicate, "Ctrl+D", "duplicate"
        )
        self.delete_action = self.make_action(
            "De&lete",
            self.delete_selection,
            key.Delete,
            "delete",
            "Delete the selected nodes and wires",
        )
        self.delete_action.setShortcuts([QKeySequence(key.Delete), QKeySequence("Backspace")])
        self.select_all_action = self.make_action(
            "Select &all", self.select_all, key.SelectAll, "select_all"
        )
        self.fit_action = self.make_action("&Fit to view", self.fit, "F", "fit")
        self.zoom_in_action = self.make_action(
            "Zoom &in", lambda: self.current_view().zoom_in(), key.ZoomIn, "zoom_in"
        )
        self.zoom_out_action = self.make_action(
            "Zoom &out", lambda: self.current_view().zoom_out(), key.ZoomOut, "zoom_out"
        )
        self.unrolled_action = QAction("&Unrolled view", self)
        self.unrolled_action.setObjectName("unrolled_toggle")
        self.unrolled_action.setCheckable(True)
        self.unrolled_action.setShortcut(QKeySequence("Ctrl+U"))
        self.unrolled_action.setToolTip("Show the network unrolled over T time steps")
        self.unrolled_action.toggled.connect(lambda on: self.set_unrolled(on))
        self.addAction(self.unrolled_action)
        self.snap_action = QAction("Snap to &grid", self)
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(True)
        self.snap_action.toggled.connect(lambda on: setattr(self.scene, "snap", on))

        menu = self.menuBar()
        files = menu.addMenu("&File")
        files.addActions([self.new_action, self.open_action])
        self.recent_menu = files.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        files.addActions([self.save_action, self.save_as_action])
        files.addSeparator()
        self.export_menu = files.addMenu("&Export")
        self.export_menu.addActions(
            [self.export_action, self.export_onnx_action, self.export_pytorch_action]
        )
        files.addAction(self.import_weights_action)
        files.addSeparator()
        files.addAction(self.quit_action)
        edit = menu.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        edit.addActions(
            [
                self.cut_action,
                self.copy_action,
                self.paste_action,
                self.duplicate_action,
                self.delete_action,
                self.select_all_action,
            ]
        )
        views = self.view_menu = menu.addMenu("&View")
        views.addActions(
            [
                self.unrolled_action,
                self.fit_action,
                self.zoom_in_action,
                self.zoom_out_action,
                self.snap_action,
            ]
        )
        theme_menu = views.addMenu("&Theme")
        for name in themes.THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setObjectName(f"theme_{name}")
            action.triggered.connect(lambda _c=False, n=name: self.apply_theme(n))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar")
        toolbar.addActions([self.new_action, self.open_action, self.save_action])
        toolbar.addSeparator()
        toolbar.addActions([self.undo_action, self.redo_action])
        toolbar.addSeparator()
        toolbar.addAction(self.fit_action)
        toolbar.addAction(self.unrolled_action)
        toolbar.addWidget(self.steps)

    # The menu names what Undo and Redo would do; the toolbar keeps a constant "Undo" / "Redo"
    # (with the full text as its tooltip), so that its buttons do not shift with every edit.
    def _undo_text(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}".rstrip())
        self.undo_action.setToolTip(f"Undo {text}".rstrip())

    def _redo_text(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}".rstrip())
        self.redo_action.setToolTip(f"Redo {text}".rstrip())

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
        layout = classify(self.document.graph, report)
        if layout is not None:
            project = self.document.project
            # a template's project is its own example; other graphs get the layout's classic one
            summary = f"{layout.title} — {project.title}" if project.template else layout.summary
            self.layout_label.setText(summary)
            self.layout_label.setToolTip(layout.explanation)
            self.parameters_label.setText(f"{report.parameter_count:,} parameters")
        else:
            count = len(report.errors)
            self.layout_label.setText(f"{count} problem{'s' if count != 1 else ''} to fix")
            self.layout_label.setToolTip("See the Problems panel")
            self.parameters_label.setText("")
        self.problems.show_report(report, self.document.graph)
        self.inspector.set_report(report)
        self._show_axes(report)
        if self.unrolled_action.isChecked():
            self.refresh_unrolled()

    def _show_axes(self, report: ValidationReport) -> None:
        """T sets the length of the axes whose length comes from the data; a Repeat or a
        generating decoder keeps its own ``steps``, and the box says so (it showed T = 5 for a
        Repeat of 4 steps). With no axis of the first kind the box shows the graph's own length
        and cannot be changed."""
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

    def unroll_lengths(self, report: ValidationReport) -> dict[str, int]:
        """The unrolled view's lengths: T for data axes, their own for the others."""
        return {a.id: self.steps.value() for a in report.axes.values() if a.kind == "input"}

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
        if self._tabs:  # the first showing: the bottom docks' height, for the window's
            problems = self.findChild(QDockWidget, "problems_dock")
            self.resizeDocks(
                [problems], [round(self.height() * BOTTOM_SHARE)], Qt.Orientation.Vertical
            )
        self._make_tabs()
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

    # --- editing --------------------------------------------------------------------------

    def _drop_node(self, type_name: str, position: QPointF) -> None:
        snapped = self.scene.snapped(position)
        self._add(type_name, (snapped.x(), snapped.y()))

    def _add_in_view(self, type_name: str) -> None:
        """From the palette without a drag: near the view's centre, in free space."""
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        spot = self.scene.free_spot(type_name, centre)
        self._add(type_name, (spot.x(), spot.y()))

    def _add(self, type_name: str, position: tuple[float, float]) -> None:
        try:
            node_id = self.document.add_node(type_name, position)
        except RNNBuilderError as error:
            self.show_error("Cannot add the node", str(error))
            return
        if node_id is None:
            return
        if self.unrolled_action.isChecked():
            self.unrolled_action.setChecked(False)
        self.scene.select_nodes([node_id])

    def delete_selection(self) -> None:
        if self.unrolled_action.isChecked():
            return
        self.document.remove(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        self.scene.select_nodes(self.document.graph.nodes)

    def copy(self) -> None:
        node_ids = self.scene.selected_node_ids()
        if node_ids:
            clipboard.put(clipboard.selection_as_json(self.document.graph, node_ids))

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self, offset: tuple[float, float] = (40.0, 40.0)) -> None:
        self._paste_json(clipboard.text(), offset)

    def duplicate(self) -> None:
        """Copies of the selection beside it (to the right, or the nearest free place)."""
        node_ids = self.scene.selected_node_ids()
        if node_ids:
            text = clipboard.selection_as_json(self.document.graph, node_ids)
            left = min(self.document.graph.node(n).position[0] for n in node_ids)
            right = max(self.scene.node_items[n].pos().x() + NODE_WIDTH for n in node_ids)
            self._paste_json(text, (right - left + GRID_SIZE * 2, 0.0), "Duplicate")

    def _paste_json(self, raw: str, offset: tuple[float, float], text: str = "Paste") -> None:
        try:
            selection = clipboard.selection_from_json(raw)
            if selection is None:
                return  # not ours: nothing to paste
            offset = self.scene.free_offset(selection[0], offset)  # never on top of nodes
            new_ids = self.document.paste(*selection, offset, text)
        except (ValueError, KeyError, TypeError, RNNBuilderError) as error:
            self.show_error("Cannot paste", f"The clipboard does not hold nodes that fit: {error}")
            return
        self.scene.select_nodes(new_ids)

    def _replaced(self) -> None:
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
        self.live.shutdown()
        clipboard.keep_as_text()
        self.scene.detach()
        for view in (self.view, self.unrolled_view):
            view.setScene(None)
        for scene in (self.scene, self.unrolled_scene):
            scene.clearSelection()
            scene.clear()

    # --- themes ---------------------------------------------------------------------------

    def apply_theme(self, name: str) -> None:
        themes.apply(name)
        self._theme = name
        self.settings.setValue("theme", name)
        self.live.follow_theme()
        for item in self.scene.items():
            item.update()
        self.view.viewport().update()
        self.unrolled_view.viewport().update()
