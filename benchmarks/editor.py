"""How the editor copes with big graphs.

    python benchmarks/editor.py [--nodes 500] [--json]

* opening: build the window's scene for a project of ``--nodes`` nodes (a chain of GRU and Dense
  layers, as ``validate_unroll.py`` builds) and draw it once;
* dragging: one node dragged across that canvas with the mouse, 60 moves, each move processed
  and the whole view repainted before the next (a real frame repaints only what changed);
  the slowest and the median frame;
* unrolling: toggling to the unrolled view of a 10-node graph over 50 steps.

Offscreen Qt, in one process; the reference for each row is its budget from issue 5 (1 s to
open, 16 ms a frame, 0.5 s to unroll), printed as a ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from validate_unroll import build

from rnn_builder.files.project import Project
from rnn_builder.files.serialization import load, save
from ui import collector
from ui.editor.document import GraphDocument
from ui.main_window import MainWindow


def window_for(project: Project, folder: str) -> MainWindow:
    settings = QSettings(str(Path(folder) / "bench.ini"), QSettings.Format.IniFormat)
    return MainWindow(GraphDocument(project), settings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    # as main.py: Python's collector only at the event loop's safe points, never on a helper
    # thread, which would destroy Qt objects there (it hung this benchmark: a QObject's
    # destructor on the data thread waited for the interpreter lock, the GUI thread for Qt's)
    collector.install(app)
    folder = tempfile.mkdtemp()
    graph = build(args.nodes)
    for index, node in enumerate(graph):  # a grid, as a person would lay 500 nodes out
        graph.set_position(node.id, ((index % 25) * 240.0, (index // 25) * 180.0))
    path = save(Project(graph=graph, title="big"), Path(folder) / "big.json")

    start = time.perf_counter()
    window = window_for(load(path), folder)
    window.ask_to_save = lambda: "discard"
    window.resize(1360, 840)
    window.show()
    app.processEvents()
    window.view.viewport().repaint()
    open_seconds = time.perf_counter() - start
    gc.freeze()  # as main.py does once the window is up: collections then skip the old objects

    view = window.view
    view.set_zoom(1.0)
    item = window.scene.node_items["cell_10"]
    view.centerOn(item)
    app.processEvents()
    viewport = view.viewport()
    grab = view.mapFromScene(item.mapToScene(QPointF(60, 12)))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, grab)
    frames = []
    for k in range(1, 61):
        start = time.perf_counter()
        QTest.mouseMove(viewport, grab + QPointF(4 * k, 2 * k).toPoint())
        viewport.repaint()  # the whole view, at once: more than a real frame repaints
        frames.append(time.perf_counter() - start)
    QTest.mouseRelease(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        grab + QPointF(240, 120).toPoint(),
    )
    moved = window.document.graph.node("cell_10").position
    window.shutdown()
    window.close()

    small = window_for(Project(graph=build(10), title="small"), folder)
    small.ask_to_save = lambda: "discard"
    small.show()
    small.steps.setValue(50)
    app.processEvents()
    start = time.perf_counter()
    small.unrolled_action.trigger()
    app.processEvents()
    small.unrolled_view.viewport().repaint()
    unroll_seconds = time.perf_counter() - start
    copies = len(small.unrolled_scene.copies)
    small.shutdown()
    small.close()

    rows = {
        "nodes": args.nodes,
        "open_ms": round(open_seconds * 1000, 1),
        "frame_median_ms": round(statistics.median(frames) * 1000, 2),
        "frame_max_ms": round(max(frames) * 1000, 2),
        "unroll_ms": round(unroll_seconds * 1000, 1),
        "unrolled_copies": copies,
        "moved_to": moved,
        "frames_ms": [round(f * 1000, 1) for f in frames],
    }
    if args.json:
        print(json.dumps(rows))
        return 0
    print(
        f"open a {args.nodes}-node project:        {rows['open_ms']:8.1f} ms "
        f"({open_seconds / 1.0:.2f} of the 1 s budget)"
    )
    print(
        f"drag one node, median frame:      {rows['frame_median_ms']:8.2f} ms "
        f"({statistics.median(frames) / 0.016:.2f} of 16 ms)"
    )
    print(
        f"drag one node, slowest frame:     {rows['frame_max_ms']:8.2f} ms "
        f"({max(frames) / 0.016:.2f} of 16 ms)"
    )
    print(
        f"unrolled view, 10 nodes x 50 steps ({copies} copies): {rows['unroll_ms']:8.1f} ms "
        f"({unroll_seconds / 0.5:.2f} of the 0.5 s budget)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
