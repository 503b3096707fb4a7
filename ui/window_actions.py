"""The main window's actions, its menus (File, Edit, View) and its toolbar.

A mixin of :class:`~ui.main_window.MainWindow`: the actions call the window's commands (the
project's, the canvas's, the views') and undo and redo go through the document, which asks its
guard first (a running training).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from ui import themes


class WindowActions:
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
        self.new_blank_action = self.make_action(
            "&New",
            self.new_blank_project,
            key.New,
            "new_blank",
            "Start an empty project: build a network on a blank canvas",
        )
        self.new_action = self.make_action(
            "New from &template…",
            self.new_project,
            "Ctrl+Shift+N",
            "new",
            "Start a project from one of the templates",
        )
        self.open_action = self.make_action("&Open…", self.open_project, key.Open, "open")
        self.save_action = self.make_action("&Save", self.save, key.Save, "save")
        self.save_as_action = self.make_action("Save &as…", self.save_as, key.SaveAs, "save_as")
        self.save_bundle_action = self.make_action(
            "Save as &bundle…", lambda: self.save_bundle(), None, "save_bundle"
        )
        self.save_bundle_action.setStatusTip(
            "One file to hand in or share: the project, its weights, runs and own data (.rnnb)"
        )
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
        self.arrange_action = self.make_action(
            "A&rrange",
            self.arrange,
            "Ctrl+L",
            "arrange",
            "Lay the graph out left to right: inputs left, outputs right, feedback wires "
            "below, no node over another (one undo step)",
        )
        self.add_note_action = self.make_action(
            "Add &note",
            self.add_note,
            None,
            "add_note",
            "Put a note on the canvas to explain the network (or type 'note' on the canvas)",
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
        files.addActions([self.new_blank_action, self.new_action, self.open_action])
        self.recent_menu = files.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        files.addActions([self.save_action, self.save_as_action, self.save_bundle_action])
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
        edit.addSeparator()
        edit.addActions([self.add_note_action, self.arrange_action])
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
        self.theme_actions = QActionGroup(self)  # one checked: the theme in use
        self.theme_actions.setExclusive(True)
        for name in themes.THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setObjectName(f"theme_{name}")
            action.setCheckable(True)
            self.theme_actions.addAction(action)
            action.triggered.connect(lambda _c=False, n=name: self.apply_theme(n))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar")
        toolbar.addActions(
            [self.new_blank_action, self.new_action, self.open_action, self.save_action]
        )
        toolbar.addSeparator()
        toolbar.addActions([self.undo_action, self.redo_action])
        toolbar.addSeparator()
        toolbar.addAction(self.fit_action)
        toolbar.addAction(self.arrange_action)
        toolbar.addAction(self.unrolled_action)
        toolbar.addWidget(self.steps)
        # shown through its action: a toolbar lays out its actions, not its widgets
        self.own_axes_action = toolbar.addWidget(self.own_axes)
        self.own_axes_action.setVisible(bool(self.axis_steps))

    # The menu names what Undo and Redo would do; the toolbar keeps a constant "Undo" / "Redo"
    # (with the full text as its tooltip), so that its buttons do not shift with every edit.
    def _undo_text(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}".rstrip())
        self.undo_action.setToolTip(f"Undo {text}".rstrip())

    def _redo_text(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}".rstrip())
        self.redo_action.setToolTip(f"Redo {text}".rstrip())
