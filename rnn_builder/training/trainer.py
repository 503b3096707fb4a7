"""The trainer: mini-batches, optimizers, clipping, schedules, validation, early stopping.

It runs in the caller's thread and reports through a callback (the GUI calls it from a worker
thread and forwards the reports by signal); :meth:`Trainer.pause`, :meth:`~Trainer.resume` and
:meth:`~Trainer.cancel` may be called from any other thread and take effect between steps.
Training is deterministic: the seed fixes the initial weights and the order of the batches.

A loss or gradient that is NaN or infinite stops training with a message and puts back the last
weights that gave a finite loss. At the end the weights with the best validation loss are kept.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.losses import LossTotals
from rnn_builder.engine.ops import DelayOp
from rnn_builder.engine.optim import clip_grad_norm, make_optimizer
from rnn_builder.engine.run import Batch, Run, batch_lengths
from rnn_builder.errors import DataError
from rnn_builder.files.project import TrainingSettings
from rnn_builder.training.connectivity import connectivity
from rnn_builder.training.data import Dataset, Split


@dataclass
class Report:
    """What the trainer says at each report: a step, an epoch's end, or the end."""

    kind: str  # "step", "epoch" or "final"
    step: int
    epoch: int
    epochs: int
    total_steps: int
    loss: float  # mean training loss since the previous report
    # each step's loss since the previous report, in order, ending at ``step``: a curve drawn
    # from these has one point a step whatever the machine's speed (training.curve)
    learning_rate: float
    grad_norm: float
    examples_per_second: float
    elapsed: float
    remaining: float | None
    losses: list[float] = field(default_factory=list)
    train_metric: float | None = None
    val_loss: float | None = None
    val_metric: float | None = None
    metric: str = "accuracy"
    state_grad_norms: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # ‖∂L_T/∂h_t‖: only the last step's loss, followed back (training.connectivity); empty
    # when every loss is at the end (then state_grad_norms measures it) or not measured this time
    connectivity: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "state_grad_norms"}
        data["state_grad_norms"] = self.state_grad_norms
        return data


@dataclass
class Evaluation:
    """Weights scored on a split. ``loss`` is the graph's loss over the whole split, as
    :mod:`rnn_builder.engine.losses` defines it (each Output's mean over every real target,
    summed over the Outputs): not an average of batch means, so no batch size changes it."""

    loss: float
    metric: float | None  # accuracy of the task's kind; None for regression
    examples: int


@dataclass
class TrainingResult:
    steps: int
    epochs: int
    seconds: float
    loss: float
    val_loss: float | None
    val_metric: float | None
    metric: str
    stopped: str  # "finished", "early stopping", "cancelled", "time", "steps", "not finite"
    message: str = ""
    history: list[Report] = field(default_factory=list)

    def to_json(self) -> dict:
        data = {
            "final": True,
            "steps": self.steps,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 3),
            "loss": self.loss,
            "val_loss": self.val_loss,
            "stopped": self.stopped,
            "metric": self.metric,
        }
        if self.val_metric is not None:
            data[f"val_{self.metric}"] = self.val_metric
            data["val_accuracy"] = self.val_metric
        if self.message:
            data["message"] = self.message
        return data


def learning_rate(settings: TrainingSettings, step: int, total: int) -> float:
    base = settings.learning_rate
    if settings.schedule == "step":
        return base * 0.5 ** min(2, int(3 * step / max(total, 1)))
    if settings.schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * min(step / max(total, 1), 1.0)))
    return base


