"""Where an attention looks: its alignment for one example as a heatmap (pyqtgraph), target
steps down and source steps across, each labelled with its word.

:class:`AlignmentView` — for a validation example, or for the input typed into its probe box:
the weight a_ts that the attention's query step t (a row: the token the decoder wrote there)
gave memory step s (a column: the token the encoder read there), on a 0–1 colour scale, with
the weight of the cell under the mouse said beside it. Any node whose type keeps an
``alignment`` record (``NodeType.records``) can be chosen; its memory is the sequence it reads
whole (``PortSpec.whole_axis``).

It shows the network as it is: drawn again with the running network's latest weights at each
frame of a run (``ui.training.live``: at most the training's frame rate), when a run ends, when
another project opens or the probe's input changes. The pass runs on a helper thread — a whole
free-running pass of the translation template on 40 letters takes 10–20 ms in float64, most of
a frame — and the latest request wins: one asked for while a pass runs is made when it ends,
with whatever is newest then. While stepping (``Live._show_step``) it shows the walk instead:
the rows the walk has computed (``Stepper.alignments``), the others blank, filling in as it
advances. Its plot (and pyqtgraph) is made at the first drawing, never at start-up.

Without a target (a typed input) the decoder writes until it writes ``<end>``: the rows end
there, as ``predict`` reads the output; a validation example shows its target's steps.
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.budget import OUT_OF_MEMORY
from rnn_builder.graph.model import Graph
from rnn_builder.training.data import make_batch
from ui.training.plots import DrawnWhenSeen, follow_palette, pyqtgraph
from ui.training.probe import Probe, ProbeBox

RECORD = "alignment"  # the record (NodeType.records) the view draws
END = "<end>"  # the class a decoder ends with (every task and own data name it so)
NOT_YET = "·"  # a row's word before the walk has computed it


def attention_nodes(graph: Graph) -> list[str]:
    """The nodes whose type keeps an alignment, in the graph's order."""
    return [
        node.id
        for node in graph
        if any(record.name == RECORD for record in graph.node_type(node.id).records)
    ]


def memory_source(graph: Graph, node_id: str) -> str | None:
    """The node whose sequence ``node_id`` reads whole (an attention's memory), if wired."""
    for port in sorted(graph.node_type(node_id).whole_axis_ports()):
        edges = graph.edges_into(node_id, port)
        if edges:
            return edges[0].src_node
    return None


@dataclass(frozen=True)
class Computed:
    """What a pass, or a walk so far, computed that the view draws — for the first example of
    its batch: each alignment ``(T_query, T_memory)`` with the query steps computed, each
    Output's prediction, the inputs and targets, and each node's time axis."""

    alignments: dict[str, np.ndarray]
    rows: dict[str, frozenset[int]]
    predictions: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    axes: dict[str, str | None]
    walked: bool = False  # a walk (stepping), not a whole pass

    @classmethod
    def of_run(cls, run) -> Computed:
        alignments = {node: np.asarray(a)[:, 0] for node, a in run.alignments.items()}
        return cls(
            alignments,
            {node: frozenset(range(a.shape[0])) for node, a in alignments.items()},
            {node: np.asarray(p)[..., 0, :] for node, p in run.predictions.items()},
            _first(run.batch.inputs),
            _first(run.batch.targets),
            dict(run.executor.report.node_axes),
        )

    @classmethod
    def of_walk(cls, stepper) -> Computed:
        alignments = {node: np.asarray(a)[:, 0] for node, a in stepper.alignments.items()}
        graph, axes = stepper.executor.graph, stepper.executor.report.node_axes
        lengths = stepper.run.lengths
        for node in attention_nodes(graph):  # not reached yet: its rows are all to come
            source = memory_source(graph, node)
            if node not in alignments and source is not None:
                shape = (lengths[axes[node]], lengths[axes[source]])
                alignments[node] = np.zeros(shape)
        rows = {
            node: frozenset(k.t for k in stepper.details if k.node == node and k.t is not None)
            for node in alignments
        }
        predictions = {
            node: np.asarray(value)[..., 0, :]
            for (node, port), value in stepper.values.items()
            if port == "prediction"
        }
        return cls(
            alignments,
            rows,
            predictions,
            _first(stepper.batch.inputs),
            _first(stepper.batch.targets),
            dict(stepper.executor.report.node_axes),
            walked=True,
        )


