"""Project files: versioned JSON, strict to read, atomic to write.

A project file is one JSON object::

    {"format": "rnn-builder-project", "version": 6, "title": ..., "description": ...,
     "template": ..., "graph": {"nodes": [...], "edges": [[src, port, dst, port], ...]},
     "training": {...}, "dataset": {...} | null,
     "companions": {"weights": "sha256:...", "runs": "sha256:..."},
     "notes": [{"id": "note_1", "text": ..., "position": [x, y]}, ...]}

``companions`` (optional) names the trained weights and runs the file was saved with beside it,
by digest, so that opening can tell a set cut short (:mod:`rnn_builder.files.companions`).
``notes`` (optional, version 6) holds the text a teacher placed on the canvas.

Reading is strict: anything malformed is refused with :class:`MalformedProjectError` saying
where, in words (``graph → nodes → 2 → params → hidden_size: expected a whole number, got the
text 'big'``; its ``path`` is the JSON path), a version from the future with
:class:`UnsupportedVersionError`. Read from a file (:func:`load`), the refusal is a
:class:`~rnn_builder.errors.DamagedProjectError` that names the file and says what to do.
Older versions are brought up to date by the functions in :data:`MIGRATIONS`, one version step
each. What the graph means (shapes, cycles, parameter ranges) is not the loader's business: such
a file loads and validation reports it, so nothing the user made is lost.

Nothing here executes content: JSON only, no pickle, no eval. Saving writes a temporary file
beside the target, fsyncs it and renames it over the target, so a crash or a full disk leaves
the previous file whole.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnn_builder.errors import (
    DamagedProjectError,
    MalformedProjectError,
    ProjectFileError,
    ProjectSaveError,
    RNNBuilderError,
    UnsupportedVersionError,
)
from rnn_builder.files.data_options import options_problem, task_of_reference
from rnn_builder.files.disk import atomic_write, read_bounded
from rnn_builder.files.project import (
    DATASET_KINDS,
    MAX_BINDING,
    MAX_DATA_NAME,
    MAX_NOTE_TEXT,
    MAX_NOTES,
    DatasetReference,
    Goal,
    Note,
    Project,
    TrainingSettings,
)
from rnn_builder.graph.model import NODE_ID_RULE, Edge, Graph, node_id_problem, valid_node_id
from rnn_builder.graph.registry import NodeRegistry
from rnn_builder.values import MAX_TEXT, is_number, is_plain_value, is_savable_text, short

FORMAT = "rnn-builder-project"
CURRENT_VERSION = 6
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NODES = 10_000
MAX_EDGES = 50_000


def _v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added the learning-rate schedule, early stopping and weight decay to the
    training settings; a version 1 project trained with none of them."""
    training = dict(document.get("training") or {})
    training.setdefault("schedule", "constant")
    training.setdefault("patience", 0)
    training.setdefault("weight_decay", 0.0)
    return {**document, "training": training}


def _v2_to_v3(document: dict[str, Any]) -> dict[str, Any]:
    """Version 3 added the data binding (which node each field of the data feeds) and four
    kinds of data file. A version 2 project has no binding: its fields bind by the rules
    (``training.binding``), as they did, by node id."""
    return dict(document)


def _v3_to_v4(document: dict[str, Any]) -> dict[str, Any]:
    """Version 4 added ``companions``, the digests of the weights and runs saved beside the
    file; a version 3 file has no record, and claims nothing about the files beside it."""
    return dict(document)


def _v4_to_v5(document: dict[str, Any]) -> dict[str, Any]:
    """Version 5 added ``goal``, an exercise's goal (a metric, a threshold, a fixed
    evaluation set). A version 4 project sets none."""
    return dict(document)


def _v5_to_v6(document: dict[str, Any]) -> dict[str, Any]:
    """Version 6 added ``notes``, text placed on the canvas (issue 23). A version 5 project
    has none."""
    return dict(document)


# version n -> function turning a version-n document into a version n+1 document.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
}
COMPANIONS = ("weights", "runs")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


