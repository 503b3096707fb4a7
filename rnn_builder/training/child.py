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

from rnn_builder.training.messages import Message, MessageError, pack, unpack

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
        try:
            while True:
                message = unpack(connection.recv_bytes())
                if message.kind in ("train", "quit"):
                    if message.kind == "train":
                        controls[0] = Controls(send)
                    work.put(message)
                    if message.kind == "quit":
                        return
                else:
                    controls[0].apply(message.kind)
        except (EOFError, OSError, MessageError):
            controls[0].apply("stop")  # the editor is gone: stop training, and end
            work.put(None)

    from rnn_builder.engine import executor  # noqa: F401  (the stack, imported while waiting)
    from rnn_builder.engine.runtime import runtime

    runtime().configure()  # the child owns its process: the command line's settings

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
    from rnn_builder.files.serialization import project_from_dict
    from rnn_builder.training.tasks import load_dataset
    from rnn_builder.training.trainer import Report, Trainer

    options = message.data
    try:
        project = project_from_dict(options["project"], _registry(options.get("plugins", [])))
        base = options.get("base")
        dataset = load_dataset(project, base=None if base is None else _path(base))
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
            report_every=float(options.get("report_every", 0.2)),
            max_steps=options.get("max_steps"),
        )
        controls.attach(trainer)
        result = trainer.train()
    except RNNBuilderError as error:
        send("failed", {"message": str(error)})
        return
    except Exception as error:  # a bug: said in one line, and the child lives on
        send(
            "failed", {"message": f"Training failed unexpectedly: {type(error).__name__}: {error}"}
        )
        return
    data = _plain(result.to_json())
    data["options"] = dataset.info["options"]
    send("done", data, executor.get_parameters())


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
