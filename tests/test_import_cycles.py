"""The core's modules import one another without cycles, so that each layer can be read, tested
and replaced from the bottom up (nodes and graph below validation, below the engine, below
training and export).

Counted: every ``import`` and ``from … import`` in a module, at its top or inside a function
(a late import that dodges a cycle at start-up is still a cycle in the design). Not counted:
imports under ``if TYPE_CHECKING:`` (annotations only; a second test counts them too). A package
depends on the submodules its ``__init__`` imports; ``from . import x`` depends on ``x``, not on
the package."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

CORE = Path(__file__).resolve().parents[1] / "rnn_builder"


def import_graph(root: Path = CORE, annotations: bool = False) -> nx.DiGraph:
    modules = {}
    for path in root.rglob("*.py"):
        if "torch_files" in path.parts:  # files copied into an export, not core modules
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        annotations_only = {
            id(inner)
            for node in ast.walk(tree)
            if not annotations
            and isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in annotations_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                submodules = [f"{target}.{a.name}" for a in node.names]
                targets = [t for t in submodules if t in modules] or [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def test_the_core_has_no_import_cycle():
    cycles = sorted(nx.simple_cycles(import_graph()), key=len)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles[:10])


def test_annotations_close_no_cycle_either():
    """A module that names another only in annotations still leans on it in the design. Issue 13
    found ``executor → ops → run → executor`` and ``graph ⇄ shapes`` that way (and through a late
    import): run and shapes now name the few members they read of the executor and the graph as
    a Protocol, and run takes DataError from errors rather than through ops."""
    cycles = sorted(nx.simple_cycles(import_graph(annotations=True)), key=len)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles[:10])


def test_the_check_finds_a_cycle_through_a_late_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("def thing():\n    from . import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n"
    )
    graph = import_graph(package)
    assert [sorted(cycle) for cycle in nx.simple_cycles(graph)] == [["pkg.a", "pkg.b"]]
    assert not graph.has_edge("pkg.c", "pkg.a")
    assert import_graph(package, annotations=True).has_edge("pkg.c", "pkg.a")
