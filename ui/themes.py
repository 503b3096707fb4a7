"""The application's themes: the system's look, or Fusion in light or dark colours."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")


def apply(name: str) -> None:
    """Give the whole application the theme ``name`` (one of :data:`THEMES`)."""
    app = QApplication.instance()
    if not _SYSTEM:
        _SYSTEM["palette"] = QPalette(app.palette())
        _SYSTEM["style"] = app.style().name()
    if name == "system":
        app.setStyle(_SYSTEM["style"])
        app.setPalette(_SYSTEM["palette"])
    else:
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if name == "dark" else light_palette())


_SYSTEM: dict = {}  # the palette and style the app started with, to go back to


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#2b2e33"),
        (roles.WindowText, "#e8eaed"),
        (roles.Base, "#1f2226"),
        (roles.AlternateBase, "#2b2e33"),
        (roles.ToolTipBase, "#3a3f46"),
        (roles.ToolTipText, "#e8eaed"),
        (roles.Text, "#e8eaed"),
        (roles.Button, "#33373d"),
        (roles.ButtonText, "#e8eaed"),
        (roles.Highlight, "#4f6fd6"),
        (roles.HighlightedText, "#ffffff"),
        (roles.PlaceholderText, "#8a9099"),
    ):
        palette.setColor(role, QColor(color))
    return palette


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    palette = QPalette(style.standardPalette())
    style.deleteLater()
    return palette
