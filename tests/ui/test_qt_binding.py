"""The Qt binding itself: PySide6 6.12.0 under Python 3.11 drops a reference to None on every
method call that returns nothing, and the interpreter aborts once None's count reaches zero
(after a few thousand paints). pyproject.toml keeps that version out; this test says why if a
broken one comes back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter


def test_calls_returning_nothing_keep_none_alive(qapp):
    image = QImage(20, 20, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.setBrush(QColor("#123456"))
        painter.drawRect(QRectF(0, 0, 5, 5))
    lost = before - sys.getrefcount(None)
    painter.end()
    assert lost < 100, (
        f"this PySide6 loses a reference to None on each call ({lost} in 1000 calls): the app "
        "would abort after a few thousand; install a version pyproject.toml allows"
    )
