"""The core's folders are layers: each uses only the folders below it, so that the folder names
tell a newcomer what a module may depend on. From the bottom: the shared modules at the top of
the package (errors, values, collector), ``graph``, ``engine``, ``files``, ``training``,
``export``, ``cli``. Late imports count (see ``test_import_cycles``): a node type names its
operation and kernel rather than importing the engine, and weights files are written by
``files.weights_file.save_weights`` and read by ``export.weights_import.load_weights``, not by
the executor.

The package itself (``rnn_builder/__init__.py``, the library's public names) and ``python -m
rnn_builder`` stand with the cli at the top: they gather names from every layer for a user, and
nothing below the top imports them back. The package's own modules beside them (errors,
values, collector) are the bottom, imported by everything and importing no layer. Before issue
20 both kinds shared one number and were left out of the check: the package could not have been
held to the top without letting ``errors`` import the engine unseen."""

from __future__ import annotations

from .test_import_cycles import import_graph

LAYERS = ("graph", "engine", "files", "training", "export", "cli")
SHARED = ("rnn_builder.errors", "rnn_builder.values", "rnn_builder.collector")
TOP = ("rnn_builder", "rnn_builder.__main__")


def layer_of(module: str) -> int:
    """The layer of a core module: -1 for the shared modules at the bottom, the cli's for the
    package's public face at the top."""
    if module in TOP:
        return LAYERS.index("cli")
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def upward_imports(graph=None) -> set[tuple[str, str]]:
    graph = import_graph() if graph is None else graph
    return {(a, b) for a, b in graph.edges if layer_of(a) < layer_of(b)}


def test_each_folder_uses_only_the_folders_below_it():
    upward = sorted(upward_imports())
    assert not upward, "imports from a layer above: " + ", ".join(f"{a} → {b}" for a, b in upward)


def test_the_graph_layer_knows_nothing_of_running_it():
    graph = import_graph()
    for a, b in graph.edges:
        if a.startswith("rnn_builder.graph."):
            assert layer_of(b) <= 0, f"{a} imports {b}"


def test_every_core_module_is_in_a_layer_or_shared():
    for module in import_graph().nodes:
        parts = module.split(".")
        assert (len(parts) > 1 and parts[1] in LAYERS) or module in SHARED + TOP, module


def test_the_shared_modules_import_no_layer_and_only_the_top_imports_the_package():
    graph = import_graph(annotations=True)  # the package's lazy names as its type hints say
    for module in SHARED:
        assert [b for b in graph.successors(module) if b not in SHARED] == [], module
    assert set(graph.predecessors("rnn_builder")) <= {"rnn_builder.cli.main"}  # __version__
    assert graph.has_edge("rnn_builder", "rnn_builder.engine.executor")  # the lazy ones count


def test_the_check_sees_a_shared_module_import_a_layer():
    graph = import_graph()
    graph.add_edge("rnn_builder.errors", "rnn_builder.engine.executor")
    graph.add_edge("rnn_builder.graph.model", "rnn_builder")
    assert upward_imports(graph) == {
        ("rnn_builder.errors", "rnn_builder.engine.executor"),
        ("rnn_builder.graph.model", "rnn_builder"),
    }
