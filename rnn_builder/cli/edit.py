"""The ``edit`` command of the CLI: what the editor does to a project, from a script.

    rnn-builder edit FILE [--add TYPE [ID]] [--connect SRC[.PORT] DST[.PORT]] ... [-o OUT]

The operations (:data:`OPERATIONS`, listed by ``edit --help``) run in the order given, each as
the editor would run it, and all of them or none are saved: the first one that cannot be done
(an unknown node, a wire the ports refuse, a value out of range) stops the command in words and
the file is left as it was. Afterwards the graph is checked: exit 0 when it is valid, 1 when it
has problems (listed; the file is saved all the same, as the editor saves a graph being built),
2 when an operation was refused or the file cannot be read or written.

Nodes added to a graph that is laid out as Arrange lays it out (a template's, or one ``edit``
made) are placed by laying the whole graph out again (:mod:`rnn_builder.graph.arrange`), unless
``--move`` places nodes itself: a graph built from the command line opens in the app as
readable as a template. A graph whose nodes a person has placed keeps their places; its new
nodes go to the right of it (``--arrange`` lays it out all the same).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from rnn_builder.cli.data import add_allow_outside_data, parse_option, project_folder
from rnn_builder.cli.problems import EXIT_PROBLEMS, problem_lines, project_problems
from rnn_builder.errors import DataError, InvalidSettingError, RNNBuilderError, UnknownNodeError
from rnn_builder.files.data_options import options_problem, task_of_reference
from rnn_builder.files.data_paths import DataFolder, OutsideDataError
from rnn_builder.files.project import FILE_KINDS, DatasetReference, Project, TrainingSettings
from rnn_builder.files.serialization import load, save
from rnn_builder.graph.arrange import apply_arrangement, arrange
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import classify, validate
from rnn_builder.training.binding import apply_changes
from rnn_builder.training.summary import use_data
from rnn_builder.training.tasks import TASKS, fit_data, with_binding
from rnn_builder.values import short

# each operation: the number of values it takes (a range), what they are called, what it does
OPERATIONS = {
    "add": ((1, 2), ("TYPE", "[ID]"), "a node (ID: a fresh one from the type's name)"),
    "remove": ((1, 1), ("NODE",), "a node and its wires"),
    "connect": ((2, 2), ("SRC[.PORT]", "DST[.PORT]"), "a wire (PORT: the node's only one)"),
    "disconnect": ((2, 2), ("SRC[.PORT]", "DST[.PORT]"), "remove a wire"),
    "set": ((3, 3), ("NODE", "PARAM", "VALUE"), "a node's parameter"),
    "rename": ((2, 2), ("NODE", "NAME"), "a node's shown name"),
    "move": ((3, 3), ("NODE", "X", "Y"), "a node's place on the canvas"),
    "arrange": (
        (0, 0),
        (),
        "lay the graph out left to right, as the app's Arrange does (done by itself when "
        "nodes are added to a graph laid out so, unless --move places them)",
    ),
    "setting": ((2, 2), ("NAME", "VALUE"), "a training setting (e.g. epochs 30)"),
    "data": ((1, 1), ("TASK",), "train on a built-in task"),
    "data-file": (
        (2, 2),
        ("KIND", "PATH"),
        "train on a file of one's own (KIND: labelled, tagged, pairs, sequences, csv, text); "
        "it is read when the edits are done",
    ),
    "data-option": ((1, 1), ("KEY=VALUE",), "a data option (e.g. text_column=review)"),
    "bind": ((2, 2), ("FIELD", "NODE"), "feed a field of the data to a node"),
    "fit": ((0, 0), (), "fit the graph to the data: widths, vocabularies, classes"),
    "title": ((1, 1), ("TEXT",), "the project's title"),
    "description": ((1, 1), ("TEXT",), "the project's description"),
}
SPACING = 200.0  # between a new node and the rightmost one, as the palette places them


class EditError(RNNBuilderError):
    """An operation that cannot be done (exit 2, nothing saved)."""


class _InOrder(argparse.Action):
    """Keeps every operation, with its values, in the order given on the command line."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        (low, high), names, _meaning = OPERATIONS[self.dest]
        if not low <= len(values) <= high:
            parser.error(f"{option_string} takes {' '.join(names)}")
        operations = getattr(namespace, "operations", None) or []
        operations.append((self.dest, list(values)))
        namespace.operations = operations


