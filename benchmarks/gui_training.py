"""Responsiveness while training in the window, against the same training from the CLI.

For each template, in one process and alternating (CLI, GUI, CLI, GUI, …):

* **CLI**: ``python -m rnn_builder train FILE --epochs E --json`` (called in-process); the
  training speed is the final line's steps / seconds.
* **GUI**: the main window (offscreen) trains the same project from the training panel while
  a 10 ms QTimer measures how late the event loop answers it and the plots redraw (at most 30
  frames a second); once with a person who only watches, once with one who pans the canvas
  every 50 ms and zooms every second. The training speed is the trainer's own steps / seconds.

Prints the 50th, 99th percentile and worst timer lateness, the GUI/CLI throughput ratio (the
median of the ratios of the paired runs), the frames drawn a second and the time from Start to
the first report with the training process warm. ``--json``: one object per row instead
(keys ``template``, ``person``, ``throughput_ratio``, ``p99_ms``, ``fps``, ``first_report_s``).
Targets (issue 14): >= 25 frames a second, throughput >= 0.85 of the CLI's, p99 lateness
<= 30 ms, first report <= 0.5 s.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_training.py [--repeats 2] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from rnn_builder.cli import main as cli
from rnn_builder.engine.runtime import runtime
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.training import process as training_process
from ui import collector

CASES = [("many_to_one", 8), ("adding_problem", 2), ("many_to_many_equal", 3)]
TICK_MS = 10
LONGEST_RUN_MS = 300_000


def cli_speed(path: Path, epochs: int) -> float:
    out = io.StringIO()
    status = cli.main(
        [
            "train",
            str(path),
            "--epochs",
            str(epochs),
            "--json",
            "--weights",
            str(path.with_suffix(".cli.npz")),
        ],
        stdout=out,
    )
    assert status == 0, out.getvalue()
    final = json.loads(out.getvalue().strip().splitlines()[-1])
    return final["steps"] / final["seconds"]


def gui_speed(
    app, path: Path, epochs: int, folder: Path, person: bool
) -> tuple[float, list[float], int, float]:
    from ui.editor.document import GraphDocument
    from ui.main_window import MainWindow

    document = GraphDocument(GraphDocument.open(path), path)
    document.project.training.epochs = epochs
    window = MainWindow(document, QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
    window.ask_to_save = lambda: "discard"  # the trained weights are not wanted here
    window.show()
    app.processEvents()
    window.live.docks["gradient_dock"].raise_()  # the most drawing of the views
    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e6 - TICK_MS))
        last[0] = now

    probe = QTimer()
    probe.setInterval(TICK_MS)
    probe.timeout.connect(tick)
    frame = [0]

    def pan_and_zoom() -> None:  # what a person might do while it trains: pan, zoom now and then
        frame[0] += 1
        view = window.view
        bar = view.horizontalScrollBar()
        bar.setValue(bar.value() + (4 if frame[0] % 40 < 20 else -4))
        if frame[0] % 20 == 0:
            factor = 1.1 if frame[0] % 40 else 1 / 1.1
            view.scale(factor, factor)

    hand = QTimer()
    hand.setInterval(50)
    hand.timeout.connect(pan_and_zoom)
    results, first = [], []
    loop = QEventLoop()
    session = window.live.session
    session.finished.connect(lambda result: (results.append(result), loop.quit()))
    session.frame.connect(lambda _report: first.append(time.perf_counter()))
    training_process.warm_spare()  # as the editor does when it opens: Start imports nothing
    for spare in training_process._spares:
        while spare.alive and not spare.ready:  # imported, waiting for work
            spare.wait(0.05)
            spare.messages()
    started = time.perf_counter()
    session.start()
    last[0] = clock.nsecsElapsed()
    probe.start()
    if person:
        hand.start()
    if not results:  # (a run that ends inside start() has quit the loop before it runs)
        QTimer.singleShot(LONGEST_RUN_MS, loop.quit)  # a run that never ends says so
        loop.exec()
    probe.stop()
    hand.stop()
    window.shutdown()
    window.close()
    window.deleteLater()
    app.processEvents()
    if not results:
        raise SystemExit(f"{path.stem}: the window's run did not end in {LONGEST_RUN_MS} ms")
    (result,) = results
    assert result is not None and result.stopped == "finished", result
    first_report = first[0] - started if first else float("nan")
    # frames a second while it trains: from the first frame to the last
    fps = (len(first) - 1) / (first[-1] - first[0]) if len(first) > 1 else 0.0
    return result.steps / result.seconds, lateness[5:], fps, first_report  # (start-up ticks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the epochs")
    parser.add_argument("--watch-only", action="store_true", help="skip the panning runs")
    parser.add_argument("--templates", nargs="*", help="only these templates")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do
    app = QApplication.instance() or QApplication([])
    # as main.py: Python's collector only at the event loop's safe points, never on a helper
    # thread, which would destroy Qt objects there (it hung this benchmark: a QObject's
    # destructor on the data thread waited for the interpreter lock, the GUI thread for Qt's)
    collector.install(app)
    if not args.json:
        print(
            f"{'template':22} {'person':8} {'CLI steps/s':>11} {'GUI steps/s':>11} "
            f"{'GUI/CLI':>8} {'p50 ms':>7} {'p99 ms':>7} {'worst':>7} {'frames/s':>9} "
            f"{'first s':>8}"
        )
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for template, epochs in CASES:
            if args.templates and template not in args.templates:
                continue
            epochs = max(1, round(epochs * args.scale))
            path = folder / f"{template}.json"
            save(new_project(template), path)
            for person in (False,) if args.watch_only else (False, True):
                cli_speeds, gui_speeds, late, frame_rates, firsts = [], [], [], [], []
                for _ in range(args.repeats):
                    cli_speeds.append(cli_speed(path, epochs))
                    speed, lateness, fps, first = gui_speed(app, path, epochs, folder, person)
                    gui_speeds.append(speed)
                    late += lateness
                    frame_rates.append(fps)
                    firsts.append(first)
                c, g = statistics.median(cli_speeds), statistics.median(gui_speeds)
                ratio = statistics.median(
                    b / a for a, b in zip(cli_speeds, gui_speeds, strict=True)
                )
                p50, p99 = np.percentile(late, [50, 99])
                doing = "pans" if person else "watches"
                fps, first = statistics.median(frame_rates), statistics.median(firsts)
                if args.json:
                    row = {
                        "template": template,
                        "person": doing,
                        "throughput_ratio": round(ratio, 3),
                        "p99_ms": round(float(p99), 1),
                        "fps": round(fps, 1),
                        "first_report_s": round(first, 3),
                    }
                    print(json.dumps(row), flush=True)
                    continue
                print(
                    f"{template:22} {doing:8} {c:11.1f} {g:11.1f} {ratio:8.2f} {p50:7.1f} "
                    f"{p99:7.1f} {max(late):7.1f} {fps:9.1f} {first:8.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
