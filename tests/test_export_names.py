"""Names in the exported model.py (issue 20): no node id, target or title can collide with the
code the generator writes. Node values live in ``values[...]``, never in bare locals; every
submodule has an attribute no other node and no part of nn.Module has; the user's text is
written as literals."""

from __future__ import annotations

import builtins
import contextlib
import io
import keyword
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from rnn_builder.cli.main import main
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch
from rnn_builder.errors import InvalidParameterError
from rnn_builder.export.pytorch import export_pytorch, torch_weights
from rnn_builder.export.pytorch_model import model_source
from rnn_builder.export.torch_names import RESERVED, module_name
from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project
from rnn_builder.graph.model import NODE_ID_PATTERN, Graph, node_id_problem
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset

from .helpers import wire


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def with_id(project, old: str, new: str):
    """The project with node ``old`` called ``new`` (as a file holding that id loads)."""
    graph = Graph(project.graph.registry)
    for node in project.graph:
        node_id = new if node.id == old else node.id
        graph.add_node(
            node.type_name,
            node_id=node_id,
            name=node.name,
            params=node.params,
            position=node.position,
        )
    for edge in project.graph.edges:
        src = new if edge.src_node == old else edge.src_node
        dst = new if edge.dst_node == old else edge.dst_node
        graph.connect(src, edge.src_port, dst, edge.dst_port)
    project.graph = graph
    return project


def in_front_of_the_decoder(cell: str, port: str, node_id: str):
    """encoder_decoder_feedback with a Dense ``node_id`` feeding the decoder's ``port`` (its
    input inside the feedback loop, or its starting state), the cells made ``cell``."""
    project = new_project("encoder_decoder_feedback")
    graph = project.graph
    if cell != "gru":
        for name in ("encoder", "decoder"):
            into = [(e.src_node, e.src_port, e.dst_port) for e in graph.edges_into(name)]
            out = [(e.src_port, e.dst_node, e.dst_port) for e in graph.edges_out_of(name)]
            graph.remove_node(name)
            graph.add_node(cell, node_id=name, params={"hidden_size": 64})
            for src, src_port, dst_port in into:
                graph.connect(src, src_port, name, dst_port)
            for src_port, dst, dst_port in out:
                graph.connect(name, src_port, dst, dst_port)
    edge = graph.edges_into("decoder", port)[0]
    graph.disconnect(edge)
    width = 12 if port == "x" else 64
    graph.add_node("dense", node_id=node_id, params={"units": width, "activation": "tanh"})
    graph.connect(edge.src_node, edge.src_port, node_id, "x")
    graph.connect(node_id, "y", "decoder", port)
    return project


@pytest.mark.parametrize(
    ("cell", "port", "node_id"),
    [
        ("gru", "x", "next"),  # was UnboundLocalError: next(self.parameters()) read the node
        ("gru", "h_0", "range"),  # was TypeError: 'Tensor' object is not callable
        ("lstm", "x", "c_new"),
        ("lstm", "h_0", "h_new"),
        ("gru", "x", "forced"),
        ("gru", "h_0", "torch"),
        ("gru", "x", "self"),
    ],
)
def test_a_node_called_as_the_generated_code_names_things_exports_checked(
    capsys, tmp_path, cell, port, node_id
):
    pytest.importorskip("torch")
    path = save(in_front_of_the_decoder(cell, port, node_id), tmp_path / "p.json")
    folder = tmp_path / "out"
    code, out, err = run(capsys, "export", path, "--to", "pytorch", "-o", folder, "--check")
    assert code == 0, err
    assert "within 1e-05" in out and folder.is_dir()