def add_commands(commands) -> None:
    p = commands.add_parser(
        "edit",
        help="change a project as the editor does: nodes, wires, parameters, settings",
        description="Change a project as the editor does. The operations run in the order "
        "given; if one cannot be done, nothing is saved.",
    )
    p.add_argument("file", metavar="FILE")
    for name, ((low, high), names, meaning) in OPERATIONS.items():
        p.add_argument(
            f"--{name}",
            dest=name,
            action=_InOrder,
            nargs="+" if high > low else high,
            metavar=names[0] if high > low else (names or None),
            help=f"{' '.join(names)}: {meaning}" if high > low else meaning,
            default=argparse.SUPPRESS,
        )
    p.add_argument("-o", "--output", metavar="OUT", help="write here (default: FILE itself)")
    p.add_argument("--dry-run", action="store_true", help="check the edits, write nothing")
    add_allow_outside_data(p)
    p.set_defaults(operations=[])


def cmd_edit(args: argparse.Namespace, out: TextIO) -> int:
    project = load(args.file)
    if not args.operations:
        raise EditError("nothing to do: give at least one operation (see 'edit --help')")
    done = []  # said only once every operation has been done
    names = {name for name, _values in args.operations}
    # laid out again afterwards when nodes are added to an arranged graph (asked only then:
    # laying out a 6,000-node graph to compare was most of a 3-s edit that added none)
    relayout = "add" in names and not names & {"move", "arrange"}
    relayout = relayout and {n.id: n.position for n in project.graph} == arrange(project.graph)
    base = Path(args.file).resolve().parent
    session = _DataEdits(base, project_folder(args))
    for number, (name, values) in enumerate(args.operations, 1):
        try:
            if name in DATA_OPERATIONS:
                done.append(DATA_OPERATIONS[name](session, project, *values))
            else:
                done.append(APPLY[name](project, *values))
        except RNNBuilderError as error:
            given = " ".join(_shown(value) for value in values)
            raise EditError(
                f"--{name} {given} (operation {number}): {error}; nothing was saved"
            ) from None
    try:
        done += session.finish(project)
    except OutsideDataError as error:
        raise EditError(f"{error} (--allow-outside-data); nothing was saved") from None
    except RNNBuilderError as error:
        raise EditError(f"{error}; nothing was saved") from None
    if relayout:
        done.append(_arrange(project))
    report = validate(project.graph)
    problems = project_problems(project, base)
    target = Path(args.output) if args.output else Path(args.file)
    if not args.dry_run:
        save(project, target)
    for line in done:
        print(line, file=out)
    written = "checked, not written" if args.dry_run else f"saved {target}"
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        warnings = len(problems) - errors
        counted = _count(errors, "error") + (
            f" and {_count(warnings, 'warning')}" if warnings else ""
        )
        print(f"{written}; the graph has {counted}:", file=out)
        for line in problem_lines(str(target), problems):
            print(line, file=out)
        return EXIT_PROBLEMS
    for line in problem_lines(str(target), problems):  # warnings: it is valid all the same
        print(line, file=out)
    layout = classify(project.graph, report)
    print(f"{written}: valid — {layout.summary}", file=out)
    return 0


# --- the operations -------------------------------------------------------------------------


def _add(project: Project, type_name: str, node_id: str | None = None) -> str:
    graph = project.graph
    if type_name not in graph.registry:
        known = ", ".join(sorted(graph.registry.names()))
        raise EditError(f"there is no node type '{type_name}' (the types: {known})")
    if node_id is not None and node_id in graph:
        raise EditError(f"there is already a node '{node_id}'")
    nodes = list(graph)
    x = max((n.position[0] for n in nodes), default=-SPACING) + SPACING
    y = sum(n.position[1] for n in nodes) / len(nodes) if nodes else 0.0
    node = graph.add_node(type_name, node_id=node_id, position=(x, y))
    return f"added {graph.node_type(node.id).title} '{node.id}'"


def _remove(project: Project, node_id: str) -> str:
    wires = project.graph.remove_node(node_id)
    return f"removed '{node_id}' and {len(wires)} wire{'s' if len(wires) != 1 else ''}"


def _connect(project: Project, source: str, target: str) -> str:
    graph = project.graph
    edge = graph.connect(*_port(graph, source, "output"), *_port(graph, target, "input"))
    return f"wired {edge.src_node}.{edge.src_port} → {edge.dst_node}.{edge.dst_port}"


