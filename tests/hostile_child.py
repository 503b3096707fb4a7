"""A training process that says what a test tells it to, to see the editor's side refuse it:
``python -m tests.hostile_child SCRIPT FD``, as :class:`rnn_builder.training.process.
TrainingProcess` starts a child when given this as its command.

It waits for the editor's first message (the ``train``), then sends each entry of the JSON list
in SCRIPT: ``{"frame": BASE64}`` as one frame (what ``pack`` writes, or damaged bytes), or
``{"raw": BASE64}`` written to the socket as it is (a frame's length declaring a terabyte). Then
it reads until the editor closes the socket or ends it, as a live child would.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
from multiprocessing.connection import Connection
from pathlib import Path


def frames_script(path: Path, *entries: tuple[str, bytes]) -> Path:
    """Write SCRIPT: entries are ``("frame", bytes)`` or ``("raw", bytes)``."""
    listed = [{kind: base64.b64encode(data).decode("ascii")} for kind, data in entries]
    path.write_text(json.dumps(listed), encoding="utf-8")
    return path


def terabyte_frame() -> bytes:
    """The start of a frame whose length says 1 TB (multiprocessing's 8-byte form)."""
    return struct.pack("!i", -1) + struct.pack("!Q", 2**40)


def command(script: Path) -> tuple[str, ...]:
    return (sys.executable, "-m", "tests.hostile_child", str(script))


def main() -> None:
    script, descriptor = Path(sys.argv[1]), int(sys.argv[2])
    connection = Connection(descriptor)
    entries = json.loads(script.read_text(encoding="utf-8"))
    try:
        connection.recv_bytes()  # the train
        for entry in entries:
            ((kind, data),) = entry.items()
            if kind == "frame":
                connection.send_bytes(base64.b64decode(data))
            else:
                os.write(descriptor, base64.b64decode(data))
        while True:
            connection.recv_bytes()
    except (EOFError, OSError):
        return


if __name__ == "__main__":
    main()
