"""The explanation views that draw data (pyqtgraph), and what they share.

* :class:`LossPlots` — training and validation loss (log scale on demand) and the task's metric
  against steps, with earlier runs of the project overlaid to compare cells or settings. A run
  that went on from trained weights is drawn from the step where it went on (its
  ``start_step``), after the run it continued, not from 0 beside it.
* the gradient flowing back through time is in ``gradient_flow``; the hidden states and gates
  of one example are in ``hidden_state``.
* :class:`MadeWhenShown` and :func:`follow_palette` serve all three; :class:`DrawnWhenSeen`
  serves the views drawn again with every change of the network (hidden state, alignment).

pyqtgraph is imported when the first of these views is shown (:class:`MadeWhenShown`), not at
start-up: the window opens with none of them in front, and importing it took 0.26 s of the
1.2 s of imports before the first paint.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.training.curve import LossCurve
from rnn_builder.training.tasks import task_of
from ui.canvas.style import text_scale
from ui.themes import is_dark
from ui.training.figures import ExportsFigure

# Axes, titles and legends on a light and on a dark palette (each over 6:1 on its window).
FOREGROUND = {False: "#4a4f57", True: "#c8ccd2"}
# their text at 100 % (View → Text size scales it): titles, axis labels, ticks, legends
TITLE_POINTS, LABEL_POINTS, TICK_POINTS, LEGEND_POINTS = 11.0, 9.0, 8.0, 9.0
_pyqtgraph = None  # the module, once a view has needed it


def pyqtgraph():
    """pyqtgraph, imported and set up the first time a view makes its plots."""
    global _pyqtgraph
    if _pyqtgraph is None:
        import pyqtgraph as pg

        # No antialiasing: curves redraw many times a second while training, in software
        # offscreen.
        pg.setConfigOptions(antialias=False, background=None)
        _pyqtgraph = pg
    return _pyqtgraph


class MadeWhenShown:
    """A view (a QWidget) whose plots are made the first time it is seen, or asked to draw.

    ``redraw()`` draws now (making the plots first); ``refresh()`` draws only a view whose
    plots exist — one never shown draws when it is. A view shown for a moment, as every dock
    is while the window lays out its tabs at start, is not made: the check waits for the event
    loop."""

    built = False
    _later: QTimer | None = None

    def _make_plots(self, pg) -> None:
        raise NotImplementedError

    def _first_draw(self) -> None:
        self.redraw()

    def build(self) -> None:
        if self.built:
            return
        self.built = True
        self._make_plots(pyqtgraph())
        follow_palette(self)
        self._first_draw()

    def refresh(self) -> None:
        if self.built:
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.seen_changed(True)

    def seen_changed(self, seen: bool) -> None:
        """Shown, or its dock's tab came to the front (a tab behind another stays "visible"
        to Qt, and coming to the front is no show event: the dock tells)."""
        if seen and not self.built:
            # a timer of its own, not QTimer.singleShot: a call pending when the window went
            # kept the view, and through it the window, alive (its functor is never freed)
            if self._later is None:
                self._later = QTimer(self)
                self._later.setSingleShot(True)
                self._later.setInterval(0)
                self._later.timeout.connect(self._build_if_seen)
            self._later.start()

    def _build_if_seen(self) -> None:
        if not self.visibleRegion().isEmpty():
            self.build()


class DrawnWhenSeen:
    """A view (a QWidget) drawn again with the network as it is now, but only while it can be
    seen: its dock open and its tab in front (a tab behind another stays "visible" to Qt), as
    its dock tells ``set_seen``. While it cannot, what it shows goes out of date (``stale``:
    other weights, another project) and is drawn again when it shows, rather than computed
    for nobody. The view calls ``wait_to_be_seen()`` as it is made, and its ``redraw()`` draws
    now and clears ``stale``."""

    def wait_to_be_seen(self) -> None:
        self.seen = False
        self.stale = True
        # Drawing waits for the event loop: a dock reports itself seen for a moment while the
        # window lays its tabs out, and one change often comes with another (a project opens:
        # the probe clears, the cells change) — one drawing, of what is then in front, for all.
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self._redraw_if_seen)

    def refresh(self) -> None:
        """Draw again with the network as it is now (its weights changed, or the project):
        soon if the view can be seen, else when it is shown."""
        self.stale = True
        if self.seen:
            self._later.start()

    def set_seen(self, seen: bool) -> None:
        """The dock's tab came to the front or went behind (or the dock opened or closed)."""
        self.seen = seen
        if seen and self.stale:
            self._later.start()

    def _redraw_if_seen(self) -> None:
        if self.seen and self.stale:
            self.redraw()