def _first(values: dict) -> dict[str, np.ndarray]:
    """Each array's first example (batches are time-major: ``(T, B, …)``; vectors ``(B, …)``)."""
    out = {}
    for name, value in values.items():
        value = np.asarray(value)
        out[name] = value[:, 0] if value.ndim >= 2 else value[:1]
    return out


def forward_pass(graph: Graph, weights: dict | None, seed: int, example: dict) -> Computed:
    """One free-running pass of ``example`` (as ``predict`` runs it), in float64 as the other
    views explain; safe on a helper thread (it reads only what it is given)."""
    executor = Executor(graph, dtype=np.float64, seed=seed)
    if weights:
        executor.set_parameters(weights, strict=False)
    batch = make_batch([example], executor.report, executor.graph)
    return Computed.of_run(executor.forward(batch, train=False))


@dataclass(frozen=True)
class Picture:
    """What is drawn: one attention's weights, a row per query step shown (NaN: not computed
    yet), a column per memory step, and the words of both."""

    node: str
    weights: np.ndarray  # (rows, memory steps)
    written: list[str]  # each row's word: what the decoder wrote there
    read: list[str]  # each column's word: what the encoder read there
    computed: int  # rows computed
    summary: str  # html: what was read and written


def picture(
    computed: Computed,
    graph: Graph,
    node: str,
    token_name: Callable[[int], str],
    class_name: Callable[[int], str],
) -> Picture:
    """The heatmap of ``node`` in ``computed``, in words."""
    weights = np.array(computed.alignments[node], dtype=float)
    rows = computed.rows[node]
    axes = computed.axes
    query_axis = axes.get(node)
    source = memory_source(graph, node)
    memory_axis = axes.get(source) if source is not None else None
    read = _tokens_on(computed, memory_axis, token_name) or []
    read = (read + [str(s) for s in range(len(read), weights.shape[1])])[: weights.shape[1]]
    output, chosen, target = _output_on(computed, graph, query_axis)
    if chosen is not None:
        written = [class_name(int(c)) for c in chosen]
    else:
        written = _tokens_on(computed, query_axis, token_name) or []
    written = (written + [str(t) for t in range(len(written), weights.shape[0])])[
        : weights.shape[0]
    ]
    shown = weights.shape[0]
    if chosen is not None and target is None:  # free running: it wrote until its <end>
        ends = [t for t in sorted(rows) if written[t] == END]
        if ends:
            shown = ends[0] + 1
    missing = [t for t in range(shown) if t not in rows]
    weights = weights[:shown]
    weights[missing] = np.nan
    written = [NOT_YET if t in missing else w for t, w in enumerate(written[:shown])]
    summary = _summary(read, written, target, class_name, output, graph)
    return Picture(node, weights, written, read, shown - len(missing), summary)


def _tokens_on(computed: Computed, axis, token_name) -> list[str] | None:
    """The words of the token input on ``axis`` (what the network read there), if any."""
    if axis is None:
        return None
    for input_id, value in computed.inputs.items():
        if value.ndim == 1 and value.dtype.kind in "iu" and computed.axes.get(input_id) == axis:
            return [token_name(int(v)) for v in value]
    return None


def _output_on(computed: Computed, graph: Graph, axis):
    """The cross-entropy Output on ``axis``: its id, its chosen classes and its target."""
    for node in graph.outputs():
        prediction = computed.predictions.get(node.id)
        if (
            prediction is None
            or computed.axes.get(node.id) != axis
            or node.params["loss"] != "cross_entropy"
            or prediction.ndim != 2
        ):
            continue
        target = computed.targets.get(node.params["target"])
        return node.id, prediction.argmax(-1), target
    return None, None, None