def _two_loops(node_id: str) -> tuple[Graph, Batch]:
    """Two feedback loops on one axis: the first's Dense ``node_id`` is read, a step at a
    time, inside the second, where a GRU step writes the generator's own ``h_new``."""
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 4})
    g.add_node("gru", node_id="dec", params={"hidden_size": 4})
    g.add_node("dense", node_id=node_id, params={"units": 3})
    g.add_node("delay", node_id="prev", params={"steps": 4})
    g.add_node("concat", node_id="both")
    g.add_node("gru", node_id="dec2", params={"hidden_size": 5})
    g.add_node("dense", node_id="head", params={"units": 2})
    g.add_node("delay", node_id="prev2", params={"steps": 4})
    g.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    wire(g, "v.y", "dec.h_0", "dec.y", f"{node_id}.x", f"{node_id}.y", "prev.x")
    wire(g, "prev.y", "dec.x", f"{node_id}.y", "both.a", "head.y", "prev2.x")
    wire(g, "prev2.y", "both.b", "both.y", "dec2.x", "dec2.y", "head.x", "head.y", "out.x")
    rng = np.random.default_rng(0)
    batch = Batch({"v": rng.standard_normal((5, 4))}, {"y": rng.standard_normal((4, 5, 2))})
    return g, batch


@pytest.mark.parametrize("node_id", ["scores", "h_new"])
def test_a_value_read_by_a_later_feedback_loop_is_not_overwritten(tmp_path, node_id):
    """The old forward wrote a node called h_new as a local that the second loop's GRU step
    then overwrote: a shape error here, a silently wrong model where the shapes agreed."""
    torch = pytest.importorskip("torch")
    from safetensors.numpy import save_file

    from rnn_builder.export.pytorch_check import load_model, torch_batch

    graph, batch = _two_loops(node_id)
    executor = Executor(graph, dtype=np.float64, seed=1)
    (tmp_path / "model.py").write_text(model_source(executor, "two loops", ""))
    save_file(torch_weights(executor), str(tmp_path / "weights.safetensors"))
    executor.set_parameters(
        {k: v.astype(np.float32).astype(np.float64) for k, v in executor.parameters.items()}
    )
    _module, model = load_model(tmp_path)
    model = model.double()
    for train in (False, True):
        model.train(train)
        expected = executor.forward(batch, train=train)
        with torch.no_grad():
            outputs = model(**torch_batch(batch, torch.float64))
        got = model.predictions(outputs)["out"].numpy()
        np.testing.assert_allclose(got, expected.predictions["out"], atol=1e-12)
        assert abs(float(outputs["loss"]) - expected.loss) < 1e-12


def test_no_node_id_is_a_local_variable_of_forward():
    """Every node's value is an entry of ``values``: the names forward assigns are the
    generator's own, whatever the graph's ids are."""
    import ast

    project = new_project("encoder_decoder_feedback")
    source = model_source(Executor(project.graph), project.title, "")
    forward = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "forward"
    )
    assigned = {
        target.id
        for node in ast.walk(forward)
        for target in ast.walk(node)
        if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store)
    }
    assert assigned.isdisjoint(n.id for n in project.graph), assigned
    assert 'values["embed"] = lookup(self.embed, values["words"])' in source
    assert 'current["digit_scores"] = self.digit_scores(current["decoder"])' in source


# --- submodules: one attribute per node, none of nn.Module's ---------------------------------

WORDS = sorted(RESERVED | set(keyword.kwlist) | {"a", "x", "h_new", "a_b", "requires_grad"})
NODE_IDS = st.one_of(  # any id, and the words that must be changed, changed in every way
    st.from_regex(NODE_ID_PATTERN, fullmatch=True),
    st.builds(
        lambda word, before, after, dashes: (
            before + (word.replace("_", "-") if dashes else word) + after
        ),
        st.sampled_from(WORDS),
        st.sampled_from(["", "_", "__"]),
        st.sampled_from(["", "_", "-", "__"]),
        st.booleans(),
    ).filter(NODE_ID_PATTERN.fullmatch),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NODE_IDS, min_size=2, max_size=6, unique=True))
def test_every_id_has_its_own_attribute_that_nn_module_does_not_use(node_ids):
    names = [module_name(node_id) for node_id in node_ids]
    assert len(set(names)) == len(names), dict(zip(node_ids, names, strict=True))
    for name in names:
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert not name.startswith("_") and name not in RESERVED


def test_ids_read_as_themselves_where_they_can():
    assert module_name("encoder") == "encoder" and module_name("dense_1") == "dense_1"
    assert module_name("forward") == "forward_" and module_name("class") == "class_"
    assert module_name("forward_") == "forward__"
    assert module_name("my-layer") == "my_layer_"
    assert module_name("requires-grad") != "requires_grad_"  # nn.Module's method


