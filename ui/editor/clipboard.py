"""Copied nodes on the system clipboard: a selection of the graph as JSON, under our own MIME
type and as plain text (so that it pastes into another window, or another run of the app)."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from rnn_builder.files.project import Note
from rnn_builder.files.serialization import MAX_FILE_BYTES
from rnn_builder.graph.model import Edge, Graph, Node

MIME_TYPE = "application/x-rnn-builder-graph"
FORMAT = "rnn-builder-selection"
MAX_CLIPBOARD_CHARS = MAX_FILE_BYTES  # copied nodes are never more than a project


def selection_as_json(graph: Graph, node_ids: list[str], notes: list[Note] = ()) -> str:
    """The nodes ``node_ids``, the wires between them, and ``notes`` (text and place)."""
    chosen = set(node_ids)
    nodes = [
        {
            "id": n,
            "type": graph.node(n).type_name,
            "name": graph.node(n).name,
            "params": graph.node(n).params,
            "position": list(graph.node(n).position),
        }
        for n in node_ids
    ]
    edges = [list(e) for e in graph.edges if e.src_node in chosen and e.dst_node in chosen]
    copied = [{"text": note.text, "position": list(note.position)} for note in notes]
    return json.dumps({"format": FORMAT, "nodes": nodes, "edges": edges, "notes": copied})


def selection_from_json(raw: str) -> tuple[list[Node], list[Edge], list[Note]] | None:
    """Nodes, wires and notes back from :func:`selection_as_json` (the notes without ids: a
    paste gives them new ones; text copied before notes were copied has none); None for text
    that is not ours. Damaged data raises ValueError, KeyError or TypeError."""
    if len(raw) > MAX_CLIPBOARD_CHARS:  # parsed JSON takes several times the text's memory
        raise ValueError(
            f"it holds {len(raw) / 1e6:.0f} MB of text, more than the "
            f"{MAX_CLIPBOARD_CHARS // 1_000_000} MB copied nodes may take"
        )
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    nodes = [
        Node(n["id"], n["type"], n["name"], dict(n["params"]), tuple(n["position"]))
        for n in data["nodes"]
    ]
    notes = [
        Note("", Note.checked_text(n["text"]), Note.checked_position(tuple(n["position"])))
        for n in data.get("notes", [])
    ]
    return nodes, [Edge(*e) for e in data["edges"]], notes


def put(text: str) -> None:
    data = QMimeData()
    data.setData(MIME_TYPE, text.encode("utf-8"))
    data.setText(text)
    QGuiApplication.clipboard().setMimeData(data)


def text() -> str:
    """What the clipboard holds: our MIME data if it is there, else its plain text."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return ""
    if data.hasFormat(MIME_TYPE):
        return bytes(data.data(MIME_TYPE)).decode("utf-8")
    return data.text()


def keep_as_text() -> None:
    """Hand copied nodes to Qt as plain text (which :func:`text` also reads). The QMimeData of
    :func:`put` belongs to Python; a clipboard that outlives the interpreter (offscreen, minimal
    platforms) would destroy it after Python has gone, and crash on the way out."""
    clipboard = QGuiApplication.clipboard()
    data = clipboard.mimeData()
    if data is not None and data.hasFormat(MIME_TYPE):
        clipboard.setText(data.text())
