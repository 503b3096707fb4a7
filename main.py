"""Start RNN Builder: ``python main.py [PROJECT] [--screenshot PATH [options]]``.

With ``--screenshot`` the window is rendered offscreen to a PNG and the program exits; that
needs no display. Options for the picture: ``--unrolled T`` shows the network unrolled over T
steps; ``--train S`` trains for S seconds first (the picture is taken while it still trains,
unless it finishes sooner); ``--show loss|gradient|hidden|alignment|training`` brings that view
to the front; ``--step K`` walks one validation example K steps through the unrolled network;
``--select NODE`` selects a node (the inspector explains it); ``--probe TEXT`` types your own
input into the probe box (the views and the stepping run on it, as ``predict`` would);
``--data FILE`` opens the data view on a data file, reads it, and pictures the view instead of
the window (``--fit`` then fits the graph to it); ``--present`` pictures presentation mode (F11)
and ``--size WxH`` sets the offscreen screen's size (1920x1080 for a projector's).

``--animate OUT.gif`` writes the stepping walk of one example (``--example K``, or the input
given with ``--probe``) as an animated GIF, one frame per step, offscreen, and exits (with
``--unrolled T``, ``--theme``, ``--train S`` as for a picture).

Without a project the app opens an example, or offers to recover work a crash left unsaved.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import sys
import tempfile
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rnn-builder-gui", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", help="project file to open (default: an example)")
    parser.add_argument("--screenshot", metavar="PATH", help="save the window as PNG and exit")
    parser.add_argument("--unrolled", type=int, metavar="T", help="show the unrolled view")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme")
    parser.add_argument("--train", type=float, metavar="S", help="(screenshot) train S seconds")
    parser.add_argument(
        "--show", choices=tuple(VIEWS), help="(screenshot) the view to bring to the front"
    )
    parser.add_argument("--step", type=int, metavar="K", help="(screenshot) step K times")
    parser.add_argument("--select", metavar="NODE", help="(screenshot) select a node")
    parser.add_argument(
        "--probe", metavar="TEXT", help="(screenshot) run the views on your own input"
    )
    parser.add_argument("--data", metavar="FILE", help="(screenshot) the data view on a file")
    parser.add_argument(
        "--fit", action="store_true", help="(screenshot, with --data) fit the graph to it"
    )
    parser.add_argument(
        "--present", action="store_true", help="(screenshot) in presentation mode (F11)"
    )
    parser.add_argument(
        "--size", metavar="WxH", type=screen_size, help="(screenshot) the offscreen screen's size"
    )
    parser.add_argument(
        "--animate", metavar="OUT.gif", help="write the stepping walk as an animated GIF and exit"
    )
    parser.add_argument(
        "--example", type=int, metavar="K", help="(screenshot, --animate) the example to step"
    )
    return parser.parse_args(argv)


def screen_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a size is WIDTHxHEIGHT, like 1920x1080, not {text!r}"
        ) from None
    if not (200 <= width <= 10_000 and 200 <= height <= 10_000):
        raise argparse.ArgumentTypeError(f"a screen from 200x200 to 10000x10000, not {text!r}")
    return width, height


def offscreen_screen(size: tuple[int, int] | None, folder: Path | None = None) -> str:
    """The offscreen platform, with a screen of ``size`` when given. Qt's offscreen plugin
    reads its screens from a JSON file: one of this run's own in ``folder`` (the temporary
    folder unless given), so that two runs of different sizes never read each other's,
    removed when the program exits. Raises ``OSError`` when it cannot be written."""
    if size is None:
        return "offscreen"
    screen = {"name": "offscreen", "x": 0, "y": 0, "width": size[0], "height": size[1]}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    handle, name = tempfile.mkstemp(prefix="rnn-builder-screen-", suffix=".json", dir=folder)
    config = Path(name)
    atexit.register(config.unlink, missing_ok=True)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump({"screens": [screen]}, file)
    return f"offscreen:configfile={config}"


VIEWS = {
    "loss": "loss_dock",
    "gradient": "gradient_dock",
    "hidden": "hidden_dock",
    "alignment": "alignment_dock",
    "training": "training_dock",
}
# the window's height a view shown takes: the alignment's cells are square, so its rows are
# as tall as the dock allows (at 0.42 the 22 rows of a 21-letter reversal were 9 px each)
SHARES = {"alignment": 0.58}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    offscreen = bool(args.screenshot or args.animate)
    if offscreen and os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
        try:
            os.environ["QT_QPA_PLATFORM"] = offscreen_screen(args.size)
        except OSError as error:
            print(
                "rnn-builder: cannot give the offscreen screen its --size: could not write "
                f"its settings in {tempfile.gettempdir()}: {error.strerror or error}",
                file=sys.stderr,
            )
            return 2
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

    from rnn_builder.engine.runtime import runtime
    from rnn_builder.errors import RNNBuilderError
    from rnn_builder.files.serialization import load
    from rnn_builder.files.templates import new_project
    from ui import collector
    from ui.editor.document import GraphDocument
    from ui.main_window import APP_NAME, MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    collector.install(app)  # garbage is collected only at the event loop's safe points
    runtime().configure()  # stepping and the views' passes run here (rnn_builder.engine.runtime)
    path = Path(args.project) if args.project else None
    try:
        project = load(path) if path is not None else new_project()
    except RNNBuilderError as error:
        print(f"rnn-builder: cannot open project: {error}", file=sys.stderr)
        return 2
    document = GraphDocument(project, path)
    settings = QSettings(APP_NAME, APP_NAME)
    output = args.screenshot or args.animate
    if output:  # a picture shows what was asked for, not the user's preferences
        settings = QSettings(str(Path(output).with_suffix(".ini")), QSettings.Format.IniFormat)
    window = MainWindow(document, settings)
    if args.theme:
        window.apply_theme(args.theme)
    if not offscreen and path is None:
        offer_recovery(window, QMessageBox)
    window.show()
    if not offscreen:  # a data file outside the project's folder: asked before it is read
        window.confirm_outside_data()
    if args.unrolled:
        window.set_unrolled(True, args.unrolled)
    if args.animate:
        return animate(app, window, args)
    if args.screenshot:
        prepare_picture(window, args)
        settle(app)
        if args.present:
            window.presentation.action.setChecked(True)
            settle(app)
        window.current_view().fit_to_contents()
        settle(app)
        pictured = window.live.data_view if args.data else window
        saved = pictured.grab().save(args.screenshot, "PNG")
        window.shutdown()
        Path(args.screenshot).with_suffix(".ini").unlink(missing_ok=True)
        if not saved:
            print(f"rnn-builder: could not write '{args.screenshot}'", file=sys.stderr)
            return 2
        print(f"saved {args.screenshot}")
        return 0
    # The training process starts now, beside the first paint, so that Start waits for no imports.
    from PySide6.QtCore import QTimer

    from rnn_builder.training import process as training_process

    QTimer.singleShot(0, training_process.warm_spare)
    # Everything made so far lives as long as the window: keep the garbage collector's safe-point
    # collections from walking it again and again (a full one would stall a drag for ~40 ms).
    gc.freeze()
    code = app.exec()
    window.shutdown()
    return code


def animate(app, window, args: argparse.Namespace) -> int:
    """``--animate OUT.gif``: the walk, frame by frame, written as a GIF; then exit."""
    from PySide6.QtCore import QEventLoop

    prepare_picture(window, args)
    settle(app)
    if window.export_animation(args.animate, show_progress=False):
        loop = QEventLoop()
        window.animation.finished.connect(lambda _written: loop.quit())
        loop.exec()
    errors = list(window.errors)
    window.shutdown()
    Path(args.animate).with_suffix(".ini").unlink(missing_ok=True)
    if errors or not Path(args.animate).is_file():
        message = errors[-1][1] if errors else "nothing was written"
        print(f"rnn-builder: cannot animate: {message}", file=sys.stderr)
        return 2
    print(f"saved {args.animate}")
    return 0


def settle(app) -> None:
    """Let layouts that were asked for while laying out (docks, tabs) finish too."""
    for _ in range(3):
        app.processEvents()


def prepare_picture(window, args: argparse.Namespace) -> None:
    """Train, probe, step and show what ``--train``, ``--probe``, ``--step`` and ``--show``
    ask for."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QDockWidget

    live = window.live
    if args.example is not None:
        live.example.setValue(args.example)
    if args.train:
        window.findChild(QDockWidget, "training_dock").raise_()
        loop = QEventLoop()
        live.session.finished.connect(lambda _result: loop.quit())
        QTimer.singleShot(int(args.train * 1000), loop.quit)
        if live.session.start():
            loop.exec()
        live.plots.redraw()
        live.gradients.redraw()
    if args.data:  # read to the end (or to its error) before the picture
        view = live.open_data_view()
        view.open_file(args.data)
        while view.state == "reading":
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()
        if args.fit:
            view.fit()
    if args.probe:  # typed as a person would type it, and Enter
        live.hidden.probe_box.edit.setText(args.probe)
        live.hidden.probe_box.edit.returnPressed.emit()
    if args.show:
        window.findChild(QDockWidget, VIEWS[args.show]).raise_()
        window.resizeDocks(
            [window.findChild(QDockWidget, VIEWS[args.show])],
            [int(window.height() * SHARES.get(args.show, 0.42))],
            Qt.Orientation.Vertical,
        )
        if args.show == "hidden":
            live.hidden.redraw()
        if args.show == "gradient":
            live.gradients.redraw()
        if args.show == "alignment":  # its pass runs on a helper thread: drawn when it ends
            live.alignment.redraw()
            while live.alignment.busy:
                loop = QEventLoop()
                QTimer.singleShot(20, loop.quit)
                loop.exec()
    for _ in range(args.step or 0):
        live.step_forward()
    if args.select and args.select in window.document.graph:
        window.findChild(QDockWidget, "inspector_dock").raise_()
        if args.step:
            window.unrolled_scene.select_nodes([args.select])
            window.inspector.show_node(args.select)
        else:
            window.scene.select_nodes([args.select])


def offer_recovery(window, message_box) -> None:
    """Offer to bring back what a crashed session had not saved: the newest copy (a window
    holds one project; older copies are offered at the next starts, never deleted unasked).
    Recovered work keeps its copy until it is saved: a second crash loses nothing. A copy
    declined is deleted (it was offered)."""
    leftovers = window.document.leftover_recoveries()
    if not leftovers:
        return
    latest = leftovers[-1]
    where = f" of {latest.original}" if latest.original else ""
    weights = " and its trained weights" if latest.weights else ""
    answer = message_box.question(
        window,
        "Recover unsaved work?",
        f"RNN Builder did not close properly last time. Recover the unsaved changes{where} "
        f"(“{latest.project.title}”){weights}?",
    )
    if answer == message_box.StandardButton.Yes:
        window.document.recover(latest)
    else:
        window.document.forget_recovery(latest)  # offered once; older ones at the next start


if __name__ == "__main__":
    sys.exit(main())
