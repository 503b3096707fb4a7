"""Training in a child process: the editor's window never shares an interpreter lock with the
trainer, and a trainer that dies (killed, out of memory, a crash in a native library) takes
nothing down with it.

:class:`TrainingProcess` starts one child ahead of time (:meth:`~TrainingProcess.warm`: the
child imports the training stack, says ``"ready"`` and waits), so that a Start does not wait for
imports. The child is a fresh interpreter (``python -m rnn_builder.training.process``), as
multiprocessing's ``spawn`` makes one, but started directly: ``spawn`` would run the editor's
``main.py`` again in the child (importing Qt there) and pickles what it hands over; here the
two ends of a socket pair are all they share. The parent sends the project as JSON; the
child sends back reports, the weights when asked for and at the end, or a one-line failure.
Messages go both ways as bytes (:func:`pack` / :func:`unpack`: a JSON header and raw arrays
of floats), never pickles: nothing the child sends is unpickled by the editor.

The child reads its pipe on a thread of its own, so that pause, resume, stop and a request for
the weights reach the trainer between two steps (its controls are thread-safe); the training
runs on the child's main thread, exactly as the command line's ``train`` runs it, and gives the
same weights bit for bit (tested).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

Array = np.ndarray

MAX_HEADER_BYTES = 16_000_000
ARRAY_TYPES = {"<f4", "<f8", "<i8"}  # what a message's arrays may be (no objects, no pickles)


class MessageError(ValueError):
    """A message that is not one this module writes."""


@dataclass
class Message:
    """One message: its kind, JSON data and arrays by name."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)


def pack(kind: str, data: dict[str, Any] | None = None, arrays: dict[str, Array] | None = None):
    """``kind`` and ``data`` as JSON, then each array's raw bytes (little-endian floats)."""
    arrays = arrays or {}
    described, parts = [], []
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        dtype = value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else value.dtype
        value = value.astype(dtype, copy=False)
        if dtype.str not in ARRAY_TYPES:
            raise MessageError(f"array '{name}' has type {dtype}, not a float or int64")
        described.append({"name": name, "dtype": dtype.str, "shape": list(value.shape)})
        parts.append(value.tobytes())
    header = json.dumps({"kind": kind, "data": data or {}, "arrays": described}).encode("utf-8")
    return b"".join([struct.pack("<I", len(header)), header, *parts])