TREND_POINTS = 40  # the training loss's trend averages over a fortieth of the run so far
RUN_COLORS = ["#4f6fd6", "#d98a2b", "#3f9b5b", "#c9485b", "#8a5fd6", "#2a9ca6"]


def follow_palette(root: QWidget) -> None:
    """Colour every pyqtgraph view under ``root`` for the application's palette: its window
    colour behind the plots, and axes, titles and legends that read on it; and size their
    text for View → Text size. pyqtgraph fixes these colours and sizes when a plot is made, so
    a theme or a text size chosen later (or before the window, when the plots took a light
    theme's grey on a dark window) reaches them only through here."""
    pg = _pyqtgraph
    if pg is None:
        return  # no plot made yet: each is coloured when it is made
    palette = QApplication.palette()
    background = palette.color(QPalette.ColorRole.Window)
    foreground = QColor(FOREGROUND[is_dark(palette)])
    pg.setConfigOptions(foreground=foreground)  # for plots made from now on
    scale = text_scale()
    ticks = QFont(QApplication.font())
    ticks.setPointSizeF(TICK_POINTS * scale)
    for view in root.findChildren(QGraphicsView):
        if not isinstance(view, pg.GraphicsView):
            continue
        view.setBackground(background)
        items = view.scene().items()
        titles = {id(i.titleLabel) for i in items if isinstance(i, pg.PlotItem)}
        for item in items:
            if isinstance(item, pg.AxisItem):
                item.setStyle(tickFont=ticks)
                item.setLabel(**{"font-size": f"{LABEL_POINTS * scale:g}pt"})
                item.setPen(foreground)
                item.setTextPen(foreground)
            elif isinstance(item, pg.PlotItem) and item.titleLabel.isVisible():
                item.layout.setRowFixedHeight(0, round(30 * scale))
                item.titleLabel.setMaximumHeight(round(30 * scale))
            elif isinstance(item, pg.LabelItem):  # titles and legend entries
                points = TITLE_POINTS if id(item) in titles else LEGEND_POINTS
                item.setText(item.text, color=foreground.name(), size=f"{points * scale:g}pt")
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(foreground)


