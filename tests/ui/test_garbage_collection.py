"""Garbage is collected only at safe points (:mod:`rnn_builder.collector`): the deadlock this
prevents, reproduced; the policy in the app and in its threads; windows really deleted."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSettings

from rnn_builder import collector
from rnn_builder.files.templates import new_project
from ui.editor.document import GraphDocument
from ui.main_window import MainWindow

from .conftest import dispose
from .test_live import TRAINING_TIMEOUT

REPRODUCTION = Path(__file__).with_name("gc_deadlock.py")


def _reproduce(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPRODUCTION), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_reproduction_deadlocks_without_the_policy():
    """The control: automatic collection inside PySide's disconnect hangs the process every
    time (faulthandler ends it after 4 s). Should this start passing, Qt or PySide no longer
    calls into Python under its lock, and the policy's reason needs a fresh look."""
    result = _reproduce("--limit", "4")
    assert result.returncode != 0 and "Timeout" in result.stderr, (
        "the reproduction no longer deadlocks without the policy: " + result.stdout
    )
    assert "gc_deadlock.py" in result.stderr  # faulthandler's stack: stuck in the script


def test_with_the_policy_the_same_run_ends_and_frees_every_window():
    result = _reproduce("--policy", "--limit", "60")
    assert result.returncode == 0, result.stderr
    assert "freed 15 of 15 windows" in result.stdout


def test_paused_nests_across_threads_and_keeps_the_policy(monkeypatch):
    """Unrolling pauses the collector; it must not turn automatic collection back on in a
    process that collects at safe points, nor off for good in one that does not."""
    monkeypatch.setattr(collector, "_automatic", True)
    gc.enable()
    entered, release = threading.Event(), threading.Event()

    def hold():
        with collector.paused():
            entered.set()
            release.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    entered.wait(10)
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause still holds
    release.set()
    other.join(10)
    assert gc.isenabled()
    monkeypatch.setattr(collector, "_automatic", False)
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_collect_if_due_follows_the_thresholds(monkeypatch):
    thresholds = gc.get_threshold()
    try:
        gc.collect()
        gc.set_threshold(10**6, 10, 10)
        assert collector.collect_if_due() == -1  # nothing due
        gc.set_threshold(1, 10, 10)
        junk = [[] for _ in range(5)]  # tracked allocations push generation 0 past 1
        assert collector.collect_if_due() == 0
        del junk
    finally:
        gc.set_threshold(*thresholds)


def test_the_app_collects_only_on_the_gui_thread(window, qtbot):
    """A training run and a data prefetch allocate in their threads; every collection meanwhile
    runs on the GUI thread, from the event loop's timer."""
    assert not gc.isenabled()
    threads = []

    def record(phase, info):
        if phase == "start":
            threads.append(threading.get_ident())

    gc.callbacks.append(record)
    try:
        window.document.replace(new_project("many_to_many_equal"), None)  # prefetches
        window.live.session.start(max_steps=40)
        qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
        qtbot.waitUntil(lambda: len(threads) > 0, timeout=TRAINING_TIMEOUT)
    finally:
        gc.callbacks.remove(record)
    assert set(threads) == {threading.main_thread().ident}
    assert not gc.isenabled()


def test_a_disposed_window_is_deleted_in_cpp_and_python(qtbot, tmp_path):
    """What the window fixture does after each test: the window, its pyqtgraph menus and its
    scenes are gone, not left for a collection to find later."""
    window = MainWindow(
        GraphDocument(new_project("many_to_one")),
        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    window.show()
    qtbot.waitExposed(window)
    window.live.plots.redraw()
    window.shutdown()
    window.close()
    alive = weakref.ref(window)
    dispose([window])
    assert not shiboken6.isValid(window)
    del window
    gc.collect()
    assert alive() is None


def test_the_scene_follows_edits_with_garbage_windows_and_eager_collection(qtbot, tmp_path):
    """The second hang (in ``test_scene_follows_model_edits``): with closed windows left as
    garbage and the thresholds at 1, automatic collection ran inside Qt calls — a pyqtgraph
    constructor, ``qtbot.waitUntil``'s event loop — and hung or crashed within 8-30 rounds.
    Under the policy the same rounds run through."""
    thresholds = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        for round_ in range(6):
            left = MainWindow(
                GraphDocument(new_project("many_to_one")),
                QSettings(str(tmp_path / f"left-{round_}.ini"), QSettings.Format.IniFormat),
            )
            left.show()
            left.live.plots.redraw()
            left.shutdown()
            left.close()
            left.cycle = left  # garbage that only the collector frees
            del left
            window = MainWindow(
                GraphDocument(new_project("many_to_one")),
                QSettings(str(tmp_path / f"used-{round_}.ini"), QSettings.Format.IniFormat),
            )
            qtbot.addWidget(window, before_close_func=MainWindow.shutdown)
            window.show()
            graph, scene = window.document.graph, window.scene
            graph.add_node("gru", node_id="extra", position=(100, 300))
            graph.connect("embed", "y", "extra", "x")
            graph.set_param("extra", "hidden_size", 12)
            qtbot.waitUntil(
                lambda s=scene: s.node_items["extra"].outputs["y"].shape_info.label() == "seq·12"
            )
            graph.remove_node("extra")
            assert "extra" not in scene.node_items
    finally:
        gc.set_threshold(*thresholds)
    assert not gc.isenabled()