# --- writing ----------------------------------------------------------------------------------


def project_to_dict(project: Project) -> dict[str, Any]:
    graph = project.graph
    return {
        "format": FORMAT,
        "version": CURRENT_VERSION,
        "title": project.title,
        "description": project.description,
        "template": project.template,
        "graph": {
            "nodes": [
                {
                    "id": node.id,
                    "type": node.type_name,
                    "name": node.name,
                    "position": [float(node.position[0]), float(node.position[1])],
                    "params": dict(node.params),
                }
                for node in graph
            ],
            "edges": [list(edge) for edge in graph.edges],
        },
        "training": project.training.to_json(),
        "dataset": project.dataset.to_json() if project.dataset is not None else None,
        **({"companions": dict(project.companions)} if project.companions else {}),
        **({"goal": project.goal.to_json()} if project.goal is not None else {}),
        **({"notes": [note.to_json() for note in project.notes]} if project.notes else {}),
    }


def dumps(project: Project) -> str:
    """The file text of a project (stable: saving what was loaded gives the same bytes)."""
    return (
        json.dumps(project_to_dict(project), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )


def save(project: Project, path: str | os.PathLike[str]) -> Path:
    """Write a project atomically; raises :class:`ProjectSaveError` with the reason."""
    path = Path(path)
    try:
        data = dumps(project).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as error:
        raise ProjectSaveError(
            f"Could not save '{path}': {error}. The file on disk is unchanged."
        ) from None
    atomic_write(path, data)
    return path


# --- reading ----------------------------------------------------------------------------------


def load(path: str | os.PathLike[str], registry: NodeRegistry | None = None) -> Project:
    """Read a project file; raises a :class:`ProjectFileError` subclass saying what is wrong."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ProjectFileError(f"'{path}' is a folder, not a project file")
        if not stat.S_ISREG(info.st_mode):
            raise ProjectFileError(f"'{path}' is not a regular file (a device or a pipe?)")
        if info.st_size > MAX_FILE_BYTES:
            raise ProjectFileError(
                f"'{path}' is {info.st_size / 1e6:.0f} MB, too large for a project file "
                f"(at most {MAX_FILE_BYTES // 1_000_000} MB)"
            )
        raw = read_bounded(path, info.st_size, MAX_FILE_BYTES)  # even if it grows meanwhile
    except FileNotFoundError:
        raise ProjectFileError(f"there is no file '{path}'") from None
    except PermissionError:
        raise ProjectFileError(f"'{path}' cannot be read: permission denied") from None
    except OSError as error:
        raise ProjectFileError(f"'{path}' cannot be read: {error.strerror or error}") from None
    try:
        return loads(raw, registry)
    except MalformedProjectError as error:  # the file named, the place in words, what to do
        raise DamagedProjectError(str(path), error) from None


def loads(text: str | bytes, registry: NodeRegistry | None = None) -> Project:
    """Parse project file contents (see :func:`load`)."""
    document = parse_json(text)
    return project_from_dict(document, registry)


def parse_json(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ProjectFileError("the file is too large for a project file")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MalformedProjectError(
                f"the file is not UTF-8 text (bad byte at offset {error.start}); is it a "
                "project file?",
                "",
            ) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise MalformedProjectError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: "
            f"{_JSON_WORDS.get(error.msg, error.msg)}",
            "",
        ) from None
    except RecursionError:
        raise MalformedProjectError("the JSON is nested too deeply", "") from None
    except _JSONValueError as error:
        raise MalformedProjectError(str(error), "") from None
    except ValueError:  # e.g. an integer of thousands of digits
        raise MalformedProjectError("the JSON holds a number too large to read", "") from None


# what Python's JSON reader says, as a person editing the file would understand it
_JSON_WORDS = {
    "Expecting ',' delimiter": "a ',' is missing between two items",
    "Expecting ':' delimiter": "a ':' is missing after a name",
    "Expecting value": "a value is missing (or the file ends too early)",
    "Expecting property name enclosed in double quotes": (
        "a name in double quotes should come here (a ',' too many before a '}'?)"
    ),
    "Unterminated string starting at": "a text is not closed with '\"'",
    "Extra data": "more follows where the project should end",
    "Invalid control character at": "a line break or a tab inside a text",
    "Invalid \\escape": "a '\\' that starts no escape",
}


class _JSONValueError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JSONValueError(f"the key '{key}' appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _JSONValueError(f"{name} is not a number a project file may hold")


def project_from_dict(document: Any, registry: NodeRegistry | None = None) -> Project:
    """Build a project from a parsed JSON document, migrating older versions."""
    reader = _Reader()
    root = reader.object(document, "$")
    if root.get("format") != FORMAT:
        raise MalformedProjectError(
            f'this is not an RNN Builder project (expected "format": "{FORMAT}")', "$.format"
        )
    version = root.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise MalformedProjectError("expected a whole number for the format version", "$.version")
    if version > CURRENT_VERSION:
        shown = version if version < 10**6 else "from the future"
        raise UnsupportedVersionError(
            f"this project was saved by a newer RNN Builder (file format version {shown}; this "
            f"one reads up to {CURRENT_VERSION}): update RNN Builder to open it"
        )
    if version < 1:
        raise UnsupportedVersionError(f"file format version {short(version)} does not exist")
    while version < CURRENT_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise UnsupportedVersionError(
                f"file format version {version} can no longer be read by this RNN Builder"
            )
        try:
            root = reader.object(migrate(root), "$")
        except RNNBuilderError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedProjectError(
                f"the version {version} file could not be updated: {error}", "$"
            ) from None
        version += 1
        root["version"] = version
    return _read_project(reader, root, registry)


def _read_project(reader: _Reader, root: dict[str, Any], registry: NodeRegistry | None) -> Project:
    reader.keys(
        root,
        "$",
        required=("format", "version", "graph"),
        optional=(
            "title",
            "description",
            "template",
            "training",
            "dataset",
            "companions",
            "goal",
            "notes",
        ),
    )
    graph = Graph(registry)
    graph_data = reader.object(root["graph"], "$.graph")
    reader.keys(graph_data, "$.graph", required=("nodes", "edges"))
    nodes = reader.list(graph_data["nodes"], "$.graph.nodes", MAX_NODES)
    for index, item in enumerate(nodes):
        _read_node(reader, graph, item, f"$.graph.nodes[{index}]")
    edges = reader.list(graph_data["edges"], "$.graph.edges", MAX_EDGES)
    for index, item in enumerate(edges):
        where = f"$.graph.edges[{index}]"
        parts = reader.list(item, where, 4)
        if len(parts) != 4 or not all(isinstance(p, str) for p in parts):
            raise MalformedProjectError(
                "expected [source node, output port, target node, input port] as four texts",
                where,
            )
        for position, node_id in ((0, parts[0]), (2, parts[2])):
            if node_id not in graph:
                raise MalformedProjectError(f"there is no node '{node_id}'", f"{where}[{position}]")
        try:
            graph.add_edge(Edge(*parts))
        except RNNBuilderError as error:
            raise MalformedProjectError(str(error), where) from None
    return Project(
        graph=graph,
        title=reader.text(root.get("title", "Untitled"), "$.title", MAX_TEXT),
        description=reader.text(root.get("description", ""), "$.description", MAX_TEXT),
        template=_optional_text(reader, root.get("template"), "$.template"),
        training=_read_training(reader, root.get("training", {}), "$.training"),
        dataset=_read_dataset(reader, root.get("dataset"), "$.dataset"),
        companions=_read_companions(reader, root.get("companions", {}), "$.companions"),
        goal=_read_goal(reader, root.get("goal"), "$.goal"),
        notes=_read_notes(reader, root.get("notes", []), "$.notes"),
    )


def _read_notes(reader: _Reader, data: Any, where: str) -> list[Note]:
    items = reader.list(data, where, MAX_NOTES)
    notes: list[Note] = []
    for index, item in enumerate(items):
        place = f"{where}[{index}]"
        note = reader.object(item, place)
        reader.keys(note, place, required=("id", "text"), optional=("position",))
        note_id = note["id"]
        if not valid_node_id(note_id):
            raise MalformedProjectError(f"a note's id is {NODE_ID_RULE}", f"{place}.id")
        if any(n.id == note_id for n in notes):
            raise MalformedProjectError(f"a second note with the id '{note_id}'", f"{place}.id")
        text = reader.text(note["text"], f"{place}.text", MAX_NOTE_TEXT)
        position = reader.list(note.get("position", [0.0, 0.0]), f"{place}.position", 2)
        if len(position) != 2 or not all(is_number(v) for v in position):
            raise MalformedProjectError("expected [x, y], two finite numbers", f"{place}.position")
        notes.append(Note(note_id, text, (float(position[0]), float(position[1]))))
    return notes


def _read_goal(reader: _Reader, data: Any, where: str) -> Goal | None:
    if data is None:
        return None
    data = reader.object(data, where)
    reader.keys(data, where, required=("metric", "threshold"), optional=("seed", "subset", "text"))
    goal = Goal(
        data["metric"],
        data["threshold"],
        data.get("seed", 1234),
        data.get("subset", ""),
        data.get("text", ""),
    )
    problem = goal.problem()
    if problem is not None:
        raise MalformedProjectError(problem, where)
    return goal


def _read_companions(reader: _Reader, data: Any, where: str) -> dict[str, str]:
    data = reader.object(data, where)
    reader.keys(data, where, optional=COMPANIONS)
    for key, value in data.items():
        if not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise MalformedProjectError(
                f'expected a digest such as "sha256:" and 64 hexadecimal digits, got '
                f"{_what(value)}",
                f"{where}.{key}",
            )
    return dict(data)


def _read_node(reader: _Reader, graph: Graph, item: Any, where: str) -> None:
    node = reader.object(item, where)
    reader.keys(node, where, required=("id", "type"), optional=("name", "position", "params"))
    node_id = node["id"]
    if not valid_node_id(node_id):
        raise MalformedProjectError(f"a node id is {NODE_ID_RULE}", f"{where}.id")
    if node_id in graph:
        raise MalformedProjectError(f"a second node with the id '{node_id}'", f"{where}.id")
    type_name = reader.text(node["type"], f"{where}.type", 100)
    if type_name not in graph.registry:
        known = ", ".join(graph.registry.names())
        raise MalformedProjectError(
            f"unknown node type '{type_name}' (known types: {known})", f"{where}.type"
        )
    node_type = graph.registry.get(type_name)
    problem = node_id_problem(node_id, node_type)
    if problem is not None:
        raise MalformedProjectError(problem, f"{where}.id")
    position = reader.list(node.get("position", [0.0, 0.0]), f"{where}.position", 2)
    if len(position) != 2 or not all(is_number(v) for v in position):
        raise MalformedProjectError("expected [x, y], two finite numbers", f"{where}.position")
    params = reader.object(node.get("params", {}), f"{where}.params")
    values = {}
    for key, value in params.items():
        spec = node_type.param_spec(key)
        if spec is None:
            known = ", ".join(p.name for p in node_type.params) or "none"
            shown = key if len(key) <= 40 else key[:37] + "..."
            raise MalformedProjectError(
                f"{node_type.title} has no parameter '{shown}' (its parameters: {known})",
                f"{where}.params.{shown}",
            )
        try:
            values[key] = spec.coerce(value)
        except ValueError as error:
            raise MalformedProjectError(str(error), f"{where}.params.{key}") from None
    name = reader.text(node.get("name", node_id), f"{where}.name", 100)
    try:
        graph.add_node(
            type_name, node_id=node_id, name=name, params=values, position=position, strict=False
        )
    except RNNBuilderError as error:
        raise MalformedProjectError(str(error), f"{where}.name") from None


def _read_training(reader: _Reader, data: Any, where: str) -> TrainingSettings:
    data = reader.object(data, where)
    reader.keys(data, where, optional=tuple(TrainingSettings.LIMITS))
    settings = TrainingSettings()
    for key, value in data.items():
        expected = TrainingSettings.LIMITS[key][0]
        if expected is str:
            value = reader.text(value, f"{where}.{key}", 100)
        elif expected is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise MalformedProjectError(
                    f"expected a whole number, got {value!r}", f"{where}.{key}"
                )
        elif not is_number(value):
            raise MalformedProjectError(f"expected a number, got {short(value)}", f"{where}.{key}")
        else:
            value = float(value)
        setattr(settings, key, value)
    problems = settings.problems()
    if problems:
        raise MalformedProjectError(problems[0], where)
    return settings


def _read_dataset(reader: _Reader, data: Any, where: str) -> DatasetReference | None:
    if data is None:
        return None
    data = reader.object(data, where)
    reader.keys(data, where, required=("kind",), optional=("name", "options", "binding"))
    kind = reader.text(data["kind"], f"{where}.kind", 50)
    if kind not in DATASET_KINDS:
        raise MalformedProjectError(
            f"expected one of {', '.join(DATASET_KINDS)}, got {kind!r}", f"{where}.kind"
        )
    name = reader.text(data.get("name", ""), f"{where}.name", MAX_DATA_NAME)
    options = reader.object(data.get("options", {}), f"{where}.options")
    for key, value in options.items():
        if not is_plain_value(value):
            raise MalformedProjectError(
                "expected numbers, text, true/false, null, or lists and objects of those",
                f"{where}.options.{key}",
            )
    problem = options_problem(task_of_reference(kind, name), options)
    if problem is not None:  # checked as the graph's parameters are (files.data_options)
        message, below = problem
        raise MalformedProjectError(message, f"{where}.options{below}")
    binding = reader.object(data.get("binding", {}), f"{where}.binding")
    if len(binding) > MAX_BINDING:
        raise MalformedProjectError(f"more than {MAX_BINDING} fields bound", f"{where}.binding")
    for key, value in binding.items():
        node_id = reader.text(value, f"{where}.binding.{key}", 200)
        if not valid_node_id(node_id) or len(key) > 200:
            raise MalformedProjectError(f"{short(node_id)} cannot be a node id", f"{where}.binding")
    return DatasetReference(kind, name, dict(options), dict(binding))


def _optional_text(reader: _Reader, value: Any, where: str) -> str | None:
    return None if value is None else reader.text(value, where, 200)


class _Reader:
    """Type checks that name the JSON path of what they refuse."""

    def object(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise MalformedProjectError(f"expected an object, got {_what(value)}", where)
        return value

    def list(self, value: Any, where: str, limit: int) -> list[Any]:
        if not isinstance(value, list):
            raise MalformedProjectError(f"expected a list, got {_what(value)}", where)
        if len(value) > limit:
            raise MalformedProjectError(f"expected at most {limit} items, got {len(value)}", where)
        return value

    def text(self, value: Any, where: str, limit: int) -> str:
        if not isinstance(value, str):
            raise MalformedProjectError(f"expected text, got {_what(value)}", where)
        if len(value) > limit:
            raise MalformedProjectError(f"text longer than {limit} characters", where)
        if not is_savable_text(value):
            raise MalformedProjectError("the text has characters that are not valid Unicode", where)
        return value

    def keys(
        self,
        value: dict[str, Any],
        where: str,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
    ) -> None:
        for key in required:
            if key not in value:
                raise MalformedProjectError(f"'{key}' is missing", where)
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                shown = key if len(key) <= 40 else key[:37] + "..."
                raise MalformedProjectError(
                    f"unknown key '{shown}' (expected {', '.join(sorted(allowed))})",
                    f"{where}.{shown}",
                )


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