class Trainer:
    def __init__(
        self,
        executor: Executor,
        dataset: Dataset,
        settings: TrainingSettings,
        callback: Callable[[Report], None] | None = None,
        report_every: float = 0.2,
        max_steps: int | None = None,
        max_seconds: float | None = None,
        connectivity_every: float = 1.0,
    ) -> None:
        self.executor = executor
        self.dataset = dataset
        self.settings = settings
        self.callback = callback
        self.report_every = report_every  # seconds between step reports
        # seconds between two measures of the gradient's travel back through time (one more
        # backward pass each: at most one a second costs a fast step loop under 1 %)
        self.connectivity_every = connectivity_every
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self._running = threading.Event()
        self._running.set()
        self.waiting = threading.Event()  # set while a paused trainer waits to be resumed
        self.steps_taken = 0  # readable from any thread while training runs
        self._cancelled = threading.Event()
        self.optimizer = make_optimizer(
            settings.optimizer,
            executor.store.flat,
            executor.store.grad_flat,
            settings.learning_rate,
            settings.weight_decay,
        )
        self._check_truncation()

    # --- control from other threads -------------------------------------------------------

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused trainer so that it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # --- training -------------------------------------------------------------------------

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.dataset.train) / self.settings.batch_size))

    def train(self) -> TrainingResult:
        settings, executor = self.settings, self.executor
        store = executor.store
        rng = np.random.default_rng(settings.seed)
        total = self.steps_per_epoch() * settings.epochs
        if self.max_steps is not None:
            total = min(total, self.max_steps)
        start = time.perf_counter()
        last_report = start
        best_loss, best_weights = math.inf, store.flat.copy()
        last_good = store.flat.copy()
        history: list[Report] = []
        step, epoch, stalled = 0, 0, 0
        stopped, message = "finished", ""
        loss_sum, metric_sum, counted, seen = 0.0, 0.0, 0, 0
        losses: list[float] = []  # each step's, since the last report
        grad_norm = 0.0
        # the last step's gradient norms at the states, not its run: a run holds every value and
        # cache of a step, and one kept through the next step doubled its peak (issue 22)
        last_norms: dict[str, dict[str, list[float]]] = {}
        last_batch: Batch | None = None  # a batch holds only its data: kept to measure on
        measured_at = -math.inf  # when connectivity was last measured
        evaluation: Evaluation | None = None

        def report(kind: str, note: str = "") -> Report:
            nonlocal loss_sum, metric_sum, counted, seen, last_report, losses, measured_at
            now = time.perf_counter()
            flow = {}
            if last_batch is not None and now - measured_at >= self.connectivity_every:
                flow, measured_at = connectivity(executor, last_batch), now
            elapsed = now - start
            rate = step / elapsed if elapsed > 0 else 0.0
            remaining = (total - step) / rate if rate > 0 and kind != "final" else None
            item = Report(
                kind=kind,
                step=step,
                epoch=epoch,
                epochs=settings.epochs,
                total_steps=total,
                loss=loss_sum / counted if counted else (history[-1].loss if history else math.nan),
                learning_rate=self.optimizer.lr,
                grad_norm=grad_norm,
                examples_per_second=seen / max(now - last_report, 1e-9),
                elapsed=elapsed,
                remaining=remaining,
                losses=losses,
                train_metric=metric_sum / counted if counted else None,
                val_loss=evaluation.loss if evaluation else None,
                val_metric=evaluation.metric if evaluation else None,
                metric=self.dataset.metric,
                state_grad_norms=last_norms,
                connectivity=flow,
                message=note,
            )
            loss_sum, metric_sum, counted, seen, last_report = 0.0, 0.0, 0, 0, now
            losses = []
            history.append(item)
            if self.callback is not None:
                self.callback(item)
            return item

        try:
            while epoch < settings.epochs and stopped == "finished":
                epoch += 1
                for batch in self._batches(self.dataset.train, rng):
                    if not self._running.is_set():
                        self.waiting.set()
                        self._running.wait()
                        self.waiting.clear()
                    if self._cancelled.is_set():
                        stopped = "cancelled"
                        break
                    if step >= total:
                        stopped = "steps"
                        break
                    if self.max_seconds and time.perf_counter() - start > self.max_seconds:
                        stopped = "time"
                        break
                    self.optimizer.lr = learning_rate(settings, step, total)
                    last_good[...] = store.flat
                    with np.errstate(all="ignore"):  # a blow-up is caught just below
                        loss, run, grad_norm = self._step(batch)
                    if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                        store.flat[...] = last_good
                        stopped = "not finite"
                        what = "loss" if not math.isfinite(loss) else "gradient"
                        kept = (
                            "the weights with the best validation loss so far"
                            if math.isfinite(best_loss)
                            else "the last good weights"
                        )
                        message = (
                            f"Training stopped at step {step + 1}: the {what} became NaN or "
                            f"infinite, so {kept} are back. Try a smaller learning rate, "
                            "gradient clipping, or an LSTM or GRU cell."
                        )
                        break
                    last_norms, last_batch = _norms(run), batch
                    step += 1
                    self.steps_taken = step
                    loss_sum += loss
                    losses.append(float(loss))
                    batch_metric = run.accuracy()
                    metric_sum += batch_metric if batch_metric is not None else 0.0
                    counted += 1
                    seen += run.batch_size
                    run = None  # let it go before the next step, not after it
                    if time.perf_counter() - last_report >= self.report_every:
                        report("step")
                if stopped not in ("finished", "steps", "time"):
                    break
                evaluation = self.evaluate(self.dataset.validation)
                if evaluation is not None and evaluation.loss < best_loss:
                    best_loss, best_weights[...] = evaluation.loss, store.flat
                    stalled = 0
                else:
                    stalled += 1
                report("epoch")
                if settings.patience and stalled >= settings.patience:
                    stopped = "early stopping"
                if stopped in ("steps", "time"):
                    break
        except KeyboardInterrupt:
            stopped = "cancelled"
        if math.isfinite(best_loss):
            store.flat[...] = best_weights  # the best checkpoint
            evaluation = self.evaluate(self.dataset.validation)
        final = report("final", message)
        return TrainingResult(
            steps=step,
            epochs=epoch,
            seconds=final.elapsed,
            loss=final.loss,
            val_loss=evaluation.loss if evaluation else None,
            val_metric=evaluation.metric if evaluation else None,
            metric=self.dataset.metric,
            stopped=stopped,
            message=message,
            history=history,
        )

    def _step(self, batch: Batch) -> tuple[float, Run, float]:
        executor, settings = self.executor, self.settings
        if settings.truncated_bptt:
            return self._truncated_step(batch)
        run = executor.forward(batch, train=True)
        loss = run.loss
        if not math.isfinite(loss):
            return loss, run, 0.0
        executor.backward(run)
        grads = executor.store.grad_flat
        norm = (
            clip_grad_norm(grads, settings.clip_norm)
            if settings.clip_norm
            else float(np.sqrt(np.dot(grads, grads)))
        )
        if math.isfinite(norm):
            self.optimizer.step()
        return loss, run, norm

    # --- truncated backpropagation through time ---------------------------------------------

    def _check_truncation(self) -> None:
        if not self.settings.truncated_bptt:
            return
        report = self.executor.report
        outputs = self.executor.graph.outputs()
        axes = set(report.axes)
        per_step = all(n.id in report.node_axes for n in outputs)
        cells = [op for op in self.executor.ops.values() if hasattr(op, "suffixes")]
        if len(axes) != 1 or not per_step or any(len(op.suffixes) > 1 for op in cells):
            raise DataError(
                "truncated backpropagation through time needs one time axis, an output at "
                "every step and no bidirectional cell (a many-to-many tagger or language "
                "model); set truncated BPTT to 0 for this graph"
            )
        # A cell's final states start the next chunk; a Delay's last input is not carried, so
        # each chunk would start it again from its initial value (a generating decoder would
        # see its start token at every chunk): refused rather than trained on wrong sequences.
        for node_id, op in self.executor.ops.items():
            if isinstance(op, DelayOp):
                name = self.executor.graph.node(node_id).name
                raise DataError(
                    "truncated backpropagation through time cannot carry the value of the "
                    f"Delay '{name}' from one chunk to the next; set truncated BPTT to 0 for "
                    "this graph"
                )
        graph = self.executor.graph
        for edge in graph.edges:  # a sequence read whole would be read a chunk at a time
            if edge.dst_port in graph.node_type(edge.dst_node).whole_axis_ports():
                raise DataError(
                    f"{graph.describe(edge.dst_node)} reads the whole of its {edge.dst_port} at "
                    "every step, and truncated backpropagation through time would give it one "
                    "chunk at a time; set truncated BPTT to 0 for this graph"
                )

    def _truncated_step(self, batch: Batch) -> tuple[float, Run, float]:
        """Chunks of ``truncated_bptt`` steps, each starting from the last one's final
        states (as constants: gradients stop at the chunk's edge). The axis's length is the
        batch's as the executor resolves it: an input's, or a Repeat's steps."""
        executor, settings = self.executor, self.settings
        length = settings.truncated_bptt
        axis = next(iter(executor.report.axes))
        total_steps = batch_lengths(executor, batch)[axis]
        states: dict[str, dict[str, np.ndarray]] = {}
        totals, norms, run = LossTotals(), [], None  # the batch's loss over all its chunks
        for begin in range(0, total_steps, length):
            chunk = _time_slice(batch, begin, min(begin + length, total_steps), axis, executor)
            chunk.states = states
            run = executor.forward(chunk, train=True)
            if not math.isfinite(run.loss):
                return run.loss, run, 0.0
            executor.backward(run)
            grads = executor.store.grad_flat
            norm = (
                clip_grad_norm(grads, settings.clip_norm)
                if settings.clip_norm
                else float(np.sqrt(np.dot(grads, grads)))
            )
            if math.isfinite(norm):
                self.optimizer.step()
            totals.add(run.losses)
            norms.append(norm)
            states = {
                node_id: {
                    port: run.values[(node_id, final)]
                    for port, final in zip(op.state_ports, op.final_ports, strict=True)
                }
                for node_id, op in executor.ops.items()
                if hasattr(op, "state_ports")
            }
        return totals.loss, run, float(max(norms))

    # --- evaluation -----------------------------------------------------------------------

    def evaluate(self, split: Split) -> Evaluation | None:
        return evaluate(self.executor, self.dataset, split, self.settings.batch_size)

    def _batches(self, split: Split, rng: np.random.Generator) -> Iterator[Batch]:
        return split.batches(
            self.settings.batch_size, rng, self.executor.report, self.executor.graph
        )


