"""The library's public names (``rnn_builder/__init__.py``): each resolves, the README's
"Use it from Python" runs as written and lists them all, and importing the package stays light.

Issue 20: ``from rnn_builder.executor import Executor`` broke when the modules moved into folders,
and nothing at the top replaced it. These tests make a move that breaks a public name fail here,
and the README example cannot drift from the code: it is read from the README and run."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnn_builder

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HEAVY = ("torch", "onnx", "onnxruntime", "safetensors", "threadpoolctl")


def _python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_public_name_resolves_in_a_fresh_process():
    names = [n for n in rnn_builder.__all__ if n != "__version__"]
    done = _python(
        "import json, rnn_builder\n"
        f"found = {{n: getattr(rnn_builder, n) for n in {names!r}}}\n"
        "print(json.dumps({n: getattr(v, '__module__', '') for n, v in found.items()}))\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = json.loads(done.stdout)
    assert sorted(modules) == sorted(names)
    for name, module in modules.items():  # each the core's own, not something re-exported
        assert module.startswith("rnn_builder."), (name, module)
    assert len(set(rnn_builder.__all__)) == len(rnn_builder.__all__)


def test_star_import_and_dir_give_the_public_names():
    done = _python(
        "from rnn_builder import *\nimport rnn_builder\n"
        "print(sorted(set(rnn_builder.__all__) - set(globals())))\n"
        "print(sorted(set(rnn_builder.__all__) - set(dir(rnn_builder))))\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["[]", "[]"]


def test_an_unknown_name_is_an_attribute_error_that_names_it():
    with pytest.raises(AttributeError, match="has no attribute 'Executer'"):
        _ = rnn_builder.Executer
    assert not hasattr(rnn_builder, "executor_of_nothing")


def test_importing_the_package_loads_no_engine_trainer_exporter_or_onnx():
    done = _python(
        "import sys, rnn_builder\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith(('rnn_builder.engine', 'rnn_builder.training', "
        "'rnn_builder.export')))\n"
        "print(loaded())\n"
        "rnn_builder.Trainer\n"
        "print([m for m in loaded() if m.startswith('rnn_builder.export') or m == 'onnx'])\n"
        "print('rnn_builder.training.trainer' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    at_import, exporters_with_the_trainer, trainer = done.stdout.splitlines()
    assert at_import == "[]"
    assert exporters_with_the_trainer == "[]" and trainer == "True"


def test_the_lazy_names_and_the_type_checkers_names_are_the_same():
    """Editors and type checkers read the ``if TYPE_CHECKING:`` imports; the package resolves
    ``_LAZY`` at run time: one list cannot gain a name the other lacks."""
    tree = ast.parse((ROOT / "rnn_builder" / "__init__.py").read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
    )
    typed = {
        alias.name: node.module
        for node in ast.walk(block)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == rnn_builder._LAZY
    assert set(rnn_builder._LAZY) <= set(rnn_builder.__all__)


def test_the_readme_lists_every_public_name():
    table = [line for line in _section("Use it from Python").splitlines() if line.startswith("| ")]
    listed = {name for line in table for name in re.findall(r"`(\w+)`", line)}
    assert listed == set(rnn_builder.__all__) - {"__version__"}


def test_the_readme_example_runs_as_written(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", _section("Use it from Python"), re.DOTALL)
    assert len(blocks) == 3 and "from rnn_builder import" in blocks[0]
    done = _python("\n".join(blocks), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    problems, trained, predicted, *probabilities, alignment = done.stdout.splitlines()
    assert problems == "[]"
    assert trained.startswith("steps Evaluation(loss=")
    assert re.fullmatch(r"(positive|negative) \(p = \d\.\d\d\)", predicted), predicted
    assert len(probabilities) == 2  # the batch of two sentences, a row each
    assert alignment == "(41, 1, 9) True"  # an attention's alignment, whole and stepped

    # what it wrote is what the app and the command line read
    project = rnn_builder.load_project(tmp_path / "sentiment.json")
    executor = rnn_builder.Executor(project.graph)
    rnn_builder.load_weights(executor, tmp_path / "sentiment.npz")
    fresh = rnn_builder.Executor(project.graph, seed=project.training.seed).get_parameters()
    name = next(iter(fresh))
    assert not np.array_equal(executor.get_parameters()[name], fresh[name])  # trained
    import onnx

    onnx.checker.check_model(onnx.load(str(tmp_path / "sentiment.onnx")))
    assert (tmp_path / "sentiment_pytorch" / "model.py").is_file()
