"""A validation example's hidden states and gates, step by step (pyqtgraph heatmaps).

:class:`HiddenStateView` — for one validation example, or for the user's own input typed into
its probe box: a chosen cell's hidden units over time and, for LSTM and GRU, its gates (both
directions of a bidirectional cell stacked), one heatmap per row in a scroll area; with the
inputs, and prediction against target at every step (a typed input has no target).

It shows the network as it is: drawn again with the running network's weights at each frame
of a run (``ui.training.live``), when a run ends, when another project opens, and — if any
of these came
while its tab was behind another — when the tab comes to the front. Its heatmaps (and
pyqtgraph) are made at the first drawing, never at start-up.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.unroll import UnrolledKey
from ui.training.figures import ExportsFigure
from ui.training.plots import DrawnWhenSeen, follow_palette, pyqtgraph
from ui.training.probe import Probe, ProbeBox


class HiddenStateView(ExportsFigure, DrawnWhenSeen, QWidget):
    figure_name, figure_title = "hidden_state", "Hidden state heatmaps"

    ROW_HEIGHT = 170  # pixels per heatmap, title and time axis included

    def __init__(self, context, probe: Probe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hidden_state")
        self.context = context
        self.probe = probe
        self.probe_box = ProbeBox(probe, "hidden_probe")
        self.example = QSpinBox()
        self.example.setObjectName("hidden_example")
        self.example.setRange(0, 100_000)
        self.example.setToolTip("Which validation example to look at")
        self.cell = QComboBox()
        # as wide as the names it holds now (it kept the first project's: 'encode')
        self.cell.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.cell.setObjectName("hidden_cell")
        self.layout_widget = None  # the heatmaps' pyqtgraph canvas, made at the first drawing
        self.sequence = QLabel()
        self.sequence.setObjectName("hidden_sequence")
        self.sequence.setWordWrap(True)
        self.sequence.setTextFormat(Qt.TextFormat.RichText)
        self.images: dict[str, np.ndarray] = {}
        self._rows: dict[str, tuple] = {}  # heatmaps by name: (pyqtgraph PlotItem, ImageItem)
        top = QHBoxLayout()
        top.addWidget(QLabel("Example"))
        top.addWidget(self.example)
        top.addWidget(QLabel("Cell"))
        top.addWidget(self.cell)
        top.addWidget(self.probe_box, 1)  # on the same row: the height goes to the heatmaps
        top.addWidget(self.export_button())
        # One heatmap per row, each tall enough to read (an LSTM shows five: squeezed into a
        # bottom dock they had no height left for their units); the rows scroll.
        self.scroll = QScrollArea()
        self.scroll.setObjectName("hidden_scroll")
        self.scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.sequence)
        layout.addWidget(self.scroll, 1)
        self.wait_to_be_seen()
        self.example.valueChanged.connect(lambda _v: self.redraw())
        self.cell.currentIndexChanged.connect(lambda _i: self.redraw())
        probe.changed.connect(self.redraw)

    def figure_widgets(self) -> list[QWidget]:
        if self.stale or self.layout_widget is None:
            self.redraw()  # what is exported is what the network gives now
        return [self.layout_widget] if self.layout_widget is not None else []

    def follow_project(self) -> None:
        """Another project is open: its task decides what the probe box reads, and its network
        and data what is drawn."""
        self.probe_box.follow_project()
        self.refresh()

    def list_cells(self, graph) -> None:
        current = self.cell.currentData()
        self.cell.blockSignals(True)
        self.cell.clear()
        for node in graph.cells():
            self.cell.addItem(node.name, node.id)
        if current is not None:
            self.cell.setCurrentIndex(max(self.cell.findData(current), 0))
        self.cell.blockSignals(False)

    def redraw(self) -> None:
        self.stale = False
        self.images = {}
        typed = self.context.typed is not None
        self.example.setEnabled(not typed)  # a typed input is shown instead
        self.example.setToolTip(
            "Clear your input to go back to the validation examples"
            if typed
            else "Which validation example to look at"
        )
        node = self.cell.currentData()
        if node is None:
            self._clear_rows()
            self.sequence.setText("No recurrent cell to show.")
            return
        try:
            stepper = self.context.stepper(self.example.value())
            stepper.run_to_end()
        except RNNBuilderError as error:
            self._clear_rows()
            self.sequence.setText(html.escape(str(error)))
            return
        graph = self.context.document.graph
        directions = ["reverse", "forward"] if graph.node(node).params["bidirectional"] else [""]
        gates = graph.node_type(node).cell.gates  # as its type states them (an RNN's is h)
        names = ["h", *(gate for gate in gates if gate != "h")]
        self._make_rows(names)
        ticks = self._step_ticks(stepper, node)
        for name in names:
            columns = []
            for direction in directions:
                copies = sorted(
                    (k for k in stepper.details if k.node == node and k.direction == direction),
                    key=lambda k: k.t,
                )
                columns.append(np.stack([stepper.details[k][name][0] for k in copies], axis=1))
            matrix = np.concatenate(columns, axis=0)  # units (both directions) × steps
            self.images[name] = matrix
            plot, image = self._rows[name]
            image.setImage(matrix, levels=(-1.0, 1.0) if name in ("h", "g", "n") else (0.0, 1.0))
            image.setRect(-0.5, -0.5, matrix.shape[1], matrix.shape[0])  # column t centred on t
            if ticks and len(ticks) == matrix.shape[1]:
                plot.getAxis("bottom").setTicks([list(enumerate(ticks))])
            else:  # whole steps only (left to itself the axis marks -0.5, 0.5, … between them)
                stride = max(1, -(-matrix.shape[1] // 20))
                plot.getAxis("bottom").setTicks(
                    [[(t, str(t)) for t in range(0, matrix.shape[1], stride)]]
                )
        self.sequence.setText(self._sequence_text(stepper))

    def _make_rows(self, names: list[str]) -> None:
        """One heatmap per name, made only when the names change: making pyqtgraph's plots
        took ~90 % of a redraw (~45 ms a plot here), and while training the view is drawn
        again at every frame with the same rows."""
        if list(self._rows) == names and self.layout_widget is not None:
            return
        pg = pyqtgraph()
        if self.layout_widget is None:
            self.layout_widget = pg.GraphicsLayoutWidget()
            self.layout_widget.setObjectName("hidden_heatmaps")
            self.scroll.setWidget(self.layout_widget)
            follow_palette(self)
        self._clear_rows()
        self.layout_widget.setMinimumHeight(len(names) * self.ROW_HEIGHT)
        for name in names:
            plot = self.layout_widget.addPlot(title=_TITLES.get(name, name))
            plot.setLabel("bottom", "time step")
            plot.setLabel("left", "unit")
            image = pg.ImageItem(axisOrder="row-major")
            image.setColorMap(pg.colormap.get("CET-D1" if name in ("h", "g", "n") else "viridis"))
            plot.addItem(image)
            self._rows[name] = (plot, image)
            self.layout_widget.nextRow()

    def _clear_rows(self) -> None:
        if self.layout_widget is not None:
            self.layout_widget.clear()
        self._rows = {}

    def _step_ticks(self, stepper, node: str) -> list[str]:
        """Words for the cell's time axis: the example's tokens, when it reads tokens on
        that axis (a decoder's steps are not the encoder's words)."""
        axis_of = stepper.executor.axis_of
        for input_id, value in stepper.batch.inputs.items():
            value = np.asarray(value)
            if value.ndim == 2 and value.dtype.kind in "iu" and axis_of(input_id) == axis_of(node):
                return [self.context.token_name(int(v)) for v in value[:, 0]]
        return []

    def _sequence_text(self, stepper) -> str:
        context = self.context
        example = stepper.batch
        rows = []
        for node_id, value in example.inputs.items():
            value = np.asarray(value)
            if value.ndim == 2 and value.dtype.kind in "iu":
                shown = " ".join(html.escape(context.token_name(int(v))) for v in value[:, 0])
            elif value.ndim == 3:
                shown = " ".join(
                    np.array2string(v, precision=2, separator=",") for v in value[:, 0][:12]
                )
            else:
                shown = np.array2string(value[0], precision=2)
            rows.append(f"<b>{html.escape(node_id)}</b>: {shown}")
        graph = context.document.graph
        for node in graph.outputs():
            target = example.targets.get(node.params["target"])
            prediction = stepper.values.get((node.id, "prediction"))
            if prediction is None:
                key = UnrolledKey(node.id, None)
                prediction = stepper.details.get(key, {}).get("prediction")
            if prediction is None:
                continue
            if node.params["loss"] == "cross_entropy":
                chosen = np.asarray(prediction).argmax(-1).reshape(-1)
                truth = np.asarray(target).reshape(-1) if target is not None else []
                cells = []
                for k, c in enumerate(chosen):
                    right = k < len(truth) and truth[k] == c
                    name = html.escape(context.class_name(int(c)))
                    if target is None:  # a typed input: nothing to be right or wrong about
                        cells.append(name)
                    elif k < len(truth) and truth[k] >= 0 and not right:
                        want = html.escape(context.class_name(int(truth[k])))
                        cells.append(f"<span style='color:#d0342c'>{name} (≠ {want})</span>")
                    elif k < len(truth) and truth[k] < 0:
                        continue
                    else:
                        cells.append(f"<span style='color:#2e8b57'>{name}</span>")
                rows.append(f"<b>{html.escape(node.name)}</b> predicted: {' '.join(cells)}")
            else:
                shown = np.array2string(np.asarray(prediction).reshape(-1)[:12], precision=3)
                truth = (
                    ", target " + np.array2string(np.asarray(target).reshape(-1)[:12], precision=3)
                    if target is not None
                    else ""
                )
                rows.append(f"<b>{html.escape(node.name)}</b> predicted {shown}{truth}")
        return "<br>".join(rows)


_TITLES = {
    "h": "hidden state h_t",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "new state n",
}
