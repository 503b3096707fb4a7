"""The application's themes: the system's look, or Fusion in light or dark colours.

Every state a control can be in must show in both: the dark palette gives its disabled group
dimmer text (without it a disabled Undo or Stop looked exactly like an enabled one), and
:class:`VisibleIndicators` draws the frame of an unchecked box, which Fusion draws in its
window colour darkened — on a dark palette, the colour of the box's inside.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

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
        app.setStyle(VisibleIndicators(QStyleFactory.create("Fusion")))  # the app owns it
        app.setPalette(dark_palette() if name == "dark" else light_palette())


_SYSTEM: dict = {}  # the palette and style the app started with, to go back to


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    palette = QPalette()
    roles, groups = QPalette.ColorRole, QPalette.ColorGroup
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
        (roles.BrightText, "#ffffff"),
        (roles.Highlight, "#4f6fd6"),
        (roles.HighlightedText, "#ffffff"),
        (roles.PlaceholderText, "#8a9099"),
        (roles.Link, "#8fb0ff"),
        (roles.LinkVisited, "#b59cf0"),
        # the shades Fusion draws bevels, frames and separators with (QPalette's defaults
        # are a light theme's: white bevels on dark buttons)
        (roles.Light, "#4a4f57"),
        (roles.Midlight, "#3d4148"),
        (roles.Mid, "#2a2d32"),
        (roles.Dark, "#1a1c1f"),
        (roles.Shadow, "#111214"),
    ):
        palette.setColor(role, QColor(color))
    # Disabled: text dimmed halfway to the button (contrast ~2:1 with the enabled text, still
    # ~2.4:1 with its background), flatter buttons, no highlight.
    for role, color in (
        (roles.WindowText, "#7d838c"),
        (roles.Text, "#7d838c"),
        (roles.ButtonText, "#7d838c"),
        (roles.Button, "#2e3136"),
        (roles.Base, "#25282c"),
        (roles.Highlight, "#3f444c"),
        (roles.HighlightedText, "#a0a6ae"),
        (roles.PlaceholderText, "#6a7078"),
    ):
        palette.setColor(groups.Disabled, role, QColor(color))
    return palette


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    palette = QPalette(style.standardPalette())
    style.deleteLater()
    return palette


class VisibleIndicators(QProxyStyle):
    """Fusion, with the frame of check boxes and radio buttons (in item views too: Fusion
    draws those as check boxes) drawn again where it would vanish: on a dark palette Fusion's
    frame is ``Window.darker(140)``, within 2 % of ``Base``, the box's fill."""

    FRAMED = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
    )

    def drawPrimitive(self, element, option, painter: QPainter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in self.FRAMED or not is_dark(option.palette):
            return
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        group = QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.translate(0.5, 0.5)  # on the pixels Fusion's own frame took
        painter.setPen(QPen(option.palette.color(group, QPalette.ColorRole.PlaceholderText), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = option.rect.adjusted(0, 0, -1, -1)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
        painter.restore()
