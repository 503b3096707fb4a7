"""Start RNN Builder: ``python main.py [PROJECT] [--screenshot PATH [--unrolled T]]``.

With ``--screenshot`` the window is rendered offscreen to a PNG and the program exits (with
``--unrolled T``, showing the network unrolled over T steps); that needs no display. Without a
project the app opens an example, or offers to recover work a crash left unsaved.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rnn-builder-gui", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", help="project file to open (default: an example)")
    parser.add_argument("--screenshot", metavar="PATH", help="save the window as PNG and exit")
    parser.add_argument("--unrolled", type=int, metavar="T", help="show the unrolled view")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif (
        sys.platform.startswith("linux")
        and "QT_QPA_PLATFORM" not in os.environ
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        print(
            "rnn-builder: no display found. Run it on a desktop, under xvfb-run, or use "
            "'python main.py --screenshot out.png' to render the window to a file.",
            file=sys.stderr,
        )
        return 2

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    from rnn_builder.errors import RNNBuilderError
    from rnn_builder.serialization import load
    from rnn_builder.templates import new_project
    from ui.document import GraphDocument
    from ui.main_window import APP_NAME, MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    path = Path(args.project) if args.project else None
    try:
        project = load(path) if path is not None else new_project()
    except RNNBuilderError as error:
        print(f"rnn-builder: cannot open project: {error}", file=sys.stderr)
        return 2
    document = GraphDocument(project, path)
    settings = QSettings(APP_NAME, APP_NAME)
    if args.screenshot:  # a picture shows what was asked for, not the user's preferences
        settings = QSettings(
            str(Path(args.screenshot).with_suffix(".ini")), QSettings.Format.IniFormat
        )
    window = MainWindow(document, settings)
    if args.theme:
        window.apply_theme(args.theme)
    if not args.screenshot and path is None:
        offer_recovery(window, QMessageBox)
    window.show()
    if args.unrolled:
        window.set_unrolled(True, args.unrolled)
    if args.screenshot:
        app.processEvents()
        window.current_view().fit_to_contents()
        app.processEvents()
        saved = window.grab().save(args.screenshot, "PNG")
        window.shutdown()
        Path(args.screenshot).with_suffix(".ini").unlink(missing_ok=True)
        if not saved:
            print(f"rnn-builder: could not write '{args.screenshot}'", file=sys.stderr)
            return 2
        print(f"saved {args.screenshot}")
        return 0
    # Everything made so far lives as long as the window: keep the garbage collector from
    # walking it again and again (a full collection otherwise stalls a drag for ~40 ms).
    gc.freeze()
    code = app.exec()
    window.shutdown()
    return code


def offer_recovery(window, message_box) -> None:
    """Offer to bring back what a crashed session had not saved."""
    leftovers = window.document.leftover_recoveries()
    if not leftovers:
        return
    _file, original, project = leftovers[-1]
    where = f" of {original}" if original else ""
    answer = message_box.question(
        window,
        "Recover unsaved work?",
        f"RNN Builder did not close properly last time. Recover the unsaved changes{where} "
        f"(“{project.title}”)?",
    )
    if answer == message_box.StandardButton.Yes:
        window.document.replace(project, original)
        window.document.undo_stack.resetClean()  # recovered work is not saved yet
    for leftover, _path, _project in leftovers:
        leftover.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