class LossPlots(ExportsFigure, MadeWhenShown, QWidget):
    figure_name, figure_title = "loss", "Loss plots"

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loss_plots")
        self.session = session
        self.log_scale = QCheckBox("log scale")
        self.log_scale.setObjectName("log_scale")
        self.log_scale.setChecked(True)
        self.log_scale.setToolTip("Loss on a logarithmic scale: small improvements stay visible")
        self.log_scale.toggled.connect(self._log_toggled)
        self.runs = QListWidget()
        self.runs.setObjectName("runs")
        self.runs.setMaximumWidth(280)
        # a run's name is its cells and settings: wrapped, never cut off
        self.runs.setWordWrap(True)
        self.runs.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.runs.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.runs.setToolTip("Tick earlier runs to overlay their curves")
        self.runs.itemChanged.connect(lambda _item: self.draw_overlays())
        self.overlays: list = []
        self._metric: str | None = None  # the metric the plots are titled for
        self._validation_drawn: tuple[int, int] | None = None
        self._x_span: tuple[int, int] | None = None
        side = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(self.log_scale)
        top.addStretch(1)
        top.addWidget(self.export_button())
        side.addLayout(top)
        side.addWidget(QLabel("Compare with earlier runs:"))
        side.addWidget(self.runs)
        self._plots = QHBoxLayout()
        layout = QHBoxLayout(self)
        layout.addLayout(self._plots, 1)
        layout.addLayout(side)

    def figure_widgets(self) -> list[QWidget]:
        return [self.loss_plot, self.metric_plot] if self.built else []

    def _make_plots(self, pg) -> None:
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.loss_plot.setObjectName("loss_plot")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.metric_plot = pg.PlotWidget(title="Validation metric")
        self.metric_plot.setLabel("bottom", "step")
        # every step's loss, thin and light (the noise a student should see), its trend over
        # it, and past the curve's limit the min-max band of each bucket of steps
        light = QColor(RUN_COLORS[0])
        light.setAlpha(80)
        self.train_curve = self.loss_plot.plot([], [], pen=pg.mkPen(light, width=1))
        self.train_trend = self.loss_plot.plot(
            [], [], pen=pg.mkPen(RUN_COLORS[0], width=2), name="training"
        )
        edge = pg.mkPen(QColor(0, 0, 0, 0))  # not None: a curve with no pen has no path
        self.train_low = self.loss_plot.plot([], [], pen=edge)
        self.train_high = self.loss_plot.plot([], [], pen=edge)
        light.setAlpha(45)
        self.train_band = pg.FillBetweenItem(self.train_low, self.train_high, brush=light)
        self.loss_plot.addItem(self.train_band)
        self.val_curve = self.loss_plot.plot(
            [],
            [],
            pen=pg.mkPen(RUN_COLORS[1], width=2),
            symbol="o",
            symbolSize=5,
            name="validation",
        )
        self.metric_curve = self.metric_plot.plot(
            [], [], pen=pg.mkPen(RUN_COLORS[2], width=2), symbol="o", symbolSize=5
        )
        curves = (self.train_curve, self.train_trend, self.train_low, self.train_high)
        for curve in curves:  # thousands of points stay cheap
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self._plots.addWidget(self.loss_plot, 3)
        self._plots.addWidget(self.metric_plot, 2)
        self.loss_plot.getViewBox().sigYRangeChanged.connect(lambda _box, _r: self._loss_ticks())
        self._log_toggled(self.log_scale.isChecked())

    def _first_draw(self) -> None:
        self.redraw()
        self.draw_overlays()

    def _log_toggled(self, on: bool) -> None:
        if not self.built:
            return  # the plot takes the box's state when it is made
        self.loss_plot.setLogMode(y=on)
        self._loss_ticks()

    def _loss_ticks(self) -> None:
        """Labels for the loss axis that never run into each other: on a log scale pyqtgraph
        labels every minor tick of a span under a decade (0.9, 0.8, 0.7 … drawn on top of each
        other), so the ticks are chosen here for the range in view; linear ones are its own."""
        axis = self.loss_plot.getAxis("left")
        if not self.log_scale.isChecked():
            axis.setTicks(None)
            return
        low, high = self.loss_plot.getViewBox().viewRange()[1]
        axis.setTicks([log_ticks(low, high), []])

    def list_runs(self, runs) -> None:
        checked = {
            self.runs.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.runs.count())
            if self.runs.item(i).checkState() == Qt.CheckState.Checked
        }
        self.runs.blockSignals(True)
        self.runs.clear()
        for run in runs:
            item = QListWidgetItem(f"{run.label} ({run.stopped or 'running'})")
            item.setData(Qt.ItemDataRole.UserRole, run.number)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if run.number in checked else Qt.CheckState.Unchecked
            )
            item.setToolTip(", ".join(f"{k} {v}" for k, v in run.settings.items()))
            self.runs.addItem(item)
        self.runs.blockSignals(False)
        if self.built:  # else drawn when first shown
            self.redraw()
            self.draw_overlays()

    def redraw(self) -> None:
        if not self.built:
            self.build()  # which draws
            return
        document = self.session.document
        run = self.session.current or (document.runs[-1] if document.runs else None)
        if run is not self.session.current or run is None:
            self._x_span = None
            for plot in (self.loss_plot, self.metric_plot):
                plot.enableAutoRange(axis="x")
        if run is None:
            self._validation_drawn = None
            for curve in self._curves():
                curve.setData([], [])
            self._name_metric(self._project_metric())
        else:
            offset = run.start_step  # a continued run: from where it went on
            if self.session.current is run and self.session.reports:
                # the x axis spans the whole run from the start: its ticks are drawn once
                # from 0: a continued run is drawn after the steps its weights had before
                span = (0, offset + self.session.reports[-1].total_steps)
                if span != self._x_span:
                    self._x_span = span
                    for plot in (self.loss_plot, self.metric_plot):
                        plot.setXRange(*span, padding=0.02)
            self._draw_training(run.curve, offset)
            if (id(run), len(run.val_steps)) == self._validation_drawn:
                return  # validation points come once an epoch: nothing new to draw there
            self._validation_drawn = (id(run), len(run.val_steps))
            steps = [step + offset for step in run.val_steps]
            self.val_curve.setData(steps, _positive(run.val_loss))
            shown = [
                (x, v) for x, v in zip(steps, run.val_metric, strict=False) if math.isfinite(v)
            ]
            self.metric_curve.setData([x for x, _ in shown], [v for _, v in shown])
            self._name_metric(run.metric)

    def _curves(self) -> tuple:
        return (
            self.train_curve,
            self.train_trend,
            self.train_low,
            self.train_high,
            self.val_curve,
            self.metric_curve,
        )

    def _draw_training(self, curve: LossCurve, offset: int = 0) -> None:
        steps = np.asarray(curve.steps, dtype=np.float64) + offset
        mean = np.asarray(curve.mean, dtype=np.float64)
        self.train_curve.setData(steps, _positive(mean))
        self.train_trend.setData(steps, _positive(trend(mean)))
        if curve.exact:
            self.train_low.setData([], [])
            self.train_high.setData([], [])
        else:
            self.train_low.setData(steps, _positive(np.asarray(curve.low)))
            self.train_high.setData(steps, _positive(np.asarray(curve.high)))

    def _project_metric(self) -> str | None:
        """The metric of the task the open project trains on (before any run has one)."""
        try:
            task, _options = task_of(self.session.document.project)
        except RNNBuilderError:
            return None
        return task.metric

    def _name_metric(self, metric: str | None) -> None:
        """Title the plots for the task's metric from the start: a regression has none, so
        its metric plot goes and the loss says it is the mean squared error (a forecast was
        titled "Validation accuracy", the last project's, until its first epoch ended)."""
        if metric == self._metric:
            return  # setting a title lays the plot out again
        self._metric = metric
        regression = metric == "mse"
        self.loss_plot.setTitle("Loss (mean squared error)" if regression else "Loss")
        self.metric_plot.setVisible(not regression)
        if regression:
            return
        name = METRIC_TITLES.get(metric, "metric") if metric else "metric"
        self.metric_plot.setTitle(f"Validation {name}")
        self.metric_plot.setYRange(0.0, 1.0, padding=0.03)  # a fraction: 100 % looks like it

    def draw_overlays(self) -> None:
        """The curves of the earlier runs ticked in the list (redrawn when the ticks change)."""
        if not self.built:
            return
        pg = pyqtgraph()
        for overlay in self.overlays:
            self.loss_plot.removeItem(overlay)
        self.overlays = []
        document_runs = {r.number: r for r in self.session.document.runs}
        for i in range(self.runs.count()):
            item = self.runs.item(i)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            earlier = document_runs.get(item.data(Qt.ItemDataRole.UserRole))
            if earlier is None:
                continue
            color = RUN_COLORS[(earlier.number + 2) % len(RUN_COLORS)]
            curve = self.loss_plot.plot(
                np.asarray(earlier.curve.steps, dtype=np.float64) + earlier.start_step,
                _positive(trend(np.asarray(earlier.curve.mean, dtype=np.float64))),
                pen=pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine),
                name=f"run {earlier.number}",
            )
            self.overlays.append(curve)

    def point_count(self) -> int:
        if not self.built:
            return 0
        x, _y = self.train_curve.getData()
        return 0 if x is None else len(x)


