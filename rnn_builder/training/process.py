"""Training in a child process: the editor's window never shares an interpreter lock with the
trainer, and a trainer that dies (killed, out of memory, a crash in a native library) takes
nothing down with it.

:class:`TrainingProcess` starts one child ahead of time (:meth:`~TrainingProcess.warm`: the
child imports the training stack, says ``"ready"`` and waits), so that a Start does not wait for
imports. The child is a fresh interpreter (``python -m rnn_builder.training.child``), as
multiprocessing's ``spawn`` makes one, but started directly: ``spawn`` would run the editor's
``main.py`` again in the child (importing Qt there) and pickles what it hands over; here the
two ends of a socket pair are all they share. The parent sends the project as JSON; the
child sends back reports, the weights when asked for and at the end, or a one-line failure.
Messages go both ways as bytes (:mod:`~rnn_builder.training.messages`: a JSON header and raw
arrays of floats), never pickles: nothing the child sends is unpickled by the editor. The
child's side is :mod:`~rnn_builder.training.child`.

The child reads its pipe on a thread of its own, so that pause, resume, stop and a request for
the weights reach the trainer between two steps (its controls are thread-safe); the training
runs on the child's main thread, exactly as the command line's ``train`` runs it, and gives the
same weights bit for bit (tested).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from rnn_builder.engine.threads import short_blas_spin
from rnn_builder.training.messages import FROM_CHILD, Message, MessageError, pack, receive

Array = np.ndarray


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
    it; or it was ended here because a message from it, or its answer to one of ours, was
    refused: :mod:`~rnn_builder.training.messages` checks each against its kind's schema).
    After ``"died"`` the next :meth:`train` starts a new child.

    ``command``: the program that plays the child, given its socket's descriptor after these
    arguments (by default this package's :mod:`~rnn_builder.training.child`).
    """

    CHILD = (sys.executable, "-m", "rnn_builder.training.child")

    def __init__(self, command: tuple[str, ...] | None = None) -> None:
        self.command = tuple(command) if command is not None else self.CHILD
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
        short_blas_spin(env)  # the child owns its process, as the command line does
        try:
            self._process = subprocess.Popen(
                [*self.command, str(theirs.fileno())],
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
        outside_data: list[str] | None = None,
    ) -> None:
        """Start training ``project`` (its saved JSON); ``weights`` to continue from;
        ``plugins``: the node types the child must import besides the built-in ones
        (:func:`plugin_types`); ``outside_data``: the data files outside the project's
        folder (``base``) the user allowed it to read."""
        self.warm()
        # a weights file may hold float16 or integers, which a message does not carry
        weights = {
            name: value if value.dtype.str in ("<f4", "<f8") else value.astype(np.float64)
            for name, value in (weights or {}).items()
        }
        options = {
            "project": project,
            "base": base,
            "outside_data": outside_data or [],
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
        """What the child has sent since the last call, without waiting; never raises. A
        message refused (here, or by the child: ``"refused"``) ends the child, and the run
        with it, as ``"died"`` with the one-line reason: the two sides no longer agree on
        what happened."""
        arrived = []
        connection = self._connection
        try:
            while connection is not None and connection.poll(0):
                message = receive(connection, FROM_CHILD)
                if message.kind == "refused":
                    arrived.append(self._end(message.data["message"]))
                    return arrived
                arrived.append(message)
                if message.kind in ("done", "failed"):
                    self.training = False
                elif message.kind == "ready":
                    self.ready = True
        except MessageError as error:
            why = f"the training process sent a message that was refused: {error}"
            arrived.append(self._end(why))
        except (EOFError, OSError):
            arrived.append(self._died())
        else:
            if connection is not None and not self.alive:
                arrived.append(self._died())
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
        message = pack(kind, data, arrays)  # one that is not ours raises: a bug to see
        with contextlib.suppress(OSError):  # the child is gone: messages() says so
            self._connection.send_bytes(message)

    def _join(self, timeout: float) -> bool:
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _end(self, why: str) -> Message:
        """End a child that can no longer be understood; ``"died"``, saying why."""
        if self.alive:
            self._process.kill()
        died = self._died()
        died.data["message"] = why
        return died

    def _died(self) -> Message:
        process = self._process
        if process is not None:
            self._join(5)
        code = process.returncode if process is not None else None
        if code is not None and code < 0:
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