def test_the_reserved_names_hold_every_attribute_of_an_nn_module():
    """Export needs no torch, so the names are listed; this holds the list to the torch here."""
    torch = pytest.importorskip("torch")
    public = {name for name in dir(torch.nn.Module()) if not name.startswith("_")}
    assert public <= RESERVED, sorted(public - RESERVED)


@pytest.mark.parametrize("node_id", ["set_submodule", "state_dict", "a-b", "_modules", "__dict"])
def test_a_dense_called_as_a_module_attribute_exports_checked(capsys, tmp_path, node_id):
    pytest.importorskip("torch")
    project = new_project("many_to_one")
    graph = project.graph  # reader → a_b → scores: a node 'a_b' beside the one called 'a-b'
    graph.disconnect(graph.edges_into("scores", "x")[0])
    graph.add_node("dense", node_id="a_b", params={"units": 32, "activation": "tanh"})
    wire(graph, "reader.h_n", "a_b.x", "a_b.y", "scores.x")
    project = with_id(project, "scores", node_id)
    path = save(project, tmp_path / "p.json")
    folder = tmp_path / "out"
    code, out, err = run(capsys, "export", path, "--to", "pytorch", "-o", folder, "--check")
    assert code == 0, err
    assert "within 1e-05" in out
    code, out, err = run(
        capsys, "import-weights", path, folder / "weights.safetensors", "-o", tmp_path / "w.npz"
    )
    assert code == 0, err
    attribute = module_name(node_id)
    assert (
        f'self.{attribute} = nn.Linear(32, 2)  # node "{node_id}"'
        in (folder / "model.py").read_text()
    )


# --- the user's text in model.py: literals, whatever it holds ------------------------------


@pytest.mark.parametrize("node_id", ["nullable", "true_or_false"])
def test_an_output_whose_id_holds_a_python_word_exports_checked(capsys, tmp_path, node_id):
    """The tables at the top of model.py were JSON with null/true/false replaced as text, so an
    Output called 'nullable' was looked for as 'Noneable'."""
    pytest.importorskip("torch")
    path = save(with_id(new_project("many_to_one"), "sentiment", node_id), tmp_path / "p.json")
    folder = tmp_path / "out"
    code, out, err = run(capsys, "export", path, "--to", "pytorch", "-o", folder, "--check")
    assert code == 0, err
    assert "within 1e-05" in out


def test_quotes_and_backslashes_in_a_target_title_and_description_stay_text(tmp_path):
    torch = pytest.importorskip("torch")
    import ast

    from rnn_builder.export.pytorch_check import load_model, torch_batch

    target = 'say "hi" \\'
    title = 'Quotes """ and \\ end with a quote"'
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("dense", node_id="head", params={"units": 2})
    g.add_node("delay", node_id="lag", params={"steps": 4})
    g.add_node("concat", node_id="both")
    g.add_node("output", node_id="out", params={"loss": "mse", "target": target})
    wire(g, "x.y", "both.a", "lag.y", "both.b", "both.y", "cell.x", "cell.y", "head.x")
    wire(g, "head.y", "out.x", "head.y", "lag.x")  # fed back, teacher forced in training
    rng = np.random.default_rng(0)
    batch = Batch({"x": rng.standard_normal((4, 5, 3))}, {target: rng.standard_normal((4, 5, 2))})
    executor = Executor(g, dtype=np.float64, seed=1)
    source = model_source(executor, title, 'a description """ with\nlines \\')
    assert ast.get_docstring(ast.parse(source)).startswith(title)
    (tmp_path / "model.py").write_text(source)
    from safetensors.numpy import save_file

    save_file(torch_weights(executor), str(tmp_path / "weights.safetensors"))
    executor.set_parameters(
        {k: v.astype(np.float32).astype(np.float64) for k, v in executor.parameters.items()}
    )
    module, model = load_model(tmp_path)
    assert list(module.TARGETS) == [target]
    model = model.double()
    for train in (False, True):
        outputs = model.train(train)(**torch_batch(batch, torch.float64))
        loss = float(outputs["loss"].detach())
        assert abs(loss - executor.forward(batch, train=train).loss) < 1e-12


