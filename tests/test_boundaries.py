"""The ui uses the core and its own parts through public names only: no ``x._name`` on another
object and no ``from rnn_builder… import _name``, so that the core's insides can change
without the ui noticing, and the window and the live views talk through public methods."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _private_uses(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnn_builder"):
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_the_ui_uses_no_private_name_of_the_core_or_of_another_object():
    assert _private_uses(ROOT / "ui") == []


def test_the_check_sees_a_private_use(tmp_path):
    (tmp_path / "bad.py").write_text(
        "from rnn_builder.graph.model import _x\nwindow._dock()\nself._fine()\n", encoding="utf-8"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = _private_uses(tmp_path)
    finally:
        ROOT = saved
    assert found == ["bad.py:1 imports _x", "bad.py:2 window._dock"]
