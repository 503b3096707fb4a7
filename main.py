"""Start RNN Builder: ``python main.py [PROJECT] [--screenshot PATH]``.

With ``--screenshot`` the window is rendered offscreen to a PNG and the program exits; that
needs no display.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rnn-builder-gui", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", help="project file to open (default: an example)")
    parser.add_argument("--screenshot", metavar="PATH", help="save the window as PNG and exit")
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

    from PySide6.QtWidgets import QApplication

    from rnn_builder.errors import RNNBuilderError
    from rnn_builder.serialization import load
    from rnn_builder.templates import new_project
    from ui.document import ProjectDocument
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("RNN Builder")
    path = Path(args.project) if args.project else None
    try:
        project = load(path) if path is not None else new_project()
    except RNNBuilderError as error:
        print(f"rnn-builder: cannot open project: {error}", file=sys.stderr)
        return 2
    window = MainWindow(ProjectDocument(project, path))
    window.show()
    if args.screenshot:
        app.processEvents()
        window.view.fit_to_contents()
        app.processEvents()
        if not window.grab().save(args.screenshot, "PNG"):
            print(f"rnn-builder: could not write '{args.screenshot}'", file=sys.stderr)
            return 2
        print(f"saved {args.screenshot}")
        return 0
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
