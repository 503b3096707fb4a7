"""The gradient flowing back through time (pyqtgraph): for a chosen cell, a heatmap of the loss
gradient's norm at the hidden state of every time step (across) over the course of training
(down), log-coloured; the latest curve, and beside it how much of the *last* step's loss reaches
each step (``training.connectivity``: with a loss at every step the two differ); and a
plain-language diagnosis of that travel with its own remedies (:func:`diagnose`)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from rnn_builder.graph.nodes import NodeType
from rnn_builder.graph.registry import default_registry
from rnn_builder.training.connectivity import diagnose as core_diagnose
from ui.training.plots import MadeWhenShown


class GradientFlowView(MadeWhenShown, QWidget):
    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradient_flow")
        self.session = session
        self.cell = QComboBox()
        # as wide as the names it holds now (it kept the first project's: 'encode')
        self.cell.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.cell.setObjectName("gradient_cell")
        self.cell.setToolTip("Which cell's hidden state to follow")
        self.cell.currentIndexChanged.connect(lambda _i: self.refresh())
        self.warning = QLabel()
        self.warning.setObjectName("gradient_warning")
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.RichText)
        self.matrix = np.zeros((0, 0))
        self._cell_types: dict[str, NodeType] = {}
        top = QHBoxLayout()
        top.addWidget(QLabel("Cell"))
        top.addWidget(self.cell)
        top.addStretch(1)
        self._plots = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self._plots, 1)
        layout.addWidget(self.warning)

    def _make_plots(self, pg) -> None:
        self.heat = pg.PlotWidget(title="|dL/dh_t| over training (log10)")
        self.heat.setLabel("bottom", "time step t")
        self.heat.setLabel("left", "report (training goes down)")
        self.heat.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.heat.addItem(self.image)
        self.colors = pg.ColorBarItem(
            values=(-8, 0),
            colorMap=pg.colormap.get("viridis"),
            label="log10 norm",
            interactive=False,
            width=14,
        )
        self.colors.setImageItem(self.image, insert_in=self.heat.getPlotItem())
        self.curve_plot = pg.PlotWidget(title="Latest: gradient norm reaching each step")
        self.curve_plot.setLabel("bottom", "time step t")
        self.curve_plot.setLogMode(y=True)
        self.curve_plot.addLegend(offset=(-10, 10))
        self.curve = self.curve_plot.plot(
            [], [], pen=pg.mkPen("#4f6fd6", width=2), symbol="o", symbolSize=4, name="whole loss"
        )
        self.flow_curve = self.curve_plot.plot(
            [],
            [],
            pen=pg.mkPen("#d98a2b", width=2, style=Qt.PenStyle.DashLine),
            name="last step's loss",
        )
        self._plots.addWidget(self.heat, 3)
        self._plots.addWidget(self.curve_plot, 2)

    def list_cells(self, graph) -> None:
        current = self.cell.currentData()
        self.cell.blockSignals(True)
        self.cell.clear()
        self._cell_types = {n.id: graph.node_type(n.id) for n in graph.cells()}
        for node in graph.cells():
            directions = ["forward", "reverse"] if node.params["bidirectional"] else ["forward"]
            for direction in directions:
                suffix = f" ({direction})" if len(directions) > 1 else ""
                self.cell.addItem(f"{node.name}{suffix}", (node.id, direction))
        if current is not None:
            index = self.cell.findData(current)
            self.cell.setCurrentIndex(max(index, 0))
        self.cell.blockSignals(False)

    def _at_least_two_decades(self, shown: np.ndarray) -> None:
        """Show whole decades, labelled 10ⁿ only: pyqtgraph's own log ticks crowd their
        minor labels into each other over a few decades."""
        span = _decades(shown)
        if span is None:
            return
        self.curve_plot.setYRange(*span, padding=0.05)
        low, high = math.floor(span[0]), math.ceil(span[1])
        step = max(1, (high - low) // 6)
        ticks = [(float(d), _power_of_ten(d)) for d in range(low, high + 1, step)]
        self.curve_plot.getAxis("left").setTicks([ticks, []])

    def redraw(self) -> None:
        if not self.built:
            self.build()  # which draws
            return
        choice = self.cell.currentData()
        if choice is None:
            self.warning.setText("No recurrent cell to follow.")
            return
        node, direction = choice
        rows = [
            r.state_grad_norms[node][direction]
            for r in self.session.reports
            if node in r.state_grad_norms and direction in r.state_grad_norms[node]
        ]
        if not rows:
            self.image.clear()  # nothing of another project's training stays
            self.curve.setData([], [])
            self.flow_curve.setData([], [])
            self.matrix = np.zeros((0, 0))
            self.warning.setText("Train to see how the gradient flows back through time.")
            return
        if len(rows) > 400:  # keep the picture (and the drawing) a fixed size
            rows = [rows[int(i)] for i in np.linspace(0, len(rows) - 1, 400)]
        width = max(len(r) for r in rows)
        matrix = np.full((len(rows), width), np.nan)
        for i, row in enumerate(rows):
            matrix[i, : len(row)] = row
        self.matrix = matrix
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(matrix > 0, np.log10(matrix), np.nan)  # 0: underflow or padding
        finite = logs[np.isfinite(logs)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.image.setImage(np.nan_to_num(logs, nan=low), autoLevels=False)
        self.colors.setLevels((low, max(high, low + 1e-6)))
        latest = np.asarray(rows[-1], dtype=float)
        shown = np.where(latest > 0, latest, np.nan)  # zero (underflow): a gap, not a point
        self.curve.setData(np.arange(len(latest)), shown, connect="finite")
        flow = next(
            (
                np.asarray(r.connectivity[node][direction], dtype=float)
                for r in reversed(self.session.reports)
                if direction in r.connectivity.get(node, {})
            ),
            None,
        )
        if flow is not None:  # a loss at every step: the travel is measured on its own
            self.flow_curve.setData(
                np.arange(len(flow)), np.where(flow > 0, flow, np.nan), connect="finite"
            )
            self._at_least_two_decades(np.concatenate([shown, np.where(flow > 0, flow, np.nan)]))
        else:  # every loss at the end: the whole loss's norms are that measure already
            self.flow_curve.setData([], [])
            self._at_least_two_decades(shown)
        measure = flow if flow is not None else latest
        grad_norm = self.session.reports[-1].grad_norm if self.session.reports else 0.0
        cell = self._cell_types.get(node) or "rnn"
        measured = "connectivity" if flow is not None else "loss at the end"
        if direction == "reverse":  # it reads the sequence backwards: its first step is the end
            text = diagnose(measure[::-1], grad_norm, cell, reverse=True, measured=measured)
        else:
            text = diagnose(measure, grad_norm, cell, measured=measured)
        if text != self.warning.text():  # a new text lays the dock out again
            self.warning.setText(text)


def _power_of_ten(exponent: int) -> str:
    if exponent == 0:
        return "1"
    return "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _decades(values: np.ndarray) -> tuple[float, float] | None:
    """The log10 range to show ``values`` on: at least two decades, centred on them (a log
    axis over less than a decade crowds its minor tick labels into each other)."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return None
    low, high = float(np.log10(finite.min())), float(np.log10(finite.max()))
    missing = max(0.0, 2.0 - (high - low)) / 2
    return low - missing, high + missing


def diagnose(
    norms: np.ndarray,
    grad_norm: float,
    cell: NodeType | str = "rnn",
    reverse: bool = False,
    measured: str = "connectivity",
) -> str:
    """The core's diagnosis (``training.connectivity.diagnose``) as the view shows it: the
    problem in red, its own remedies, and what else to know. ``norms`` in the order the cell
    reads its steps; ``cell`` its node type, or a built-in one's name."""
    cell_type = cell if isinstance(cell, NodeType) else default_registry().get(cell)
    found = core_diagnose(norms, grad_norm, not cell_type.cell.fades, reverse, measured)
    if not found.kind:
        return ""
    title, _colon, rest = found.sentence.partition(":")
    if found.kind == "flows":
        text = found.sentence
    else:
        text = f"<b style='color:#d0342c'>{title}.</b>{rest}"
    if found.remedies:
        text += " Remedies: " + "; ".join(found.remedies) + "."
    if found.note:
        text += " " + found.note
    return text