def _disconnect(project: Project, source: str, target: str) -> str:
    graph = project.graph
    src, src_port = _port(graph, source, "output")
    dst, dst_port = _port(graph, target, "input")
    for edge in graph.edges_into(dst, dst_port):
        if (edge.src_node, edge.src_port) == (src, src_port):
            graph.disconnect(edge)
            return f"unwired {src}.{src_port} → {dst}.{dst_port}"
    raise EditError(f"there is no wire from {src}.{src_port} to {dst}.{dst_port}")


def _set(project: Project, node_id: str, name: str, text: str) -> str:
    """The graph checks the value (its type, its range) as it does the editor's."""
    graph = project.graph
    spec = graph.node_type(node_id).param_spec(name)
    value: Any = text
    if spec is not None and spec.kind in ("int", "float", "bool"):
        value = _json_value(text, f"{spec.label} of '{graph.node(node_id).name}'")
    graph.set_param(node_id, name, value)
    return f"set {node_id}.{name} = {json.dumps(graph.node(node_id).params[name])}"


def _rename(project: Project, node_id: str, name: str) -> str:
    project.graph.rename(node_id, name)
    return f"renamed '{node_id}' to {json.dumps(name, ensure_ascii=False)}"


def _move(project: Project, node_id: str, x: str, y: str) -> str:
    project.graph.set_position(node_id, (_number(x, "X"), _number(y, "Y")))  # checks their size
    place = project.graph.node(node_id).position
    return f"moved '{node_id}' to ({place[0]:g}, {place[1]:g})"


def _arrange(project: Project) -> str:
    apply_arrangement(project.graph)
    return "arranged the graph left to right"


def _setting(project: Project, name: str, text: str) -> str:
    kind = TrainingSettings.LIMITS.get(name, (str,))[0]  # an unknown name: refused below
    value: Any = text if kind is str else _json_value(text, name)
    project.set_training(name, value)
    return f"set training {name} = {json.dumps(getattr(project.training, name))}"


def _data(project: Project, task: str) -> str:
    if task not in TASKS:
        raise EditError(f"there is no built-in task '{task}' (the tasks: {', '.join(TASKS)})")
    # keep the binding found, as the editor does
    project.set_dataset(with_binding(project, DatasetReference("builtin", task, {})))
    return f"trains on the built-in task '{task}'"


class _DataEdits:
    """The data operations of one ``edit``: a file chosen, its options, bindings, a fit. The
    file is read once, when every option is in (its vocabulary and classes are kept)."""

    def __init__(self, base: Path, folder: DataFolder) -> None:
        self.base, self.folder = base, folder
        self.chosen: tuple[str, str] | None = None  # (kind, path) given by --data-file
        self.options: dict[str, Any] = {}
        self.binding: dict[str, str] = {}
        self.fit = False

    def data_file(self, project: Project, kind: str, path: str) -> str:
        if kind not in FILE_KINDS:
            raise EditError(f"the kind of data is one of {', '.join(FILE_KINDS)}, not {kind!r}")
        self.chosen = (kind, self._as_kept(path))
        self.options = {}
        return f"trains on the {kind} file {self.chosen[1]}"

    def _as_kept(self, path: str) -> str:
        """A path typed in a shell is the shell's (relative to where the command runs); the
        project keeps it relative to its own folder when the file is in it, so the two move
        together, and whole otherwise. A relative path that is no file here is kept as given
        (the project's folder may hold it)."""
        given = Path(path)
        try:
            if given.is_absolute() or not given.exists():
                return path
            found = given.resolve()
        except (OSError, ValueError):  # a name no file can have (too long, a NUL): as given,
            return path  # for the data check to refuse in words
        try:
            return found.relative_to(self.base.resolve()).as_posix()
        except ValueError:
            return str(found)

    def data_option(self, project: Project, text: str) -> str:
        key, value = parse_option(text)
        if self.chosen is None and project.dataset is None:
            raise EditError("a data option needs data: give --data or --data-file first")
        kind, name = self.chosen or (project.dataset.kind, project.dataset.name)
        problem = options_problem(task_of_reference(kind, name), {key: value})
        if problem is not None:  # a name the data has not, a value of the wrong type
            raise EditError(problem[0])
        self.options[key] = value
        return f"data option {key} = {json.dumps(value)}"

    def bind(self, project: Project, field: str, node: str) -> str:
        if node not in project.graph:
            raise UnknownNodeError(f"there is no node '{node}' in the graph")
        self.binding[field] = node
        return f"the field '{field}' feeds '{node}'"

    def fit_graph(self, project: Project) -> str:
        self.fit = True
        return "fits the graph to the data"

    def finish(self, project: Project) -> list[str]:
        said = []
        builtin = (
            self.chosen is None and project.dataset.kind == "builtin" if project.dataset else False
        )
        if builtin and self.options:  # a built-in task's settings (a length, a count)
            reference = project.dataset
            options = {**reference.options, **self.options}
            project.set_dataset(
                DatasetReference("builtin", reference.name, options, dict(reference.binding))
            )
        elif self.chosen is not None or self.options:
            kind, path = self.chosen or (project.dataset.kind, project.dataset.name)
            if self.chosen is None:  # the project's own data path, read again: checked
                self.folder.check(path)
            options = {} if self.chosen else dict(project.dataset.options)
            summary = use_data(project, kind, path, {**options, **self.options}, self.base)
            said.append(
                f"read {path}: {summary.train + summary.validation:,} examples"
                + (f", vocabulary {summary.vocabulary:,}" if summary.vocabulary else "")
                + (f", {len(summary.classes)} classes" if summary.classes else "")
            )
        if self.binding:
            reference = project.dataset
            if reference is None:
                raise EditError("--bind needs data: give --data or --data-file")
            binding = {**reference.binding, **self.binding}
            project.set_dataset(
                DatasetReference(reference.kind, reference.name, reference.options, binding)
            )
        if self.fit:
            said += fit_project(project, self.base)
        return said


