"""Presentation mode and the text size, for a lecture on a projector.

* **Presentation mode** (View → Presentation mode, F11; Esc or F11 again leaves): the window
  goes full screen with only the canvas or the unrolled view in it — no menus, toolbars, docks
  or status bar — the graph zoomed to fill the screen (and kept filling it as the window
  manager resizes the window), and the text at least 150 %. Every shortcut still works in it:
  Ctrl+U switches between the canvas and the unrolled view, Ctrl+Right steps. Leaving puts back
  the window, its docks and toolbars and the text size as they were.
* **Text size** (View → Text size: 100 % to 200 %, kept in the settings): the application's
  font (every panel, list and menu), the plots' titles, axes and legends, and the graph views'
  zoom and the smallest text they draw (:func:`ui.canvas.style.text_scale`), all scaled by it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDockWidget, QFrame, QMenu, QToolBar

from ui.canvas.style import TEXT_SIZES, set_text_scale, text_scale
from ui.training.plots import follow_palette

PRESENTATION_TEXT = 1.5  # presentation mode's least text size
_BASE_FONT: dict[str, QFont] = {}  # the application's font at 100 %, as the app started


def _base_font() -> QFont:
    if "font" not in _BASE_FONT:
        _BASE_FONT["font"] = QFont(QApplication.font())
    return _BASE_FONT["font"]


class Presentation(QObject):
    def __init__(self, window, view_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.action = QAction("&Presentation mode", window)
        self.action.setObjectName("presentation")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.action.setToolTip(
            "Only the canvas or the unrolled view, full screen, filled, with larger text "
            "(F11 or Esc leaves)"
        )
        self.action.toggled.connect(self.set_presenting)
        window.addAction(self.action)  # works with the menu bar hidden
        self.leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self.leave.setEnabled(False)
        self.leave.activated.connect(lambda: self.action.setChecked(False))
        self._saved: dict | None = None
        view_menu.addAction(self.action)
        sizes = view_menu.addMenu("Te&xt size")
        self.size_actions = QActionGroup(window)
        self.size_actions.setExclusive(True)
        for scale in TEXT_SIZES:
            action = sizes.addAction(f"{scale:.0%}")
            action.setObjectName(f"text_size_{round(scale * 100)}")
            action.setCheckable(True)
            self.size_actions.addAction(action)
            action.triggered.connect(lambda _c=False, s=scale: self.set_text_size(s))
        saved = window.settings.value("text_size", 1.0)
        try:
            scale = float(saved)
        except (TypeError, ValueError):
            scale = 1.0
        self.set_text_size(scale if scale in TEXT_SIZES else 1.0, remember=False)

    @property
    def presenting(self) -> bool:
        return self._saved is not None

    # --- text size ---------------------------------------------------------------------------

    def set_text_size(self, scale: float, remember: bool = True) -> None:
        """Scale every view's text by ``scale`` (1.0: 100 %); kept in the settings unless
        ``remember`` is False (presentation mode's own size is not the user's choice)."""
        ratio = scale / text_scale()
        set_text_scale(scale)
        font = QFont(_base_font())
        font.setPointSizeF(_base_font().pointSizeF() * scale)
        QApplication.setFont(font)
        window = self.window
        for view in (window.view, window.unrolled_view):
            if view.fills:
                view.fit_to_contents()
            elif abs(ratio - 1) > 1e-9:
                view.set_zoom(view.zoom() * ratio)
            for item in view.scene().items():
                item.update()
        window.refresh_unrolled()  # its boxes hold the larger text
        follow_palette(window)
        for action in self.size_actions.actions():
            action.setChecked(action.objectName() == f"text_size_{round(scale * 100)}")
        if remember:
            window.settings.setValue("text_size", scale)

    # --- presentation mode --------------------------------------------------------------------

    def set_presenting(self, on: bool) -> None:
        if on == self.presenting:
            return
        if on:
            self._enter()
        else:
            self._leave()

    def _enter(self) -> None:
        window = self.window
        docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
        self._saved = {
            "geometry": window.saveGeometry(),
            "maximized": window.isMaximized(),
            "full_screen": window.isFullScreen(),
            "docks": docks,
            "in_front": [d for d in docks if not d.visibleRegion().isEmpty()],
            "toolbars": [t for t in window.findChildren(QToolBar) if t.isVisible()],
            "menu_bar": window.menuBar().isVisible(),
            "status_bar": window.statusBar().isVisible(),
            "text_size": text_scale(),
            "frame": window.view.frameShape(),
        }
        for widget in (*docks, *self._saved["toolbars"]):
            widget.hide()
        window.menuBar().hide()
        window.statusBar().hide()
        for view in (window.view, window.unrolled_view):
            view.fills = True
            view.setFrameShape(QFrame.Shape.NoFrame)  # edge to edge
        self.leave.setEnabled(True)
        self.set_text_size(max(text_scale(), PRESENTATION_TEXT), remember=False)
        window.showFullScreen()
        window.current_view().fit_to_contents()
        window.current_view().setFocus()

    def _leave(self) -> None:
        window, saved = self.window, self._saved
        self._saved = None
        self.leave.setEnabled(False)
        for view in (window.view, window.unrolled_view):
            view.fills = False
            view.setFrameShape(saved["frame"])
        if saved["full_screen"]:  # it was full screen before: it stays so
            pass
        elif saved["maximized"]:
            window.showMaximized()
        else:
            window.showNormal()
            window.restoreGeometry(saved["geometry"])
        window.menuBar().setVisible(saved["menu_bar"])
        window.statusBar().setVisible(saved["status_bar"])
        for widget in (*saved["toolbars"], *saved["docks"]):
            widget.show()
        for dock in saved["in_front"]:  # the tabs that were in front, in front again
            dock.raise_()
        self.set_text_size(saved["text_size"], remember=False)
        window.current_view().fit_to_contents()
