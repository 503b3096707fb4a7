"""The training process's own side: ``python -m rnn_builder.training.child FD``.

It imports the training stack while it waits, says ``"ready"``, reads the editor's messages on a
thread of its own (so that pause, resume, stop and a request for the weights reach the trainer
between two steps) and trains on its main thread, exactly as the command line's ``train`` does:
the same weights bit for bit (tested). It sends reports, the weights when asked and at the end,
or a one-line failure (see :mod:`rnn_builder.training.messages`).
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from rnn_builder.training.messages import (
    FROM_EDITOR,
    Message,
    MessageError,
    StreamError,
    pack,
    receive,
)

Array = np.ndarray


def _registry(plugins: list[list[str]]):
    """The built-in registry, or one with the plug-ins the editor uses too."""
    from rnn_builder.errors import RNNBuilderError
    from rnn_builder.graph.registry import NodeRegistry, default_registry

    if not plugins:
        return default_registry()
    registry = NodeRegistry()
    for node_type in default_registry():
        registry.register(node_type)
    for module, name in plugins:
        try:
            found: Any = importlib.import_module(module)
            for part in name.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as error:
            raise RNNBuilderError(
                f"the training process cannot load the node type {module}.{name}: {error}"
            ) from None
        registry.register(found)
    return registry


class Controls:
    """What the pipe's reader thread hands to the training: the trainer's controls, kept
    when they come before the trainer exists. A pause is acknowledged (``"paused"``, with the
    steps taken) once the trainer is parked between two steps."""

    def __init__(self, send=None) -> None:
        self.send = send
        self.lock = threading.Lock()
        self.trainer = None
        self.paused = False
        self.stopped = False
        self.weights_wanted = threading.Event()

    def apply(self, kind: str) -> None:
        with self.lock:
            if kind == "pause":
                self.paused = True
            elif kind == "resume":
                self.paused = False
            elif kind == "stop":
                self.stopped = True
            elif kind == "want_weights":
                self.weights_wanted.set()
            trainer = self.trainer
            if trainer is not None:
                if kind == "pause":
                    trainer.pause()
                    self._acknowledge(trainer)
                elif kind == "resume":
                    trainer.resume()
                elif kind == "stop":
                    trainer.cancel()

    def attach(self, trainer) -> None:
        with self.lock:
            self.trainer = trainer
            if self.paused:
                trainer.pause()
                self._acknowledge(trainer)
            if self.stopped:
                trainer.cancel()

    def _acknowledge(self, trainer) -> None:
        """Say ``"paused"`` once the trainer waits (on a thread: the reader reads on)."""

        def wait() -> None:
            while trainer.paused and not trainer.waiting.wait(0.05):
                pass
            if trainer.paused and trainer.waiting.is_set() and self.send is not None:
                self.send("paused", {"step": trainer.steps_taken})

        threading.Thread(target=wait, name="pause", daemon=True).start()


def main(connection: Connection) -> None:
    """The child: read commands on a thread, train on the main thread."""
    work: queue.Queue[Message | None] = queue.Queue()
    lock = threading.Lock()

    def send(kind: str, data: dict | None = None, arrays: dict | None = None) -> None:
        message = pack(kind, data, arrays)
        with lock, contextlib.suppress(OSError):  # the editor gone: the reader ends us
            connection.send_bytes(message)

    controls = [Controls(send)]

    def read() -> None:
        """Read the editor's messages until it goes. A message refused is answered in one
        line (``"refused"``) and reading goes on; a frame that cannot be read loses the
        stream, which ends the child as the editor's going does (a run in progress stops and
        sends its weights first): never a reader gone while the child lives on."""
        while True:
            try:
                message = receive(connection, FROM_EDITOR)
            except (EOFError, OSError, StreamError):
                controls[0].apply("stop")  # the editor is gone: stop training, and end
                work.put(None)
                return
            except MessageError as error:
                why = f"the training process refused a message from the editor: {error}"
                send("refused", {"message": why})
                continue
            if message.kind in ("train", "quit"):
                if message.kind == "train":
                    controls[0] = Controls(send)
                work.put(message)
                if message.kind == "quit":
                    return
            else:
                controls[0].apply(message.kind)

    from rnn_builder.engine import executor  # noqa: F401  (the stack, imported while waiting)
    from rnn_builder.engine.runtime import runtime

    runtime().configure(loop_threads=2)  # the child owns its process: the command line's settings

    send("ready")
    threading.Thread(target=read, name="commands", daemon=True).start()
    while True:
        message = work.get()
        if message is None or message.kind == "quit":
            return
        _train(send, message, controls[0])


def _train(send, message: Message, controls: Controls) -> None:
    from rnn_builder.engine.executor import Executor
    from rnn_builder.errors import RNNBuilderError
    from rnn_builder.files.data_paths import DataFolder
    from rnn_builder.files.serialization import project_from_dict
    from rnn_builder.training.tasks import load_dataset
    from rnn_builder.training.trainer import Report, Trainer
    from rnn_builder.values import one_line

    options = message.data  # checked against its schema (messages.SCHEMAS["train"])
    try:
        project = project_from_dict(options["project"], _registry(options["plugins"]))
        base = options["base"]
        if base is not None:  # the files outside the folder that the user allowed, only
            allowed = frozenset(_path(path) for path in options["outside_data"])
            base = DataFolder(_path(base), allowed)
        dataset = load_dataset(project, base=base)
        executor = Executor(project.graph, seed=project.training.seed)
        if message.arrays:
            executor.set_parameters(message.arrays, strict=False)

        def report(entry: Report) -> None:
            epoch_end = entry.kind == "epoch"
            if controls.weights_wanted.is_set() or epoch_end:
                controls.weights_wanted.clear()
                said = {"step": entry.step, "epoch_end": epoch_end, "val_loss": entry.val_loss}
                send("weights", _plain(said), executor.get_parameters())
            send("report", _plain(entry.to_json()))

        trainer = Trainer(
            executor,
            dataset,
            project.training,
            report,
            report_every=float(options["report_every"]),
            max_steps=options["max_steps"],
        )
        controls.attach(trainer)
        result = trainer.train()
        done = {
            "steps": result.steps,
            "epochs": result.epochs,
            "seconds": result.seconds,
            "loss": result.loss,
            "val_loss": result.val_loss,
            "val_metric": result.val_metric,
            "metric": result.metric,
            "stopped": result.stopped,
            "message": result.message,
            "options": dataset.info["options"],
        }
        send("done", _plain(done), executor.get_parameters())
    except RNNBuilderError as error:
        send("failed", {"message": one_line(str(error))})
    except Exception as error:  # a bug: said in one line, and the child lives on
        why = f"Training failed unexpectedly: {type(error).__name__}: {error}"
        send("failed", {"message": one_line(why)})


def _path(text: str):

    return Path(text)


def _plain(value: Any) -> Any:
    """JSON-ready: numbers as Python numbers (NaN and infinities stay: JSON's extension)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


if __name__ == "__main__":  # python -m rnn_builder.training.child FD
    main(Connection(int(sys.argv[1])))