def fit_project(project: Project, base: Path | None = None) -> list[str]:
    """Fit the graph to the project's data (one line per change), or refuse in words."""
    try:
        fitted, changes = fit_data(project, base)
    except DataError as error:
        raise EditError(str(error)) from None
    apply_changes(project.graph, changes)
    if project.dataset is not None and project.dataset.binding != fitted.binding:
        project.set_dataset(fitted)
    if not changes:
        return ["the graph fits the data already"]
    return [f"fit: {c.node}.{c.name} = {json.dumps(c.value)} ({c.why})" for c in changes]


def _title(project: Project, text: str) -> str:
    project.set_title(text)
    return f"title: {text}"


def _description(project: Project, text: str) -> str:
    project.set_description(text)
    return "description set"


APPLY = {
    "add": _add,
    "remove": _remove,
    "connect": _connect,
    "disconnect": _disconnect,
    "set": _set,
    "rename": _rename,
    "move": _move,
    "arrange": _arrange,
    "setting": _setting,
    "data": _data,
    "title": _title,
    "description": _description,
}


DATA_OPERATIONS = {
    "data-file": _DataEdits.data_file,
    "data-option": _DataEdits.data_option,
    "bind": _DataEdits.bind,
    "fit": _DataEdits.fit_graph,
}


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'s' if number != 1 else ''}"


# --- reading the values ---------------------------------------------------------------------


def _port(graph: Graph, text: str, side: str) -> tuple[str, str]:
    """``NODE.PORT`` (or ``NODE`` when the node has one port on that side) as (id, port)."""
    if text in graph:
        node_id, port = text, None
    else:
        node_id, _, port = text.rpartition(".")
        if not node_id or node_id not in graph:
            raise UnknownNodeError(
                f"there is no node '{text.partition('.')[0] or text}' in the graph"
            )
    node_type = graph.node_type(node_id)
    ports = [p.name for p in (node_type.outputs if side == "output" else node_type.inputs)]
    if port is None:
        if len(ports) != 1:
            raise EditError(
                f"'{node_id}' has {len(ports)} {side} ports ({', '.join(ports) or 'none'}): "
                f"name one as {node_id}.PORT"
            )
        return node_id, ports[0]
    if port not in ports:
        raise EditError(
            f"'{node_id}' has no {side} port '{port}' (its {side} ports: "
            f"{', '.join(ports) or 'none'})"
        )
    return node_id, port


def _shown(text: str) -> str:
    """A value given on the command line as an error line shows it: as typed when that is
    short and plain, else quoted with its line breaks escaped and cut short."""
    if text and len(text) <= 40 and text.isprintable() and not any(c.isspace() for c in text):
        return text
    return short(text)


def _json_value(text: str, what: str) -> Any:
    """A number or true/false written as JSON (never evaluated as code; an integer of more
    than 4,300 digits is refused by json itself)."""
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidSettingError(
            f"{what}: expected a number or true/false, got {short(text)}"
        ) from None


def _number(text: str, what: str) -> int | float:
    """A number as JSON gives it, not converted: an integer too large for a float is left to
    the graph's check of its size."""
    value = _json_value(text, what)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EditError(f"{what} must be a number, not {short(text)}")
    return value
