"""The ui uses the core and its own parts through public names only: no ``x._name`` (nor
``getattr(x, "_name")``) on another object and no ``from rnn_builder… import _name``, so that
the core's insides can change without the ui noticing, and the window and the live views talk
through signals and public methods.

And the ui changes a project's settings only by undo commands: no module writes
``….training.x``, ``….dataset`` or a project's title, and only ``ui/editor/commands.py``
calls the project's change methods (the one other use, named below, says why)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


ATTRIBUTE_FUNCTIONS = ("getattr", "setattr", "hasattr", "delattr")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _on_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _listed(found: list[tuple[str, int, str]]) -> list[str]:
    """``path:line what`` for each find, in the order of the files' lines."""
    return [f"{where}:{line} {what}" for where, line, what in sorted(found)]


def _private_uses(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ATTRIBUTE_FUNCTIONS
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _private(node.args[1].value)
                and not _on_self(node.args[0])
            ):
                found.append((str(path.relative_to(ROOT)), node.lineno, ast.unparse(node)))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnn_builder"):
                found += [
                    (str(path.relative_to(ROOT)), node.lineno, f"imports {a.name}")
                    for a in node.names
                    if a.name.startswith("_")
                ]
            if isinstance(node, ast.Attribute) and _private(node.attr) and not _on_self(node.value):
                found.append((str(path.relative_to(ROOT)), node.lineno, ast.unparse(node)))
    return _listed(found)


def test_the_ui_uses_no_private_name_of_the_core_or_of_another_object():
    assert _private_uses(ROOT / "ui") == []


def test_the_check_sees_a_private_use(tmp_path):
    (tmp_path / "bad.py").write_text(
        "from rnn_builder.graph.model import _x\nwindow._dock()\nself._fine()\n"
        "getattr(panel, '_loading')\ngetattr(self, '_own')\nwindow.__class__\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = _private_uses(tmp_path)
    finally:
        ROOT = saved
    assert found == [
        "bad.py:1 imports _x",
        "bad.py:2 window._dock",
        "bad.py:4 getattr(panel, '_loading')",
    ]


# --- settings change by undo commands only ----------------------------------------------------

SETTING_PARTS = ("training", "dataset")
PROJECT_TEXTS = ("title", "description")
CHANGE_METHODS = ("set_training", "set_dataset", "keep_dataset_options", "set_title")
CHANGE_METHODS += ("set_description",)
COMMANDS = "ui/editor/commands.py"
# what making the data worked out (an alphabet) goes with the trained weights, which are unsaved
# work but no undo step: undoing it would leave weights that no longer read their data
ALLOWED_CALLS = {("ui/training/session.py", "keep_dataset_options")}


def _chain(node: ast.expr) -> list[str]:
    """The names along ``a.b[c].d``: ``["a", "b", "d"]``."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript | ast.Call):
            node = node.value if isinstance(node, ast.Subscript) else node.func
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _writes_a_setting(target: ast.expr) -> bool:
    """``project.training.x``, ``self.document.project.dataset``, ``project.title``, … (not an
    object's own ``self.dataset``)."""
    names = _chain(target)
    through_project = "project" in names[:-1]
    if any(part in names[1:] for part in SETTING_PARTS) and (
        through_project or names[0] not in ("self", "cls")
    ):
        return True
    return through_project and names[-1] in PROJECT_TEXTS


def _setting_writes(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign | ast.Delete):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                for part in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(part, ast.Attribute | ast.Subscript) and _writes_a_setting(part):
                        found.append((where, node.lineno, f"{ast.unparse(part)} ="))
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            if (
                isinstance(function, ast.Name)
                and function.id in ("setattr", "delattr")
                and node.args
                and _writes_a_setting(ast.Attribute(node.args[0], "x"))
            ):
                found.append((where, node.lineno, ast.unparse(node)))
            if (
                isinstance(function, ast.Attribute)
                and function.attr in CHANGE_METHODS
                and "project" in _chain(function.value)
                and where != COMMANDS
                and (where, function.attr) not in ALLOWED_CALLS
            ):
                found.append((where, node.lineno, ast.unparse(node)))
    return _listed(found)


def test_the_ui_changes_settings_only_by_undo_commands():
    assert _setting_writes(ROOT / "ui") == []


def test_the_settings_check_sees_a_write(tmp_path):
    (tmp_path / "bad.py").write_text(
        "self.project.training.epochs = 3\n"
        "setattr(project.training, 'seed', 1)\n"
        "document.project.dataset.options['alphabet'] = 'ab'\n"
        "self.document.project.title = 'x'\n"
        "self.document.project.set_training('seed', 2)\n"
        "self.document.set_training('seed', 2)\n"
        "self.title = node.name\n"
        "self.dataset = None\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = _setting_writes(tmp_path)
    finally:
        ROOT = saved
    assert [line.split(" ")[0] for line in found] == [f"bad.py:{n}" for n in (1, 2, 3, 4, 5)]
