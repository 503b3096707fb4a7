"""The app as ``main.py`` starts it, driven from stdin, for tests that kill it with SIGKILL.

It starts on the example project and answers Yes when offered a crashed session's work (as a
person would), printing what it recovered; then, for each line ``add TYPE`` on stdin, adds a
node of that type the way a person does — a double-click on it in the palette — and prints
``added NODE_ID``; each recovery copy it writes, ``copied NODE_ID ...`` (the copy's nodes).
It never closes on its own: the test kills it. Qt runs offscreen; the
recovery folder is under ``XDG_DATA_HOME``, which the test sets.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QSocketNotifier, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


class _Yes:
    """The recovery question, answered Yes."""

    class StandardButton:
        Yes = 1
        No = 2

    @classmethod
    def question(cls, _parent, _title, _text):
        return cls.StandardButton.Yes


def say(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    import main as app_main
    from rnn_builder.files.templates import new_project
    from ui import collector
    from ui.editor.document import GraphDocument
    from ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    collector.install(app)
    ini = os.path.join(os.environ["XDG_CONFIG_HOME"], "app.ini")
    settings = QSettings(ini, QSettings.Format.IniFormat)
    window = MainWindow(GraphDocument(new_project()), settings)
    recovered = bool(window.document.leftover_recoveries())
    app_main.offer_recovery(window, _Yes)
    window.show()
    nodes = " ".join(window.document.graph.nodes)
    say(f"recovered {nodes}" if recovered else f"started {nodes}")

    def command() -> None:
        line = sys.stdin.readline()
        if not line:
            app.quit()
            return
        verb, *rest = line.split()
        if verb == "add":
            before = set(window.document.graph.nodes)
            tree = window.palette.tree
            item = window.palette.items[rest[0]]
            tree.scrollToItem(item)
            point = tree.visualItemRect(item).center()
            # a person's double-click: a click, then the second press that makes it double
            QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
            QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
            (added,) = set(window.document.graph.nodes) - before
            say(f"added {added}")

    document = window.document
    write_recovery = document.write_recovery

    def write_and_say() -> object:  # the test waits for this line, not for a time
        written = write_recovery()
        if written is not None:
            say(f"copied {' '.join(document.graph.nodes)}")
        return written

    document.write_recovery = write_and_say
    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: command())
    app.exec()


if __name__ == "__main__":
    main()