def evaluate(
    executor: Executor, dataset: Dataset, split: Split | None = None, batch_size: int = 256
) -> Evaluation | None:
    """Loss and metric on a split (the validation split by default), running free: a decoder
    feeds back its own predictions, as it will when used."""
    split = dataset.validation if split is None else split
    if len(split) == 0:
        return None
    totals, total, hits, counted = LossTotals(), 0, 0.0, 0
    target = dataset.target
    output = executor.graph.output_for(target).id
    for batch in split.batches(batch_size, None, executor.report, executor.graph):
        run = executor.forward(batch, train=False)
        totals.add(run.losses)
        total += run.batch_size
        result = run.losses.get(output)
        if result is None:
            continue
        if dataset.metric in ("accuracy", "token_accuracy"):
            hits += result.correct
            counted += result.counted
        elif dataset.metric == "sequence_accuracy":
            predicted = run.predictions[output].argmax(axis=-1)
            truth = batch.targets[target]
            valid = truth >= 0
            hits += float(np.all((predicted == truth) | ~valid, axis=0).sum())
            counted += truth.shape[1]
    metric = hits / counted if counted else None
    return Evaluation(totals.loss, metric, total)


def _norms(run: Run | None) -> dict[str, dict[str, list[float]]]:
    if run is None:
        return {}
    return {
        node: {direction: [float(v) for v in values] for direction, values in per.items()}
        for node, per in run.state_grad_norms.items()
    }


def _time_slice(batch: Batch, begin: int, end: int, axis: str, executor: Executor) -> Batch:
    """Steps ``begin`` to ``end`` of ``batch``, on its one axis; a Repeat's axis is asked for
    that many steps (a Repeat hands the same vector to every step, so any slice of it is the
    same steps)."""
    report = executor.report
    inputs = {k: (v[begin:end] if k in report.node_axes else v) for k, v in batch.inputs.items()}
    targets = {k: v[begin:end] for k, v in batch.targets.items()}
    masks = {k: v[begin:end] for k, v in batch.masks.items()}
    steps = {**batch.steps, axis: end - begin} if report.axes[axis].kind != "input" else {}
    return Batch(inputs, targets, masks, steps)