def unpack(buffer: bytes) -> Message:
    """The message :func:`pack` wrote; raises :class:`MessageError` on anything else."""
    if len(buffer) < 4:
        raise MessageError("a message too short for its header")
    (length,) = struct.unpack_from("<I", buffer)
    if length > MAX_HEADER_BYTES or 4 + length > len(buffer):
        raise MessageError(f"a message whose header claims {length} bytes")
    try:
        header = json.loads(buffer[4 : 4 + length].decode("utf-8"))
        kind, data, described = header["kind"], header["data"], header["arrays"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise MessageError("a message whose header is not ours") from None
    if not isinstance(kind, str) or not isinstance(data, dict) or not isinstance(described, list):
        raise MessageError("a message whose header is not ours")
    arrays, offset = {}, 4 + length
    for entry in described:
        try:
            name, dtype, shape = entry["name"], np.dtype(entry["dtype"]), tuple(entry["shape"])
        except (KeyError, TypeError, ValueError):
            raise MessageError("a message with a damaged array entry") from None
        if dtype.str not in ARRAY_TYPES or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise MessageError(f"a message with an array of type {dtype} or shape {shape}")
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset + size > len(buffer):
            raise MessageError(f"a message whose array '{name}' runs past its end")
        arrays[name] = np.frombuffer(buffer, dtype, count=size // dtype.itemsize, offset=offset)
        arrays[name] = arrays[name].reshape(shape).copy()
        offset += size
    if offset != len(buffer):
        raise MessageError("a message with bytes after its arrays")
    return Message(kind, data, arrays)


# --- the editor's side ---------------------------------------------------------------------


class TrainingProcess:
    """A child process that trains one project at a time (see the module docstring).

    :meth:`messages` returns what arrived (never blocks): ``"ready"`` (the child has imported
    the training stack and waits), ``"report"`` (a
    :class:`~rnn_builder.training.trainer.Report` as JSON), ``"weights"`` (at each epoch's end, with
    its validation loss, and when asked for with :meth:`want_weights`), ``"paused"`` (the
    trainer waits, after this many steps), ``"done"`` (the result as JSON, the trained
    weights, the options the data worked out), ``"failed"`` (a one-line message) and
    ``"died"`` (the child ended without saying why: its exit code, or the signal that ended
    it). After ``"died"`` the next
    :meth:`train` starts a new child.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self.training = False
        self.ready = False  # the child said it has imported the training stack

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def warm(self) -> None:
        """Start the child now (it imports the training stack and waits), if it is not up."""
        if self.alive:
            return
        self._drop()
        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": package_parent + (os.pathsep + path if path else "")}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "rnn_builder.training.process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()  # the child holds its end; ours must not stay open to see it close
        self._connection = Connection(ours.detach())

    def train(
        self,
        project: dict[str, Any],
        base: str | None = None,
        weights: dict[str, Array] | None = None,
        max_steps: int | None = None,
        report_every: float = 0.2,
        plugins: list[list[str]] | None = None,
    ) -> None:
        """Start training ``project`` (its saved JSON); ``weights`` to continue from;
        ``plugins``: the node types the child must import besides the built-in ones
        (:func:`plugin_types`)."""
        self.warm()
        options = {
            "project": project,
            "base": base,
            "max_steps": max_steps,
            "report_every": report_every,
            "plugins": plugins or [],
        }
        self._send("train", options, weights)
        self.training = True

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        """Stop the training between two steps; a ``"done"`` message follows."""
        self._send("stop")

    def want_weights(self) -> None:
        """Ask for a copy of the weights at the next report (a ``"weights"`` message)."""
        self._send("want_weights")

    def messages(self) -> list[Message]:
        """What the child has sent since the last call, without waiting."""
        arrived = []
        connection = self._connection
        try:
            while connection is not None and connection.poll(0):
                message = unpack(connection.recv_bytes())
                arrived.append(message)
                if message.kind in ("done", "failed"):
                    self.training = False
                elif message.kind == "ready":
                    self.ready = True
        except (EOFError, OSError, MessageError) as error:
            arrived.append(self._died(error))
        else:
            if connection is not None and not self.alive:
                arrived.append(self._died(None))
        return arrived

    def fileno(self) -> int | None:
        """The descriptor that becomes readable when a message (or the child's end) arrives."""
        return self._connection.fileno() if self._connection is not None else None

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a message (or the child's end); True if one
        may be read."""
        if self._connection is None:
            return False
        try:
            return self._connection.poll(timeout)
        except (EOFError, OSError):
            return True

    def kill(self) -> None:
        """End the child at once (SIGKILL); ``messages`` then reports it as died."""
        if self.alive:
            self._process.kill()
            self._join(5)

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to end, and make sure it does."""
        if self._process is None:
            return
        self._send("quit")  # (_send ignores a child that is gone)
        if not self._join(timeout):
            self._process.kill()
            self._join(timeout)
        self._drop()

    # --- helpers ----------------------------------------------------------------------------

    def _send(self, kind: str, data: dict | None = None, arrays: dict | None = None) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(OSError, ValueError):  # the child is gone: messages() says so
            self._connection.send_bytes(pack(kind, data, arrays))

    def _join(self, timeout: float) -> bool:
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _died(self, error: BaseException | None) -> Message:
        process = self._process
        if process is not None:
            self._join(5)
        code = process.returncode if process is not None else None
        if isinstance(error, MessageError):
            why = f"the training process sent something unreadable ({error})"
        elif code is not None and code < 0:
            why = f"the training process was ended by signal {-code}"
        elif code:
            why = f"the training process ended with exit code {code}"
        else:
            why = "the training process ended"
        self._drop()
        self.training = False
        return Message("died", {"message": why, "exitcode": code})

    def _drop(self) -> None:
        self.ready = False
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._process = None


def plugin_types(registry) -> list[list[str]]:
    """The node types of ``registry`` that are not built in, as [module, class name]: what a
    child imports to read a graph that uses them (a plug-in's module must be importable)."""
    from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES

    builtin = set(BUILTIN_NODE_TYPES)
    return [
        [type(node_type).__module__, type(node_type).__qualname__]
        for node_type in registry
        if type(node_type) not in builtin
    ]


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


# --- children kept warm ---------------------------------------------------------------------

_spares: list[TrainingProcess] = []


def warm_spare() -> None:
    """Have one idle child ready (started now if there is none): a Start then waits for no
    imports. The editor calls it when a project opens."""
    if not any(p.alive for p in _spares):
        process = TrainingProcess()
        process.warm()
        _spares.append(process)


def take() -> TrainingProcess:
    """An idle child for one run (a new one if none is warm)."""
    while _spares:
        process = _spares.pop()
        if process.alive and not process.training:
            return process
        process.close()
    process = TrainingProcess()
    process.warm()
    return process


def give_back(process: TrainingProcess) -> None:
    """A child whose run has ended, kept for the next one (closed if it is not fit)."""
    if process.alive and not process.training and not _spares:
        _spares.append(process)
    else:
        process.close()


@atexit.register
def close_spares() -> None:
    while _spares:
        _spares.pop().close()


# --- the child's side -----------------------------------------------------------------------


class _Controls:
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


def _child_main(connection: Connection) -> None:
    """The child: read commands on a thread, train on the main thread."""
    work: queue.Queue[Message | None] = queue.Queue()
    lock = threading.Lock()

    def send(kind: str, data: dict | None = None, arrays: dict | None = None) -> None:
        message = pack(kind, data, arrays)
        with lock, contextlib.suppress(OSError):  # the editor gone: the reader ends us
            connection.send_bytes(message)

    controls = [_Controls(send)]

    def read() -> None:
        try:
            while True:
                message = unpack(connection.recv_bytes())
                if message.kind in ("train", "quit"):
                    if message.kind == "train":
                        controls[0] = _Controls(send)
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


def _train(send, message: Message, controls: _Controls) -> None:
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
    from pathlib import Path

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


if __name__ == "__main__":  # the child: python -m rnn_builder.training.process FD
    _child_main(Connection(int(sys.argv[1])))
