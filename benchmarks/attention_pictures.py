"""The pictures of ``benchmarks/attention.py --pictures DIR``: exact-match against the input's
length for each graph, and the alignment of one input for each trained attention (written
letters down, read letters across, darker for more weight). Drawn with Qt offscreen.

    python benchmarks/attention_pictures.py OUTPUT DIR   # again, from what the benchmark printed
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

COLOURS = ["#1f6fb4", "#9bbcd9", "#d0342c", "#eea29d"]


def draw(rows: list[dict], shown: str, folder: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])
    folder.mkdir(parents=True, exist_ok=True)
    trained = [r for r in rows if "by_length" in r]
    paths = [_lengths(trained, folder / "attention_by_length.png")]
    shown_rows = [r for r in trained if "shown" in r]
    if shown_rows:
        paths.append(_alignments(shown_rows, shown, folder / "attention_alignment.png"))
    return paths


def _painter(width: int, height: int):
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return image, painter


def _lengths(trained: list[dict], path: Path) -> Path:
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QPen

    width, height, left, top, plot_w, plot_h = 760, 380, 60, 30, 440, 280
    image, p = _painter(width, height)
    bands = list(trained[0]["by_length"])
    p.setPen(QPen(QColor("#888")))
    for k in range(0, 101, 25):
        y = top + plot_h * (1 - k / 100)
        p.drawLine(QPointF(left, y), QPointF(left + plot_w, y))
        p.drawText(QRectF(0, y - 8, left - 8, 16), Qt.AlignmentFlag.AlignRight, f"{k} %")
    step = plot_w / (len(bands) - 1)
    for i, band in enumerate(bands):
        p.drawText(
            QRectF(left + i * step - 30, top + plot_h + 6, 60, 16),
            Qt.AlignmentFlag.AlignHCenter,
            band,
        )
    p.drawText(
        QRectF(left, top + plot_h + 26, plot_w, 16),
        Qt.AlignmentFlag.AlignHCenter,
        "letters in the input",
    )
    for n, row in enumerate(trained):
        pen = QPen(QColor(COLOURS[n % len(COLOURS)]), 3)
        if row["graph"] == "plain":
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        points = [
            QPointF(left + i * step, top + plot_h * (1 - row["by_length"][band]))
            for i, band in enumerate(bands)
        ]
        for a, b in itertools.pairwise(points):
            p.drawLine(a, b)
        y = top + 20 + 26 * n
        p.drawLine(QPointF(left + plot_w + 20, y), QPointF(left + plot_w + 50, y))
        p.setPen(QPen(QColor("black")))
        name = "Luong" if row["template"] == "translation_attention" else "Bahdanau"
        label = f"{name}, {'with attention' if row['graph'] == 'attention' else 'without'}"
        p.drawText(QRectF(left + plot_w + 58, y - 8, 200, 16), Qt.AlignmentFlag.AlignLeft, label)
    p.setPen(QPen(QColor("black")))
    p.drawText(
        QRectF(left, 4, plot_w, 18), Qt.AlignmentFlag.AlignHCenter, "reversals exactly right"
    )
    p.end()
    image.save(str(path))
    return path


def _alignments(shown_rows: list[dict], letters: str, path: Path) -> Path:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QPen

    cell, margin = 16, 48
    panels = []
    for row in shown_rows:
        written, alignment = row["shown"]
        panels.append((row, [*written, "end"][: len(alignment)], alignment))
    panel_w = margin + cell * len(letters) + 40
    height = margin + 24 + cell * max(len(a) for _, _, a in panels) + 10
    image, p = _painter(panel_w * len(panels), height)
    for k, (row, down, alignment) in enumerate(panels):
        x0, y0 = k * panel_w + margin, margin + 24
        name = "Luong" if row["template"] == "translation_attention" else "Bahdanau"
        p.setPen(QPen(QColor("black")))
        p.drawText(QRectF(x0, 2, cell * len(letters), 16), Qt.AlignmentFlag.AlignHCenter, name)
        for s, letter in enumerate(letters):
            p.drawText(
                QRectF(x0 + s * cell, y0 - 18, cell, 16), Qt.AlignmentFlag.AlignHCenter, letter
            )
        for t, (letter, weights) in enumerate(zip(down, alignment, strict=False)):
            p.setPen(QPen(QColor("black")))
            p.drawText(
                QRectF(x0 - 44, y0 + t * cell, 40, cell), Qt.AlignmentFlag.AlignRight, letter
            )
            for s, weight in enumerate(weights):
                shade = int(255 * (1 - weight))
                p.fillRect(
                    QRectF(x0 + s * cell, y0 + t * cell, cell - 1, cell - 1),
                    QColor(shade, shade, 255),
                )
    p.end()
    image.save(str(path))
    return path


if __name__ == "__main__":
    import json
    import sys

    from attention import SHOWN

    lines = Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()
    printed = [json.loads(line) for line in lines if line.startswith("{")]
    for drawn in draw(printed, SHOWN, Path(sys.argv[2])):
        print(f"drew {drawn}")
