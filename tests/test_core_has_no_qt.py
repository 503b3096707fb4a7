"""The core must stay usable without a GUI: no module of rnn_builder imports Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rnn_builder

PACKAGE = Path(rnn_builder.__file__).parent
GUI_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def test_no_source_file_imports_qt():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in GUI_MODULES]
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    modules = sorted(
        "rnn_builder." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in PACKAGE.rglob("*.py")
        # torch_files: the PyTorch export's model.py and train.py sources, read as text and
        # copied into export folders, where they import torch and the generated model
        if p.name != "__main__.py" and "torch_files" not in p.parts
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m.removesuffix('.__init__'))\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {GUI_MODULES!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert len(modules) > 10  # the scan really saw the package