def _joined(words: list[str]) -> str:
    """Letters as a word (``noitnetta``), words with spaces between."""
    if all(len(w) == 1 for w in words):
        return "".join(words)
    return " ".join(words)


def _summary(read, written, target, class_name, output, graph) -> str:
    shown = [w for w in written if w != NOT_YET]
    text = f"<b>read</b> {html.escape(_joined(read))}"
    ended = bool(shown) and shown[-1] == END
    words = shown[:-1] if ended else shown
    text += f" &nbsp;→&nbsp; <b>wrote</b> {html.escape(_joined(words))}"
    if ended:
        text += " " + html.escape(END)
    if target is not None and output is not None:
        truth = [class_name(int(c)) for c in target if c >= 0]
        if truth[: len(written)] != written and len(shown) == len(written):
            text += (
                f" <span style='color:#d0342c'>(the target: "
                f"{html.escape(_joined(truth[:-1] if truth[-1:] == [END] else truth))})</span>"
            )
    return text


class _Finished(QObject):
    """Tells the GUI thread that the helper's pass ended (a queued signal)."""

    done = Signal()


class AlignmentView(DrawnWhenSeen, QWidget):
    def __init__(self, context, probe: Probe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alignment")
        self.context = context
        self.probe = probe
        # beside its box, the prediction: a row less above the heatmap
        self.probe_box = ProbeBox(probe, "alignment_probe", QBoxLayout.Direction.LeftToRight)
        self.node = QComboBox()
        self.node.setObjectName("alignment_node")
        self.node.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.node.setToolTip("Which attention to look at")
        self.example = QSpinBox()
        self.example.setObjectName("alignment_example")
        self.example.setRange(0, 100_000)
        self.example.setToolTip("Which validation example to look at")
        self.summary = QLabel()
        self.summary.setObjectName("alignment_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.hover = QLabel()
        self.hover.setObjectName("alignment_hover")
        self.hover.setWordWrap(True)
        self.hover.setTextFormat(Qt.TextFormat.RichText)
        top = QHBoxLayout()
        top.addWidget(QLabel("Attention"))
        top.addWidget(self.node)
        top.addWidget(QLabel("Example"))
        top.addWidget(self.example)
        top.addWidget(self.probe_box)
        top.addStretch(1)
        # The heatmap's cells are square (a reversal's anti-diagonal at 45°), so it takes the
        # dock's whole height, and the words about it go beside it, not above or under it.
        side = QVBoxLayout()
        side.addWidget(self.summary)
        side.addWidget(self.hover)
        side.addStretch(1)
        self._body = QHBoxLayout()
        self._body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self._body, 1)
        self.plot = None  # the heatmap's pyqtgraph plot, made at the first drawing
        self.image = None
        self.shown: Picture | None = None  # what is drawn
        self.walk = None  # the Stepper being walked, shown instead of a pass
        self.passes = 0  # passes drawn (a test waits on it, not on time)
        self.wait_to_be_seen()  # drawn when it can be seen, else when it comes to the front
        # the pass on the helper thread: at most one at a time, the latest request after it
        self._job: Future | None = None
        self._job_graph: Graph | None = None  # the graph the pass under way runs
        self._wanted = False
        self._finished = _Finished(self)
        self._finished.done.connect(self._pass_ended)
        self.example.valueChanged.connect(lambda _v: self.redraw())
        self.node.currentIndexChanged.connect(lambda _i: self._node_changed())
        probe.changed.connect(self.refresh)  # (typed in the stepping toolbar: drawn when seen)

    # --- when to draw (DrawnWhenSeen, as the hidden-state view) -------------------------------

    def follow_project(self) -> None:
        self.probe_box.follow_project()
        self.refresh()

    def list_nodes(self, graph: Graph) -> None:
        """The graph's attentions to choose from (drawn again if they changed)."""
        current = self.node.currentData()
        listed = [(self.node.itemText(i), self.node.itemData(i)) for i in range(self.node.count())]
        wanted = [(graph.node(n).name, n) for n in attention_nodes(graph)]
        self.node.setEnabled(bool(wanted))
        if listed == wanted:
            return
        self.node.blockSignals(True)
        self.node.clear()
        for name, node_id in wanted:
            self.node.addItem(name, node_id)
        if current is not None:
            self.node.setCurrentIndex(max(self.node.findData(current), 0))
        self.node.blockSignals(False)
        self.refresh()

    def _node_changed(self) -> None:
        if self.walk is not None:
            self.show_walk(self.walk)
        else:
            self.redraw()

    # --- what to draw -------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw the example (typed, or the validation example chosen) with the network as it
        is: its pass runs on the helper thread and is drawn when it ends."""
        self.stale = False
        typed = self.context.typed is not None
        self.example.setEnabled(not typed and self.walk is None)
        self.example.setToolTip(
            "Clear your input to go back to the validation examples"
            if typed
            else "Which validation example to look at"
        )
        if self.walk is not None:
            return  # the walk is shown, step by step
        if self._job is not None:
            self._wanted = True  # drawn again when the pass under way ends
            return
        node = self.node.currentData()
        if node is None:
            self._say(
                "No attention to show: add an Attention node (or start from the template "
                "“Translation with attention”) to see where its decoder looks."
            )
            return
        document = self.context.document
        report = document.validate()
        if not report.ok:
            self._say("Fix the graph's problems to see its alignment.")
            return
        try:
            example = (
                self.context.typed.example if typed else self.context.example(self.example.value())
            )
        except RNNBuilderError as error:
            self._say(html.escape(str(error)))
            return
        context = self.context
        weights = context.live_weights
        if weights is None:
            weights = document.weights_if_they_fit()
        graph = document.graph.copy()  # the helper reads its own: edits cannot reach it
        self._job_graph = graph
        self._job = one_thread("views").submit(
            forward_pass, graph, weights, document.project.training.seed, example
        )
        finished = self._finished

        def ended(_future) -> None:
            with contextlib.suppress(RuntimeError):  # the view went with its window meanwhile
                finished.done.emit()

        self._job.add_done_callback(ended)

    def shutdown(self) -> None:
        """Wait for the pass under way (milliseconds), so that no thread is left to tell a
        view that is gone."""
        job, self._job, self._wanted = self._job, None, False
        if job is not None:
            with contextlib.suppress(Exception):  # its result is not wanted any more
                job.result()

    @property
    def busy(self) -> bool:
        """Whether a pass is under way or wanted after it."""
        return self._job is not None or self._wanted

    def _pass_ended(self) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        if self._wanted:  # something newer was asked for: that, not this, is drawn
            self._wanted = False
            self.redraw()
            return
        if self.walk is not None:
            return
        try:
            computed = job.result()
        except RNNBuilderError as error:
            self._say(html.escape(str(error)))
            return
        except MemoryError:
            self._say(html.escape(OUT_OF_MEMORY))
            return
        self._draw(computed, self._job_graph)
        self.passes += 1

    def show_walk(self, stepper) -> None:
        """Show the walk's rows as far as it has gone (``None``: the walk ended; back to the
        view's own example)."""
        self.walk = stepper
        if stepper is None:
            self.refresh()
            return
        self.example.setEnabled(False)
        if self.node.currentData() is None:
            return
        self._draw(Computed.of_walk(stepper), stepper.executor.graph)

    def _draw(self, computed: Computed, graph: Graph) -> None:
        node = self.node.currentData()
        if node not in computed.alignments:
            self._say("The attention has not been computed.")
            return
        context = self.context
        shown = picture(computed, graph, node, context.token_name, context.class_name)
        self.shown = shown
        self._make_plot()
        self.plot.show()
        self.image.setImage(shown.weights, levels=(0.0, 1.0), autoLevels=False)
        rows, columns = shown.weights.shape
        self.image.setRect(-0.5, -0.5, columns, rows)  # cell (t, s) centred on (s, t)
        self.plot.getViewBox().setRange(
            xRange=(-0.5, columns - 0.5), yRange=(-0.5, rows - 0.5), padding=0.02
        )
        self._label_axes()
        summary = shown.summary
        if computed.walked:
            summary = f"<i>stepping: {shown.computed} of {rows} rows computed</i> &nbsp; " + summary
        self.summary.setText(summary)
        self.hover.setText("Point at a cell to read its weight.")
        self.image.setToolTip("")

    def _say(self, text: str) -> None:
        """A message instead of the heatmap."""
        self.shown = None
        self.summary.setText(text)
        self.hover.setText("")
        if self.plot is not None:
            self.plot.hide()

    # --- the plot -----------------------------------------------------------------------------

    def _make_plot(self) -> None:
        if self.plot is not None:
            return
        pg = pyqtgraph()
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("alignment_plot")
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "read")
        item.setLabel("left", "written")
        item.invertY(True)  # the first step written at the top, as the heatmaps are printed
        item.setAspectLocked(True)  # square cells: a reversal's anti-diagonal at 45°
        item.hideButtons()
        item.layout.setContentsMargins(1, 10, 1, 1)  # room for the colour bar's top label
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self.image)
        self.colors = pg.ColorBarItem(
            values=(0, 1),
            colorMap=pg.colormap.get("viridis"),
            label="weight",
            interactive=False,
            width=14,
        )
        self.colors.setImageItem(self.image, insert_in=item)
        self._body.insertWidget(0, self.plot, 3)
        box = item.getViewBox()
        box.sigResized.connect(lambda _box: self._label_axes())
        box.sigRangeChanged.connect(lambda _box, _range: self._label_axes())
        # every move, the last one included: pyqtgraph's sigMouseMoved drops moves that come
        # within 10 ms of the one before, so a mouse that stopped could name the cell it left
        self.plot.viewport().installEventFilter(self)
        follow_palette(self)

    def _label_axes(self) -> None:
        """Every row's and column's word, or every k-th where they would run into each other
        (pyqtgraph draws each tick's label, over its neighbours if need be)."""
        if self.shown is None or self.plot is None:
            return
        item = self.plot.getPlotItem()
        box = item.getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        width, height = max(box.width(), 1.0), max(box.height(), 1.0)
        axis_font = item.getAxis("bottom").style.get("tickFont") or self.font()
        metrics = QFontMetricsF(axis_font)
        for name, words, pixels in (
            ("bottom", self.shown.read, width / max(x1 - x0, 1e-9)),
            ("left", self.shown.written, height / max(y1 - y0, 1e-9)),
        ):
            if name == "bottom":
                needed = max((metrics.horizontalAdvance(w) for w in words), default=0) + 4
            else:
                needed = metrics.height() * 0.85
            stride = max(1, math.ceil(needed / max(pixels, 1e-9)))
            ticks = [(float(k), words[k]) for k in range(0, len(words), stride)]
            item.getAxis(name).setTicks([ticks, []])

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.MouseMove and self.plot is not None:
            self._hovered(self.plot.mapToScene(event.position().toPoint()))
        return False

    def _hovered(self, scene_point) -> None:
        """The weight of the cell under the mouse, in words, beside the plot and as its tip."""
        shown = self.shown
        if shown is None or self.plot is None:
            return
        box = self.plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_point):
            return
        point = box.mapSceneToView(scene_point)
        column, row = round(point.x()), round(point.y())
        rows, columns = shown.weights.shape
        if not (0 <= row < rows and 0 <= column < columns):
            self.hover.setText("")
            self.image.setToolTip("")
            return
        text = self.cell_text(row, column)
        self.hover.setText(text)
        self.image.setToolTip(text)

    def cell_text(self, row: int, column: int) -> str:
        """What a cell says: which step wrote what, where it looked, and with what weight."""
        shown = self.shown
        weight = shown.weights[row, column]
        read = html.escape(shown.read[column])
        if math.isnan(weight):
            return f"step {row} is not computed yet · reading <b>{read}</b> (step {column})"
        written = html.escape(shown.written[row])
        return (
            f"writing <b>{written}</b> (step {row}), the weight on <b>{read}</b> "
            f"(step {column}) is <b>{weight:.3f}</b>"
        )
