"""The garbage-collector deadlock of the GUI tests, made to happen every time (run as a script).

``python tests/ui/gc_deadlock.py [--policy] [--rounds N] [--limit S]``

Each round leaves a few closed plot windows as cyclic garbage (pyqtgraph menus hold a
QComboBox inside a QWidgetAction), connects a signal of a live plot to a method of a plain
Python object, and lets that object die. PySide's weakref callback then calls
``QObject::disconnect``, which holds Qt's signal-slot lock while it asks the Python wrapper for
a ``disconnectNotify`` override; that lookup allocates. The thresholds are set so that this very
allocation starts a collection, as it did by chance in the test suite: the collector frees the
windows, whose destructors wait for the lock their own thread holds.

Without ``--policy`` the process hangs; ``faulthandler`` prints the stack after ``--limit``
seconds and exits with status 1. With ``--policy`` the app's collection policy
(:mod:`rnn_builder.collector`, ``ui.collector``) is installed first: nothing is collected inside
the disconnect, the event loop's safe point collects the windows afterwards, and the script
prints how many were freed and exits with status 0.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import os
import sys
import weakref
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class Receiver:
    """A plain Python object whose method is connected: PySide tracks it with a weakref."""

    def slot(self, *args) -> None:
        pass


def leave_garbage_windows(count: int, alive: list) -> None:
    for _ in range(count):
        window = QMainWindow()
        plot = pg.PlotWidget()
        window.setCentralWidget(plot)
        plot.getPlotItem().getViewBox().menu  # noqa: B018 (builds the context menus)
        window.cycle = window  # only the cyclic collector can free it
        window.show()
        window.close()
        alive.append(weakref.ref(window))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policy", action="store_true", help="install the app's gc policy")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--limit", type=float, default=10.0)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    if args.policy:
        from ui.collector import install

        install(app)
    live = pg.PlotWidget()
    sender = live.getPlotItem().getViewBox()
    alive: list = []
    faulthandler.dump_traceback_later(args.limit, exit=True)
    for _ in range(args.rounds):
        was_enabled = gc.isenabled()
        gc.disable()  # build this round's garbage without collecting it
        receiver = Receiver()
        sender.sigRangeChanged.connect(receiver.slot)
        leave_garbage_windows(args.windows, alive)
        # The next allocation of a tracked object starts a collection (if collection is on).
        gc.set_threshold(gc.get_count()[0], 1000, 1000)
        if was_enabled:
            gc.enable()
        del receiver  # PySide disconnects the dead receiver's slot: the allocation happens there
    made = len(alive)
    # The safe point: the event loop runs until the windows are gone (or the limit strikes).
    timer = QTimer()
    timer.timeout.connect(lambda: app.quit() if not any(r() for r in alive) else None)
    timer.start(20)
    app.exec()
    faulthandler.cancel_dump_traceback_later()
    print(f"freed {made - sum(1 for r in alive if r())} of {made} windows", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
