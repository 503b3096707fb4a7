"""The ``export`` command of the CLI: ``export FILE --to onnx -o PATH [--weights W]
[--opset N] [--check]`` and ``export FILE --to pytorch -o FOLDER [--weights W] [--check]``;
and ``import-weights PROJECT FILE -o W.npz``, which brings trained weights back (``.npz``, the
PyTorch export's ``.safetensors`` or a ``train.py`` checkpoint) as our ``.npz``.

Exit status as elsewhere: 0 written, 1 when the graph has problems, cannot be exported, or the
check finds the exported model disagreeing with our executor (nothing is written then), 2 for
bad usage, an unreadable input or an unwritable output. The output is written atomically, so a
failure leaves no partial file (or folder). ``onnx`` and ``torch`` are imported only here, only
when exporting or checking.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from rnn_builder.cli.data import add_allow_outside_data, project_folder
from rnn_builder.cli.problems import EXIT_PROBLEMS, problem_lines
from rnn_builder.engine.executor import Executor
from rnn_builder.errors import ExportError, ExportFolderError, RNNBuilderError
from rnn_builder.export.weights_import import load_weights
from rnn_builder.files.serialization import load
from rnn_builder.files.weights_file import save_weights
from rnn_builder.graph.validation import validate
from rnn_builder.training.workload import validate_for

FORMATS = ("onnx", "pytorch")


class ExportUnavailableError(RNNBuilderError):
    """A format or a package this installation cannot export with (exit 2)."""


def add_commands(commands) -> None:
    p = commands.add_parser(
        "export", help="write the network for other tools (ONNX, a PyTorch project folder)"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--to", required=True, choices=FORMATS, help="the format to write")
    p.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="file (ONNX) or folder (PyTorch)"
    )
    p.add_argument(
        "--weights",
        metavar="W",
        help="trained weights, .npz or .safetensors (default: fresh weights from the seed)",
    )
    p.add_argument(
        "--opset",
        type=_opset,
        default=17,
        metavar="N",
        help="ONNX opset version, 14 to 22 (default 17)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="run the export (ONNX Runtime, or PyTorch) on the validation data and compare it "
        "with ours",
    )
    add_allow_outside_data(p)

    p = commands.add_parser(
        "import-weights", help="bring trained weights back (.safetensors, checkpoint) as .npz"
    )
    p.add_argument("file", metavar="PROJECT")
    p.add_argument("weights", metavar="FILE", help=".npz, .safetensors or train.py's checkpoint")
    p.add_argument("-o", "--output", required=True, metavar="W.npz", help="the .npz to write")


def _opset(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 14 <= value <= 22:
        raise argparse.ArgumentTypeError(f"opset {value} is not supported: choose 14 to 22")
    return value


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    project = load(args.file)
    report = validate_for(project, Path(args.file).resolve().parent, "export")
    if not report.ok:
        print("\n".join(problem_lines(args.file, report.errors)), file=out)
        return EXIT_PROBLEMS
    if args.to == "pytorch":
        return _export_pytorch(args, project, report, out)
    try:
        from rnn_builder.export.onnx import export_onnx, save_onnx
        from rnn_builder.export.onnx_check import check_onnx
    except ImportError as error:
        raise ExportUnavailableError(
            f"ONNX export needs the '{error.name}' package: pip install 'rnn-builder[onnx]'"
        ) from None
    executor = Executor(project.graph, seed=project.training.seed, report=report)
    if args.weights is not None:
        load_weights(executor, args.weights)
    try:
        model = export_onnx(executor, args.opset, project.title)
    except ExportError as error:
        print(f"rnn-builder: error: {error}", file=sys.stderr)
        return 1
    if args.check:
        result = check_onnx(project, model, executor, project_folder(args))
        print(result.summary(), file=out)
        if not result.ok:
            print(
                f"rnn-builder: error: {_disagreement(result)}; nothing was written", file=sys.stderr
            )
            return 1
    save_onnx(model, Path(args.output))
    weights = args.weights or f"fresh weights (seed {project.training.seed})"
    names = [i.name for i in model.graph.input] + ["->"] + [o.name for o in model.graph.output]
    print(
        f"exported {args.file} with {weights} to {args.output} (ONNX opset {args.opset}): "
        + " ".join(names),
        file=out,
    )
    return 0


def _export_pytorch(args: argparse.Namespace, project, report, out: TextIO) -> int:
    from rnn_builder.export.pytorch import export_pytorch

    executor = Executor(project.graph, seed=project.training.seed, report=report)
    if args.weights is not None:
        load_weights(executor, args.weights)
    base = project_folder(args)
    folder = Path(args.output)
    if args.check:  # before writing, so that a missing torch costs nothing
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ExportUnavailableError(
                "checking a PyTorch export needs torch: pip install torch (or leave out --check)"
            ) from None

    def check(written: Path) -> None:
        """The folder, still under its temporary name, against our executor."""
        from rnn_builder.export.pytorch_check import check_pytorch

        result = check_pytorch(project, executor, written, base)
        print(result.summary(), file=out)
        if not result.ok:
            raise ExportError(_disagreement(result))

    try:
        export_pytorch(project, executor, folder, base, check if args.check else None)
    except ExportFolderError:
        raise  # an unwritable output: exit 2, as for the other commands
    except ExportError as error:  # the graph refused, or the check failed: nothing written
        print(f"rnn-builder: error: {error}; nothing was written", file=sys.stderr)
        return 1
    weights = args.weights or f"fresh weights (seed {project.training.seed})"
    print(
        f"exported {args.file} with {weights} to {folder}/ (PyTorch): model.py, "
        "weights.safetensors, data.npz, train.py, README.md",
        file=out,
    )
    return 0


def _disagreement(result) -> str:
    """A check's failure in words: not rounding (that stays within the tolerance), a model
    that computes something else."""
    return (
        f"the exported model disagrees with ours by {result.max_difference:.3g}, where float32 "
        f"rounding stays within {result.tolerance:g}: it computes something else"
    )


def cmd_import_weights(args: argparse.Namespace, out: TextIO) -> int:
    """Read trained weights of any kind we write, checked against the project, as .npz."""
    project = load(args.file)
    report = validate(project.graph)
    if not report.ok:
        print("\n".join(problem_lines(args.file, report.errors)), file=out)
        return EXIT_PROBLEMS
    executor = Executor(project.graph, seed=project.training.seed, report=report)
    load_weights(executor, args.weights)
    save_weights(executor, args.output)
    count = len(executor.parameters)
    print(f"imported {count} tensors from {args.weights} into {args.output}", file=out)
    return 0
