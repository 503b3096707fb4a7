"""The data view: a person's file as training will read it, before anything trains.

Pick a file; the view guesses its kind (labelled text, tagged tokens, sequence pairs, numeric
sequences, a series, a text: ``training.summary.guess_kind``; the list overrides it) and shows
its first records as a table, read by the same readers as training. The columns and the
options are chosen from lists filled from the file's header. The whole file is then read on a
helper thread, as training will read it (:mod:`ui.training.data_reading`), with a progress bar
and a Cancel button (the core's ``ReadWatch``: the reader stops at the next line); what it
holds is shown (:mod:`ui.training.data_summary`) — examples, classes with their counts, the
vocabulary, the unknown rate on validation, a histogram of lengths, the layouts it fits — and
how it would bind to the graph in front.

*Use this data* makes the file, with what reading worked out and the binding found, the
project's data (one undo step); *Fit graph to data* does that and fits the graph to it (one
undo step too). A file that cannot be read says why in one line (file, line, reason) and
changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.project import DatasetReference
from rnn_builder.training.summary import DataSummary, guess_kind
from ui.editor.data_commands import fit_words
from ui.training.data_form import (
    COLUMN_OF,
    KIND_OPTIONS,
    KINDS,
    LABELS,
    OPTION_NAME,
    PREVIEW_ROWS,
    first_records,
    kind_name,
    option_widget,
)
from ui.training.data_reading import FileRead, error_line
from ui.training.data_summary import SummaryBox, binding_words

SETTLE_MS = 250  # an option changed: read again once the changes stop


def learned_options(summary: DataSummary) -> dict[str, Any]:
    """The options a project keeps: those chosen and what reading worked out."""
    return {k: v for k, v in summary.options.items() if k != "path" and not k.startswith("_")}


class DataView(QDialog):
    """See a data file as training reads it; use it, and fit the graph to it."""

    used = Signal(str)  # what happened, in words (the window's status bar says it too)

    def __init__(self, document, choose_path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("data_view")
        self.setWindowTitle("Your data")
        self.document = document
        self.choose_path = choose_path  # () -> a path, or None when the person gives up
        self.path: str | None = None
        self.kind = "labelled"
        self.header: list[str] = []
        self.chosen: dict[str, Any] = {}  # options the person chose (others: defaults)
        self.summary: DataSummary | None = None  # of the latest read that finished
        self.state = "empty"  # empty, reading, read, failed, cancelled
        self.reading = FileRead(self)  # the whole file, on a helper thread
        self.reading.progressed.connect(self._show_progress)
        self.reading.done.connect(self._read)
        self.reading.failed.connect(self._failed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.read)
        self._build()
        self.resize(980, 700)
        # the graph or the project's data changed: say again how the file would bind
        document.undo_stack.indexChanged.connect(self._project_changed)
        document.replaced.connect(self._project_changed)

    # --- widgets ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("data_path")
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("data_choose")
        self.choose_button.clicked.connect(self.choose_file)
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("data_kind")
        for kind, title in KINDS.items():
            self.kind_box.addItem(title, kind)
        self.kind_box.setToolTip(
            "What the file holds (guessed from it; choose another to read it so)"
        )
        self.kind_box.activated.connect(lambda _i: self._kind_chosen(self.kind_box.currentData()))
        self.guess_label = QLabel()
        self.guess_label.setObjectName("data_guess")
        top = QHBoxLayout()
        top.addWidget(QLabel("File"))
        top.addWidget(self.path_edit, 1)
        top.addWidget(self.choose_button)
        kind_row = QHBoxLayout()
        kind_row.addWidget(QLabel("Kind"))
        kind_row.addWidget(self.kind_box)
        kind_row.addWidget(self.guess_label, 1)

        self.preview_model = QStandardItemModel(self)
        self.preview = QTableView()
        self.preview.setObjectName("data_preview")
        self.preview.setModel(self.preview_model)
        self.preview.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.preview.setWordWrap(False)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview.horizontalHeader().setStretchLastSection(True)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        preview_box = QGroupBox(f"First rows (up to {PREVIEW_ROWS}; at the left, the line)")
        QVBoxLayout(preview_box).addWidget(self.preview)

        self.options_form = QFormLayout()
        self.options_box = QGroupBox("Columns and options")
        self.options_box.setLayout(self.options_form)
        self.options_box.setMinimumWidth(300)
        self.option_widgets: dict[str, QWidget] = {}

        upper = QHBoxLayout()
        upper.addWidget(preview_box, 3)
        upper.addWidget(self.options_box, 2)

        self.summary_box = SummaryBox()

        self.progress = QProgressBar()
        self.progress.setObjectName("data_progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("data_cancel")
        self.cancel_button.setToolTip("Stop reading the file (nothing changes)")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.status = QLabel()
        self.status.setObjectName("data_status")
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("data_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d0342c")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        self.fit_button = QPushButton("Fit graph to data")
        self.fit_button.setObjectName("data_fit")
        self.fit_button.setToolTip(
            "Train on this file and set the graph's input, embedding and output sizes to it "
            "(one undo step)"
        )
        self.fit_button.clicked.connect(self.fit)
        self.use_button = QPushButton("Use this data")
        self.use_button.setObjectName("data_use")
        self.use_button.setToolTip("Train the project on this file, read as shown (one undo step)")
        self.use_button.clicked.connect(self.use)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("data_close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(kind_row)
        layout.addLayout(upper, 3)
        layout.addWidget(self.summary_box, 2)
        layout.addLayout(progress_row)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        # Enter in a box of the form takes its value: no button is the dialog's default (the
        # first, Choose file…, opened the file dialog and dropped the options chosen)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self._show_state()

    def _show_options(self) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_widgets = {}
        for name in KIND_OPTIONS[self.kind]:
            chosen = self.chosen.get(OPTION_NAME.get(name, name))
            widget = option_widget(name, self.kind, self.header, chosen, self._option_changed)
            self.option_widgets[name] = widget
            self.options_form.addRow(LABELS[name], widget)

    # --- choosing -------------------------------------------------------------------------

    def choose_file(self) -> bool:
        """Ask for a file and show it (False: none was chosen)."""
        path = self.choose_path()
        if not path:
            return False
        self.open_file(path)
        return True

    def open_file(
        self, path: str | Path, kind: str | None = None, options: dict[str, Any] | None = None
    ) -> None:
        """Show ``path``: its kind (guessed unless given), its first rows, and read it all."""
        self.cancel(quiet=True)
        self.path = str(path)
        self.path_edit.setText(self.path)
        self.path_edit.setToolTip(self.path)
        self.chosen = dict(options or {})
        self.summary = None
        self.state = "empty"
        self.error.hide()
        try:
            guessed = guess_kind(path)
        except RNNBuilderError:
            guessed = "labelled"  # the reading below says what is wrong with the file
        self.guess_label.setText(f"detected: {kind_name(guessed)}")
        self._set_kind(kind or guessed)
        if self.state != "failed":  # the first rows could be read: read it all
            self.read()

    def _set_kind(self, kind: str) -> None:
        self.kind = kind
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind))
        self._show_preview()
        self._show_options()

    def _kind_chosen(self, kind: str) -> None:
        if kind == self.kind or self.path is None:
            if self.path is None:
                self._set_kind(kind)
            return
        self.chosen = {}
        self.summary = None
        self.state = "empty"
        self.error.hide()
        self._set_kind(kind)
        if self.state != "failed":
            self.read()

    def _option_changed(self, name: str, value: Any) -> None:
        if value is None or value == "":  # automatic (a split column: none)
            self.chosen.pop(name, None)
        else:
            self.chosen[name] = value
        if name == "format":
            self.state = "empty"
            self.error.hide()
            self._show_preview()
            self._show_options()
            if self.state == "failed":
                return
        self._settle.start()  # read once the changes stop

    def _show_preview(self) -> None:
        self.preview_model.clear()
        self.header = []
        if self.path is None:
            return
        try:
            columns, records = first_records(self.kind, self.path, self.chosen.get("format", ""))
        except RNNBuilderError as error:
            self._failed(str(error))
            return
        except Exception as error:  # a fault of ours, not the file's
            self._failed(f"'{self.path}' could not be shown: internal error ({error_line(error)})")
            return
        if self.kind not in ("tagged", "text"):
            self.header = columns
        self.preview_model.setHorizontalHeaderLabels(columns)
        for line, values in records:
            self.preview_model.appendRow([QStandardItem(v) for v in values])
            self.preview_model.setVerticalHeaderItem(
                self.preview_model.rowCount() - 1, QStandardItem(str(line))
            )
        header = self.preview.horizontalHeader()
        for column in range(len(columns) - 1):
            self.preview.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column), 380))

    # --- reading ----------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """The options to read with: those chosen, as the project's data options name them."""
        return dict(self.chosen)

    def read(self) -> None:
        """Read the whole file on the helper thread (a read under way is cancelled first)."""
        self._settle.stop()
        if self.path is None:
            return
        self.cancel(quiet=True)
        self.reading.start(
            self.kind, self.path, self.options(), self.document.project.training.seed
        )
        self.state = "reading"
        self.error.hide()
        self._show_state()

    def cancel(self, quiet: bool = False) -> None:
        """Stop the read under way (the helper thread stops at the next line it reads)."""
        self._settle.stop()
        if self.state == "reading":
            self.reading.cancel()
            self.state = "cancelled"
            if not quiet:
                self.status.setText("Reading cancelled: nothing was changed.")
            self._show_state()

    def _show_progress(self, done: float, total: float) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"reading: {done / 1e6:,.1f} of {total / 1e6:,.1f} MB")
        else:  # read: the vocabulary and the examples are being made
            self.progress.setRange(0, 0)

    def _read(self, summary: DataSummary) -> None:
        self.summary = summary
        self.state = "read"
        self._show_summary(summary)
        self._show_state()

    def _failed(self, message: str) -> None:
        self.reading.forget()
        self.summary = None
        self.state = "failed"
        self.error.setText(message)
        self.error.setToolTip(message)
        self.error.show()
        self._show_state()

    def _show_state(self) -> None:
        reading = self.state == "reading"
        self.progress.setVisible(reading)
        self.cancel_button.setVisible(reading)
        self.cancel_button.setEnabled(reading)
        ready = self.state == "read" and self.summary is not None
        self.use_button.setEnabled(ready)
        self.fit_button.setEnabled(ready)
        if reading:
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
            self.progress.setFormat("reading…")
            self.status.setText("")
        if self.state in ("failed", "empty", "cancelled", "reading"):
            self.summary_box.clear(
                "Choose a file to see what it holds." if self.state == "empty" else ""
            )
        if self.state == "failed":
            self.status.setText("The file cannot be used as it is: nothing was changed.")

    def _show_summary(self, summary: DataSummary) -> None:
        options = summary.options
        for name, widget in self.option_widgets.items():  # the columns reading chose
            column = COLUMN_OF.get(name)
            found = (options.get("columns") or {}).get(column) if column else None
            if name == "forecast_column":
                found = options.get("target")
            if found is not None and isinstance(widget, QComboBox):
                widget.blockSignals(True)
                widget.setCurrentIndex(widget.findData(found))
                widget.blockSignals(False)
        binding = binding_words(self.document, self.reference(summary))
        self.summary_box.show_summary(summary, binding)
        self.status.setText(
            "This is the project's data." if self._is_the_projects() else "Read: not used yet."
        )

    def _project_changed(self, _index: int = 0) -> None:
        if self.state == "read" and self.summary is not None:
            self._show_summary(self.summary)

    # --- using ------------------------------------------------------------------------------

    def reference(self, summary: DataSummary | None = None) -> DatasetReference:
        """The project's data reference for what was read (with what reading worked out)."""
        summary = summary or self.summary
        return DatasetReference(self.kind, self.path, learned_options(summary))

    def _is_the_projects(self) -> bool:
        current = self.document.project.dataset
        if current is None or self.summary is None:
            return False
        mine = self.reference()
        return (current.kind, current.name, current.options) == (mine.kind, mine.name, mine.options)

    def use(self) -> bool:
        """Train the project on the file as read (one undo step)."""
        if self.summary is None:
            return False
        try:
            done = self.document.set_dataset(self.reference())
        except RNNBuilderError as error:
            self._failed(str(error))
            return False
        if done:
            said = f"Training on {Path(self.path).name} now."
            self.status.setText("This is the project's data.")
            self.used.emit(said)
        return bool(done)

    def fit(self) -> bool:
        """Train on the file and fit the graph to it (one undo step)."""
        if self.summary is None:
            return False
        try:
            changes = self.document.fit_to_data(self.reference())
        except RNNBuilderError as error:
            self.error.setText(f"Cannot fit the graph to this data: {error}")
            self.error.show()
            return False
        if changes is None:
            return False
        said = fit_words(self.document.graph, changes)
        self._show_summary(self.summary)
        self.status.setText(said)
        self.used.emit(said)
        return True

    # --- closing ----------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        self.cancel(quiet=True)
        super().closeEvent(event)

    def reject(self) -> None:  # Escape
        self.cancel(quiet=True)
        super().reject()
