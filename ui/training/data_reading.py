"""The data view's read of a whole file, on a helper thread, as training will read it.

:func:`read_summary` reads the file (``summary.read_data``) and says what it holds
(``summary.summarise``) under the core's ``ReadWatch``, which counts the bytes read and stops
the reader at its next line once cancelled. :class:`FileRead` runs it on the ``data-view``
thread and looks at it from the GUI thread every :data:`POLL_MS` (no signal crosses threads,
as in :mod:`ui.editor.model_files`): how far it has got, then what the file holds, or why it
could not be read, in one line.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.data_readers import ReadCancelled, ReadWatch, checkpoint, watched
from rnn_builder.training.summary import DataSummary, read_data, summarise

POLL_MS = 40  # how often a read's progress is shown


def read_summary(
    kind: str, path: str, options: dict[str, Any], seed: int, watch: ReadWatch
) -> DataSummary:
    """Read the whole file as training will and say what it holds (on a helper thread)."""
    with watched(watch):
        task, dataset = read_data(kind, path, options, seed)
        checkpoint()
        return summarise(kind, path, task, dataset)


def error_line(error: BaseException) -> str:
    """An error of ours (not the file's) in one short line: its type and its first line."""
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]


class FileRead(QObject):
    """One read at a time of a whole file; a new one replaces the one under way."""

    # bytes read of the file's bytes (floats: a Qt int is 32 bits); 0 of 0 once the file is
    # read and its examples and vocabulary are being made
    progressed = Signal(float, float)
    done = Signal(object)  # the file's DataSummary
    failed = Signal(str)  # why the file could not be read, in one line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.watch: ReadWatch | None = None
        self.path = ""
        self._future: Future | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._look)

    def start(self, kind: str, path: str, options: dict[str, Any], seed: int) -> None:
        """Read ``path`` on the helper thread (after a read already queued there)."""
        self.watch = ReadWatch()
        self.path = path
        self._future = one_thread("data-view").submit(
            read_summary, kind, path, options, seed, self.watch
        )
        self._poll.start()

    def cancel(self) -> None:
        """Stop the read under way (the helper thread stops at the next line it reads)."""
        if self.watch is not None:
            self.watch.cancel()
        self.forget()

    def forget(self) -> None:
        """Stop looking at the read under way: whatever it finds is not shown."""
        self._future = None
        self._poll.stop()

    def _look(self) -> None:
        future, watch = self._future, self.watch
        if future is None or watch is None:
            self._poll.stop()
            return
        if not future.done():
            if watch.total and watch.done < watch.total:
                self.progressed.emit(watch.done, watch.total)
            else:  # read: the vocabulary and the examples are being made
                self.progressed.emit(0, 0)
            return
        self.forget()
        try:
            summary = future.result()
        except ReadCancelled:
            return
        except RNNBuilderError as error:
            self.failed.emit(str(error))
            return
        except (MemoryError, RecursionError) as error:
            self.failed.emit(f"'{self.path}': too large to read here ({type(error).__name__})")
            return
        except Exception as error:  # a fault of ours, not the file's: said, and nothing changes
            self.failed.emit(
                f"'{self.path}' could not be read: internal error ({error_line(error)})"
            )
            return
        self.done.emit(summary)