METRIC_TITLES = {
    "accuracy": "accuracy",
    "token_accuracy": "token accuracy",
    "sequence_accuracy": "sequences exactly right",
}


def log_ticks(low: float, high: float, most: int = 6) -> list[tuple[float, str]]:
    """Labelled ticks for a log10 axis showing 10**low to 10**high (tick positions are
    exponents): whole decades when they are enough, else 1-2-5 steps, else every digit, else
    a few round values — at most ``most``, so that no two labels share a place."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    decades = range(math.floor(low), math.ceil(high) + 1)
    inside: list[float] = []
    for mantissas in ((1,), (1, 2, 5), range(1, 10)):
        values = [m * 10.0**d for d in decades for m in mantissas]
        inside = [v for v in values if low <= math.log10(v) <= high]
        if len(inside) >= 3:
            break
    if len(inside) < 2:  # under a digit's step (0.70 to 0.72): round values on a linear step
        bottom, top = 10.0**low, 10.0**high
        step = _round_step((top - bottom) / 3)
        inside = [k * step for k in range(math.ceil(bottom / step), math.floor(top / step) + 1)]
    stride = math.ceil(len(inside) / most)
    return [(math.log10(v), f"{v:g}") for v in inside[::stride] if v > 0]


def _round_step(rough: float) -> float:
    """1, 2 or 5 times a power of ten, the nearest above ``rough``."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def trend(values: np.ndarray, points: int = TREND_POINTS) -> np.ndarray:
    """Each point's mean with its neighbours, ``len(values) // points`` of them around it (fewer
    at the ends): the loss's course through its step-to-step noise, centred so that it does
    not lag behind a sudden fall, and as smooth early in a run as late."""
    half = len(values) // points // 2
    if half == 0:
        return values
    sums = np.cumsum(np.concatenate([[0.0], values]))
    middle = np.arange(len(values))
    starts = np.maximum(middle - half, 0)
    ends = np.minimum(middle + half + 1, len(values))
    return (sums[ends] - sums[starts]) / (ends - starts)


def _positive(values) -> np.ndarray:
    """Values a log scale can draw: what is not above zero sits at 1e-12."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(values > 0, values, 1e-12)
