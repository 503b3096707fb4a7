"""The command line: ``python -m rnn_builder COMMAND ...``.

Commands: ``templates``, ``new``, ``validate``, ``unroll``, ``info``, ``explain``, ``edit`` (see
:mod:`rnn_builder.cli.edit`), for training
``train``, ``evaluate``, ``predict``, ``sample`` (see :mod:`rnn_builder.cli.training`), and
``export`` (see :mod:`rnn_builder.cli.export`).
Exit status: 0 on success, 1 when a graph has problems (the memory it needs among them), 2 for
bad usage, a file that cannot be read, or a machine that ran out of memory all the same.
Errors go to stderr as one line; the CLI never shows a traceback (set
``RNN_BUILDER_DEBUG=1`` to see one for a genuine bug).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from rnn_builder import __version__
from rnn_builder.cli import data as cli_data
from rnn_builder.cli import edit as cli_edit
from rnn_builder.cli import export as cli_export
from rnn_builder.cli import training as cli_training
from rnn_builder.cli.problems import EXIT_PROBLEMS, problem_lines, project_problems
from rnn_builder.engine.runtime import runtime
from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.bundle import is_bundle, pack, unpack
from rnn_builder.files.data_paths import OutsideDataError
from rnn_builder.files.exercises import EXERCISES, new_exercise
from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.budget import OUT_OF_MEMORY, memory_budget, size_text
from rnn_builder.graph.explain import explain_graph, explain_node
from rnn_builder.graph.footprint import estimate_workload
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import classify, validate
from rnn_builder.training.workload import workload_of
from rnn_builder.values import one_line

PROG = "rnn-builder"
EXIT_OK, EXIT_USAGE = 0, 2


class UsageError(Exception):
    """Bad arguments or an unreadable file: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Build, check and unroll recurrent neural networks drawn as graphs.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    p = commands.add_parser("templates", help="list the ready-made projects")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = commands.add_parser("new", help="create a project from a template")
    p.add_argument("template", metavar="TEMPLATE", help="template name (see 'templates')")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="project file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    p = commands.add_parser(
        "bundle", help="pack a project, its weights, runs and own data file into one FILE.rnnb"
    )
    p.add_argument("file", metavar="PROJECT")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write")
    cli_data.add_allow_outside_data(p)
    p = commands.add_parser("unbundle", help="unpack a bundle into a folder, as a project")
    p.add_argument("file", metavar="BUNDLE")
    p.add_argument("-o", "--output", required=True, metavar="FOLDER", help="an empty folder")

    p = commands.add_parser(
        "exercises", help="list the exercises, or write one as a project to train and hand in"
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the exercise to write")
    p.add_argument("-o", "--output", metavar="FILE", help="the project file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    p = commands.add_parser("validate", help="check a project's graph and name its layout")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = commands.add_parser("unroll", help="unroll a project's graph over time")
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--steps",
        type=_parse_steps,
        default=None,
        metavar="T",
        help="steps for every time axis, or per axis as AXIS=T[,AXIS=T] (default: the nodes' "
        "own step counts)",
    )
    p.add_argument("--format", choices=("text", "json", "dot"), default="text")

    p = commands.add_parser("info", help="describe a project")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = commands.add_parser(
        "explain", help="explain a project's layout and limits, or a cell's equations"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--node", metavar="NODE", help="a cell's id: its equations with the shapes")
    cli_edit.add_commands(commands)
    cli_data.add_commands(commands)
    cli_training.add_commands(commands)
    cli_export.add_commands(commands)
    return parser


def _parse_steps(text: str) -> int | dict[str, int]:
    def length(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of steps") from None
        if number < 1:
            raise argparse.ArgumentTypeError("the number of steps must be at least 1")
        return number

    if "=" not in text:
        return length(text)
    lengths = {}
    for part in text.split(","):
        axis, _, value = part.partition("=")
        axis = axis.strip()
        if not axis or not value:
            raise argparse.ArgumentTypeError(f"expected AXIS=T, got '{part}'")
        if axis in lengths:
            raise argparse.ArgumentTypeError(f"the axis '{axis}' is given twice")
        lengths[axis] = length(value.strip())
    return lengths


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    # This program owns its process: both cores where they pay (rnn_builder.engine.runtime).
    # Put back after, for tests and benchmarks that call main() in a process of their own.
    loop_threads = runtime().loop_threads
    runtime().configure(loop_threads=2)
    try:
        args = build_parser().parse_args(argv)
        _open_bundle(args)
        return COMMANDS[args.command](args, out)
    except UsageError as error:
        _fail(str(error))
        return EXIT_USAGE
    except OutsideDataError as error:
        _fail(f"{error} (--allow-outside-data)")
        return EXIT_USAGE
    except RNNBuilderError as error:
        _fail(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except MemoryError:  # validation checks the budget; the machine may still lack it now
        _fail(OUT_OF_MEMORY)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug: say so in one line unless debugging
        if os.environ.get("RNN_BUILDER_DEBUG"):
            raise
        _fail(f"internal error: {type(error).__name__}: {error} (please report this)")
        return 3
    finally:
        runtime().loop_threads = loop_threads


# commands that write beside the project: a bundle is read, not changed
WRITES_BESIDE = ("edit", "train", "bundle", "unbundle")


def _open_bundle(args: argparse.Namespace) -> None:
    """A bundle given where a project is: its files unpacked (checked) into a folder of their
    own, and the command run on the project there, as if opened where it was saved."""
    path = getattr(args, "file", None)
    if path is None or not is_bundle(path) or args.command in ("bundle", "unbundle"):
        return
    if args.command in WRITES_BESIDE:
        raise UsageError(
            f"'{args.command}' changes a project and its files: unpack the bundle first "
            f"(unbundle {path} -o FOLDER)"
        )
    args.file = str(unpack(path))


def cmd_bundle(args: argparse.Namespace, out: TextIO) -> int:
    project = load(args.file)
    path = Path(args.file)
    target = Path(args.output)
    if not is_bundle(target):
        target = target.with_name(target.name + ".rnnb")
    members = pack(
        project,
        target,
        path.with_suffix(".npz"),
        path.with_suffix(".runs.json"),
        cli_data.project_folder(args),  # a data file outside the folder: with the flag only
    )
    print(f"packed {', '.join(members)} into {target}", file=out)
    return EXIT_OK


def cmd_unbundle(args: argparse.Namespace, out: TextIO) -> int:
    folder = Path(args.output)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"'{folder}' is not an empty folder: choose another")
    project = unpack(args.file, folder)
    print(f"unpacked {args.file} into {folder}: open {project}", file=out)
    return EXIT_OK


def _fail(message: str) -> None:
    """One line on stderr, whatever the message quotes (a name typed with a line break)."""
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr)


def _open(path: str):
    return load(path)


def _base(path: str) -> Path:
    """The folder a project's relative data paths start from."""
    return Path(path).resolve().parent


# --- commands -------------------------------------------------------------------------------


def cmd_templates(args: argparse.Namespace, out: TextIO) -> int:
    rows = [
        {"name": t.name, "title": t.title, "layout": t.layout, "description": t.description}
        for t in TEMPLATES.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['title']}  [{row['layout']}]", file=out)
    return EXIT_OK


def cmd_new(args: argparse.Namespace, out: TextIO) -> int:
    project = new_project(args.template)
    path = Path(args.output)
    if path.exists() and not args.force:
        raise UsageError(f"'{path}' already exists; use --force to overwrite it")
    save(project, path)
    print(f"created {path} from template '{args.template}' ({project.title})", file=out)
    return EXIT_OK


def cmd_exercises(args: argparse.Namespace, out: TextIO) -> int:
    """The exercises, a paragraph each; with NAME and -o, that exercise as a project file."""
    if args.name is None:
        for exercise in EXERCISES.values():
            goal = exercise.build().goal
            print(f"{exercise.name}: {exercise.title}", file=out)
            print(f"  {exercise.text}", file=out)
            print(f"  goal: {goal.describe()}", file=out)
        return EXIT_OK
    if not args.output:
        raise UsageError(f"write the exercise somewhere: exercises {args.name} -o FILE")
    project = new_exercise(args.name)
    path = Path(args.output)
    if path.exists() and not args.force:
        raise UsageError(f"'{path}' already exists; use --force to overwrite it")
    save(project, path)
    print(f"created {path}: {project.title}", file=out)
    print(f"goal: {project.goal.describe()} ('evaluate' says whether it is met)", file=out)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """The graph, then whether its data fits it (the binding, the widths)."""
    project = _open(args.file)
    report = validate(project.graph)
    layout = classify(project.graph, report)
    problems = project_problems(project, _base(args.file))  # with the memory training needs
    valid = not any(p.severity == "error" for p in problems)
    if args.json:
        data = {
            "file": args.file,
            "valid": valid,
            "problems": [p.to_json() for p in problems],
            "layout": layout.to_json() if layout else None,
            "parameters": report.parameter_count if report.ok else None,
        }
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
        return EXIT_OK if valid else EXIT_PROBLEMS
    for line in problem_lines(args.file, problems):
        print(line, file=out)
    if not valid:
        return EXIT_PROBLEMS
    print(f"{args.file}: valid — {layout.summary}", file=out)
    return EXIT_OK


def cmd_unroll(args: argparse.Namespace, out: TextIO) -> int:
    project = _open(args.file)
    report = validate(project.graph)
    if not report.ok:
        for problem in report.errors:
            print(f"{args.file}: error: {problem.message} [{problem.code}]", file=out)
        return EXIT_PROBLEMS
    unrolled = unroll(project.graph, args.steps, report)
    if args.format == "json":
        print(json.dumps(unrolled.to_json(), indent=2, ensure_ascii=False), file=out)
    elif args.format == "dot":
        out.write(unrolled.to_dot())
    else:
        _print_unroll_summary(unrolled, out)
    return EXIT_OK


def _print_unroll_summary(unrolled, out: TextIO) -> None:
    graph = unrolled.graph
    axes = ", ".join(f"{axis} = {length}" for axis, length in unrolled.steps.items()) or "none"
    kinds = unrolled.edge_counts()
    print(f"time axes: {axes}", file=out)
    print(
        f"unrolled: {unrolled.node_count} nodes, {unrolled.edge_count} edges "
        f"({kinds['data']} data, {kinds['state']} state, {kinds['delay']} delay)",
        file=out,
    )
    for node_id, sharing in unrolled.sharing.items():
        if sharing.copies > 1:
            print(
                f"  {graph.describe(node_id)}: {sharing.copies} copies share "
                f"{sharing.parameters:,} weights",
                file=out,
            )
    print(
        f"parameters: {unrolled.parameter_count:,} ({unrolled.shared_parameter_count:,} shared "
        f"across time; {unrolled.unshared_parameter_count:,} if no copy shared)",
        file=out,
    )
    print("how it runs, in order:", file=out)
    for segment in unrolled.plan:
        print(f"  {segment.label(graph)}", file=out)
    print("schedule: " + " ".join(k.label() for k in unrolled.schedule), file=out)


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    project = _open(args.file)
    graph = project.graph
    report = validate(graph)
    layout = classify(graph, report)
    types = Counter(node.type_name for node in graph)
    data = {
        "file": args.file,
        "title": project.title,
        "description": project.description,
        "template": project.template,
        "nodes": len(graph),
        "edges": len(graph.edges),
        "node_types": dict(types),
        "valid": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "layout": layout.key if layout else None,
        "layout_summary": layout.summary if layout else None,
        "parameters": report.parameter_count if report.ok else None,
        "time_axes": {
            a.id: {"kind": a.kind, "steps": a.default_steps} for a in report.axes.values()
        },
        "training": project.training.to_json(),
        "dataset": project.dataset.to_json() if project.dataset else None,
        "memory": _memory(project, args.file, report),
    }
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
        return EXIT_OK
    print(f"{project.title}", file=out)
    if project.description:
        print(f"  {project.description}", file=out)
    print(f"nodes: {len(graph)} ({', '.join(f'{n} {t}' for t, n in types.items())})", file=out)
    print(f"wires: {len(graph.edges)}", file=out)
    if report.ok:
        print(f"layout: {layout.summary}", file=out)
        print(f"parameters: {report.parameter_count:,}", file=out)
    else:
        print(f"problems: {len(report.errors)} (run 'validate' to see them)", file=out)
    for axis in report.axes.values():
        print(f"time axis '{axis.id}': {axis.kind}, {axis.default_steps} steps", file=out)
    training = project.training
    print(
        f"training: {training.optimizer}, learning rate {training.learning_rate}, batch "
        f"{training.batch_size}, {training.epochs} epochs",
        file=out,
    )
    if project.dataset:
        print(f"data: {project.dataset.kind} '{project.dataset.name}'", file=out)
    memory = data["memory"]
    if memory is not None:
        print(
            f"memory: training holds about {size_text(memory['training_bytes'])} at once "
            f"(budget {size_text(memory['budget_bytes'])}, {memory['budget']})",
            file=out,
        )
    return EXIT_OK


def _memory(project, file: str, report) -> dict | None:
    """What training the project holds at its peak, against the budget (None: invalid)."""
    if not report.ok:
        return None
    estimate = estimate_workload(project.graph, workload_of(project, _base(file)), report)
    budget = memory_budget()
    return {"training_bytes": estimate.total, "budget_bytes": budget.bytes, "budget": budget.source}


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    project = _open(args.file)
    graph = project.graph
    report = validate(graph)
    if args.node is None:
        for title, text in explain_graph(graph, report, _predicts_next_step(project, args.file)):
            print(f"{title}\n  {text}", file=out)
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    if args.node not in graph:
        raise UsageError(f"the project has no node '{args.node}'")
    rows = explain_node(graph, report, args.node)
    if not rows:
        node_type = graph.node_type(args.node)
        print(
            f"{graph.node(args.node).name} ({node_type.title}): {node_type.description}", file=out
        )
        return EXIT_OK
    for formula, meaning in rows:
        print(f"{formula}\n    {meaning}", file=out)
    return EXIT_OK


def _predicts_next_step(project, file: str) -> bool:
    """Whether the project's data asks for the next step of its input (explain's advice)."""
    from rnn_builder.training.tasks import task_of

    try:
        task, _options = task_of(project, Path(file).resolve().parent, reading=False)
    except RNNBuilderError:
        return False
    return task.predicts_next_step


COMMANDS = {
    "templates": cmd_templates,
    "new": cmd_new,
    "exercises": cmd_exercises,
    "bundle": cmd_bundle,
    "unbundle": cmd_unbundle,
    "validate": cmd_validate,
    "unroll": cmd_unroll,
    "info": cmd_info,
    "explain": cmd_explain,
    "edit": cli_edit.cmd_edit,
    "data": cli_data.cmd_data,
    "train": cli_training.cmd_train,
    "evaluate": cli_training.cmd_evaluate,
    "predict": cli_training.cmd_predict,
    "sample": cli_training.cmd_sample,
    "export": cli_export.cmd_export,
    "import-weights": cli_export.cmd_import_weights,
}
