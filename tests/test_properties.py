"""Generated graphs and files: validate, classify, unroll and load never fail with anything but
the project's own errors, and whatever validates also unrolls to a DAG."""

from __future__ import annotations

import contextlib
import json

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_builder.errors import ProjectFileError
from rnn_builder.files.serialization import dumps, loads
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Edge, Graph
from rnn_builder.graph.plan import feedback_outputs
from rnn_builder.graph.registry import default_registry
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import CODES, classify, validate

TYPES = default_registry().names()
# Hypothesis's default 100 examples a property (300 took ~12 s of the suite for five
# properties); a failing example is kept in .hypothesis/ and tried first on the next run.
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def param_value(spec):
    if spec.kind == "int":
        return st.one_of(st.integers(-3, 70), st.sampled_from([spec.default]))
    if spec.kind == "float":
        return st.floats(-20, 20, allow_nan=False)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "choice":
        return st.one_of(st.sampled_from(spec.choices), st.text(max_size=5))
    return st.text(max_size=8)


@st.composite
def graphs(draw) -> Graph:
    graph = Graph()
    count = draw(st.integers(0, 9))
    for index in range(count):
        type_name = draw(st.sampled_from(TYPES))
        node_type = default_registry().get(type_name)
        params = {
            spec.name: draw(param_value(spec)) for spec in node_type.params if draw(st.booleans())
        }
        graph.add_node(type_name, node_id=f"n{index}", params=params, strict=False)
    ids = list(graph.nodes)
    if ids:
        for _ in range(draw(st.integers(0, 14))):
            src = draw(st.sampled_from(ids))
            dst = draw(st.sampled_from(ids))
            outs = graph.node_type(src).outputs
            ins = graph.node_type(dst).inputs
            if not outs or not ins:
                continue
            edge = Edge(src, draw(st.sampled_from(outs)).name, dst, draw(st.sampled_from(ins)).name)
            if not graph.has_edge(edge):
                graph.add_edge(edge)
    return graph


@st.composite
def sensible_graphs(draw) -> Graph:
    """Graphs built only through connect(), which refuses impossible wires: more are valid."""
    graph = Graph()
    for index in range(draw(st.integers(1, 9))):
        graph.add_node(draw(st.sampled_from(TYPES)), node_id=f"n{index}")
    ids = list(graph.nodes)
    for _ in range(draw(st.integers(0, 16))):
        src, dst = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        outs, ins = graph.node_type(src).outputs, graph.node_type(dst).inputs
        if outs and ins:
            try:
                graph.connect(
                    src, draw(st.sampled_from(outs)).name, dst, draw(st.sampled_from(ins)).name
                )
            except Exception as error:
                assert type(error).__module__ == "rnn_builder.errors", error
    return graph


@st.composite
def grown_graphs(draw) -> Graph:
    """Graphs grown node by node from an input, each new node wired from earlier ones, with an
    occasional feedback Delay: most of these are valid, so unrolling gets exercised."""
    graph = Graph()
    if draw(st.booleans()):
        graph.add_node(
            "sequence_input",
            node_id="in",
            params={
                "features": draw(st.integers(1, 4)),
                "vocabulary": draw(st.sampled_from([0, 0, 5])),
            },
        )
    else:
        graph.add_node("vector_input", node_id="in", params={"features": draw(st.integers(1, 4))})
    loop = None
    if draw(st.integers(0, 3)) == 0:
        loop = graph.add_node("delay", node_id="loop").id
    body = [t for t in TYPES if t not in ("sequence_input", "vector_input", "output", "delay")]
    for index in range(draw(st.integers(1, 7))):
        type_name = draw(st.sampled_from(body))
        params = (
            {"hidden_size": draw(st.integers(1, 5))} if type_name in ("rnn", "lstm", "gru") else {}
        )
        if type_name == "embedding":
            params = {"vocabulary": 5}
        node = graph.add_node(type_name, node_id=f"n{index}", params=params)
        if type_name in ("rnn", "lstm", "gru"):
            graph.set_param(node.id, "bidirectional", draw(st.integers(0, 4)) == 0)
        for port in graph.node_type(node.id).inputs:
            if not port.required and draw(st.integers(0, 3)) > 0:
                continue
            sources = [
                (n, p.name) for n in graph.nodes if n != node.id for p in graph.node_type(n).outputs
            ]
            for src, src_port in draw(st.permutations(sources)):
                try:
                    graph.connect(src, src_port, node.id, port.name)
                    break
                except Exception as error:
                    assert type(error).__module__ == "rnn_builder.errors", error
    sources = [(n, p.name) for n in graph.nodes for p in graph.node_type(n).outputs if n != "loop"]
    if loop is not None:
        for src, src_port in draw(st.permutations(sources)):
            try:
                graph.connect(src, src_port, loop, "x")
                break
            except Exception:
                pass
    graph.add_node(
        "output",
        node_id="out",
        params={"loss": draw(st.sampled_from(["cross_entropy", "mse", "binary_cross_entropy"]))},
    )
    src, src_port = draw(st.sampled_from(sources))
    graph.connect(src, src_port, "out", "x")
    return graph


def check_everything(graph: Graph, steps: int) -> None:
    report = validate(graph)
    assert all(p.code in CODES for p in report.problems)
    layout = classify(graph, report)
    assert (layout is None) == (not report.ok)
    if report.ok:
        unrolled = unroll(graph, steps, report)
        assert nx.is_directed_acyclic_graph(unrolled.dag)
        position = {k: i for i, k in enumerate(unrolled.schedule)}
        assert all(position[u] < position[v] for u, v in unrolled.dag.edges())
        # teacher forcing cuts only the edges into the forced Delays (they read targets)
        forced = frozenset(feedback_outputs(graph))
        teacher = unroll(graph, steps, report, forced)
        position = {k: i for i, k in enumerate(teacher.schedule)}
        assert len(position) == unrolled.node_count
        assert all(
            position[u] < position[v] for u, v in teacher.dag.edges() if v.node not in forced
        )
    text = dumps_graph(graph)
    assert dumps(loads(text)) == text


def dumps_graph(graph: Graph) -> str:
    project = new_project()
    project.graph = graph
    return dumps(project)


@SETTINGS
@given(graphs(), st.integers(1, 4))
def test_random_graphs_never_break_validation_unrolling_or_files(graph, steps):
    check_everything(graph, steps)


@SETTINGS
@given(grown_graphs(), st.integers(1, 4))
def test_grown_graphs_validate_classify_and_unroll(graph, steps):
    check_everything(graph, steps)


@SETTINGS
@given(sensible_graphs(), st.integers(1, 4))
def test_graphs_built_by_connect_never_break_anything(graph, steps):
    check_everything(graph, steps)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


@SETTINGS
@given(JSON)
def test_random_json_is_refused_with_a_project_error(value):
    with contextlib.suppress(ProjectFileError):
        loads(json.dumps(value))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@SETTINGS
@given(st.sampled_from(list(TEMPLATES)), st.data())
def test_template_files_with_one_part_replaced_load_or_are_refused_cleanly(name, data):
    document = json.loads(dumps(new_project(name)))
    paths = list(_paths(document))[1:]
    path = data.draw(st.sampled_from(paths))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON)
    try:
        project = loads(json.dumps(document))
    except ProjectFileError:
        return
    report = validate(project.graph)
    if report.ok:
        unroll(project.graph, 2, report)
