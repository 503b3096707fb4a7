"""The gradient flowing back through time (pyqtgraph): for a chosen cell, a heatmap of the loss
gradient's norm at the hidden state of every time step (across) over the course of training
(down), log-coloured, and the latest curve; a plain-language warning when the gradient vanishes
or explodes, with the remedies at hand (:func:`diagnose`)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from rnn_builder.graph.nodes import NodeType
from rnn_builder.graph.registry import default_registry
from ui.training.plots import MadeWhenShown

VANISHING, EXPLODING = 1e-3, 1e3  # first-step / last-step gradient ratios worth a warning


class GradientFlowView(MadeWhenShown, QWidget):
    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradient_flow")
        self.session = session
        self.cell = QComboBox()
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
        self.curve = self.curve_plot.plot(
            [], [], pen=pg.mkPen("#4f6fd6", width=2), symbol="o", symbolSize=4
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
        self._at_least_two_decades(shown)
        grad_norm = self.session.reports[-1].grad_norm if self.session.reports else 0.0
        cell = self._cell_types.get(node) or "rnn"
        if direction == "reverse":  # it reads the sequence backwards: its first step is the end
            text = diagnose(latest[::-1], grad_norm, cell, reverse=True)
        else:
            text = diagnose(latest, grad_norm, cell)
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
    norms: np.ndarray, grad_norm: float, cell: NodeType | str = "rnn", reverse: bool = False
) -> str:
    """Words for what the latest gradient norms per step show, ``norms`` in the order the cell
    reads its steps (``cell``: the cell's node type, or a built-in one's name; ``reverse``: the
    backward direction of a bidirectional cell, which reads from the end)."""
    norms = np.asarray(norms, dtype=float)
    if norms.size < 2:
        return ""
    text = _diagnosis(norms, grad_norm, cell)
    if reverse and text:
        text += (
            " (This is the reverse direction: it reads the sequence from the end, so its first "
            "step is the last position.)"
        )
    return text


def _diagnosis(norms: np.ndarray, grad_norm: float, cell: NodeType | str) -> str:
    first, last = float(norms[0]), float(norms[-1])
    ratio = first / last if last > 0 else math.inf
    if first == 0.0 or ratio < VANISHING:
        orders = "all" if first == 0.0 else f"{-math.log10(ratio):.0f} orders of magnitude"
        said = (
            "<b style='color:#d0342c'>Vanishing gradient.</b> The gradient reaching the first "
            f"step is {orders} smaller than at the last: what happens early in a sequence "
            "barely teaches the network. "
        )
        cell_type = cell if isinstance(cell, NodeType) else default_registry().get(cell)
        if cell_type.cell.fades:
            return said + (
                "Remedies: use an <b>LSTM or GRU</b> cell (their gates carry gradient across "
                "many steps), <b>shorter sequences</b>, or an <b>orthogonal initialisation</b> "
                "of the recurrent weights."
            )
        return said + (
            f"An {cell_type.title} can learn to keep its gradient (gates that hold the state) as "
            "training goes on: give it more epochs; if it stays, try <b>shorter sequences</b>, "
            + ("a larger <b>forget-gate bias</b>, " if cell_type.param_spec("forget_bias") else "")
            + "or an <b>orthogonal initialisation</b>."
        )
    if ratio > EXPLODING or grad_norm > 1e3 or not math.isfinite(ratio):
        return (
            "<b style='color:#d0342c'>Exploding gradient.</b> The gradient grows as it travels "
            "back through time (global norm "
            f"{grad_norm:.3g}). Remedies: <b>clip gradients</b> (the training panel), a "
            "<b>smaller learning rate</b>, an LSTM or GRU cell, or a smaller recurrent "
            "initialisation."
        )
    return (
        f"The gradient reaching the first step is {ratio:.2g} × that at the last: it "
        "flows back through time without vanishing or exploding."
    )
