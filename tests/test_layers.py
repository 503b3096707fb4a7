"""The core's folders are layers: each uses only the folders below it, so that the folder names
tell a newcomer what a module may depend on. From the bottom: the shared modules at the top of
the package (errors, values, collector), ``graph``, ``engine``, ``files``, ``training``,
``export``, ``cli``. Late imports count (see ``test_import_cycles``): a node type names its
operation and kernel rather than importing the engine, and weights files are written by
``files.weights_file.save_weights`` and read by ``export.weights_import.load_weights``, not by
the executor."""

from __future__ import annotations

from .test_import_cycles import import_graph

LAYERS = ("graph", "engine", "files", "training", "export", "cli")


def layer_of(module: str) -> int:
    """The layer of a core module (-1: the shared modules at the package's top)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def upward_imports() -> set[tuple[str, str]]:
    graph = import_graph()
    return {(a, b) for a, b in graph.edges if layer_of(a) < layer_of(b) and layer_of(a) >= 0}


def test_each_folder_uses_only_the_folders_below_it():
    upward = sorted(upward_imports())
    assert not upward, "imports from a layer above: " + ", ".join(f"{a} → {b}" for a, b in upward)


def test_the_graph_layer_knows_nothing_of_running_it():
    graph = import_graph()
    for a, b in graph.edges:
        if a.startswith("rnn_builder.graph."):
            assert layer_of(b) <= 0, f"{a} imports {b}"


def test_every_core_module_is_in_a_layer_or_shared():
    shared = {
        "rnn_builder",
        "rnn_builder.__main__",
        "rnn_builder.errors",
        "rnn_builder.values",
        "rnn_builder.collector",
    }
    for module in import_graph().nodes:
        assert layer_of(module) >= 0 or module in shared, module