def test_a_node_s_shown_name_never_reaches_model_py(capsys, tmp_path):
    """``edit --rename`` (and the inspector) change the name a node shows, which model.py does
    not use: whatever it is, the export is the same."""
    project = new_project("encoder_decoder_feedback")
    path = save(project, tmp_path / "p.json")
    before = model_source(Executor(project.graph), project.title, "")
    names = ["next", "h_new", 'say "hi" \\', "self", "\u00e9t\u00e9", "values", "forward"]
    arguments = []
    for node, name in zip(project.graph, names, strict=False):
        arguments += ["--rename", node.id, name]
    code, _, err = run(capsys, "edit", path, *arguments)
    assert code == 0, err
    renamed = load(path)
    assert [n.name for n in renamed.graph] == names
    assert model_source(Executor(renamed.graph), renamed.title, "") == before


# --- the property: any id a node can have exports a model that checks out ------------------------


def _generated_names() -> set[str]:
    """Every name a generated model.py uses: its helpers, locals, modules and attributes."""
    import tokenize

    project = new_project("encoder_decoder_feedback")
    source = model_source(Executor(project.graph), project.title, "")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


PYTHON_WORDS = sorted(
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
    | {"torch", "self", "nn", "F", "Tensor", "np", "loss", "values", "current", "history"}
    | _generated_names()
    | RESERVED
)
ANY_ID = st.one_of(
    st.sampled_from(PYTHON_WORDS),
    NODE_IDS,
    st.text(st.characters(categories=["L"]), min_size=1, max_size=8),  # unicode letters
)
RENAMED = ["embed", "encoder", "decoder", "digit_scores", "digits", "previous_digit"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_ID, st.sampled_from(RENAMED))
def test_any_id_either_exports_a_model_that_checks_out_or_is_refused_in_words(node_id, renamed):
    """encoder_decoder_feedback (a feedback loop, teacher forcing, GRU cells, both kinds of
    module) with one node called ``node_id``: refused by the core and by ``edit --add`` in one
    line, or exported to a model that --check passes, that trains (outputs and loss with
    targets) as our executor does, and whose weights come back."""
    torch = pytest.importorskip("torch")
    from rnn_builder.export.pytorch_check import check_pytorch, load_model, torch_batch
    from rnn_builder.export.weights_import import load_weights

    project = new_project("encoder_decoder_feedback")
    assume(node_id not in project.graph)
    node_type = project.graph.node_type(renamed)
    problem = node_id_problem(node_id, node_type)
    event("refused" if problem else "exported")
    if problem is not None:
        with pytest.raises(InvalidParameterError, match=re.escape(problem)):
            project.graph.add_node(node_type.type_name, node_id=node_id)
        with tempfile.TemporaryDirectory() as folder, io.StringIO() as err:
            path = save(project, Path(folder) / "p.json")
            with contextlib.redirect_stderr(err):
                code = main(["edit", str(path), "--add", node_type.type_name, node_id])
            assert code == 2
            assert err.getvalue().splitlines() == [
                f"rnn-builder: error: --add {node_type.type_name} {node_id} (operation 1): "
                f"{problem}; nothing was saved"
            ]
        return
    project = with_id(project, renamed, node_id)
    executor = Executor(project.graph, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        written = export_pytorch(project, executor, Path(folder) / "out")
        result = check_pytorch(project, executor, written)
        assert result.ok, result.summary()
        _module, model = load_model(written)
        batch = make_batch(
            make_dataset(project, 0).validation.examples[:5], executor.report, project.graph
        )
        for train in (True, False):
            model.train(train)
            expected = executor.forward(batch, train=train)
            with torch.no_grad():
                outputs = model(**torch_batch(batch))
            got = model.predictions(outputs)
            for output_id, value in expected.predictions.items():
                np.testing.assert_allclose(got[output_id].numpy(), value, atol=1e-5)
            assert abs(float(outputs["loss"]) - expected.loss) < 1e-5
        back = Executor(project.graph, seed=4)
        load_weights(back, written / "weights.safetensors")
        for name, value in executor.parameters.items():
            np.testing.assert_array_equal(back.parameters[name], value)
