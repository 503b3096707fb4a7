"""How long validation and unrolling take on a large graph.

    python benchmarks/validate_unroll.py [--nodes 200] [--steps 100] [--repeat 5] [--json]

Builds a graph of ``--nodes`` nodes with the graph API (a sequence input, alternating GRU cells
and Dense layers with a feedback Delay every tenth layer, an output), then times
``validate`` and ``unroll`` over ``--steps`` steps. The reference, run in the same process, is
networkx alone building a DiGraph with the same nodes and edges and sorting it topologically:
the ratio says what our logic costs on top of the graph library it stands on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.runtime import runtime
from rnn_builder.graph.model import Graph
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import validate


def build(nodes: int) -> Graph:
    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 8})
    previous = ("x", "y")
    layer = 0
    while len(graph) < nodes - 1:
        cell = graph.add_node("gru", node_id=f"cell_{layer}", params={"hidden_size": 8}).id
        graph.connect(*previous, cell, "x")
        previous = (cell, "y")
        if len(graph) < nodes - 1:
            dense = graph.add_node("dense", node_id=f"dense_{layer}", params={"units": 8}).id
            graph.connect(*previous, dense, "x")
            previous = (dense, "y")
        layer += 1
    graph.add_node("output", node_id="out", params={"loss": "mse"})
    graph.connect(*previous, "out", "x")
    return graph


def median_seconds(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous result outside the timed region
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def reference(unrolled) -> None:
    dag = nx.DiGraph()
    dag.add_nodes_from(unrolled.dag.nodes)
    dag.add_edges_from((u, v) for u, v, _ in unrolled.dag.edges(keys=True))
    list(nx.topological_sort(dag))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do

    graph = build(args.nodes)
    validate_s, report = median_seconds(lambda: validate(graph), args.repeat)
    assert report.ok, report.errors[:1]
    unroll_s, unrolled = median_seconds(lambda: unroll(graph, args.steps, report), args.repeat)
    reference_s, _ = median_seconds(lambda: reference(unrolled), args.repeat)
    total = validate_s + unroll_s
    row = {
        "nodes": len(graph),
        "steps": args.steps,
        "unrolled_nodes": unrolled.node_count,
        "unrolled_edges": unrolled.edge_count,
        "validate_ms": round(validate_s * 1000, 1),
        "unroll_ms": round(unroll_s * 1000, 1),
        "total_ms": round(total * 1000, 1),
        "networkx_reference_ms": round(reference_s * 1000, 1),
        "ratio": round(unroll_s / reference_s, 2),
    }
    if args.json:
        print(json.dumps(row))
        return 0
    print(
        f"graph: {row['nodes']} nodes, unrolled over {args.steps} steps to "
        f"{row['unrolled_nodes']:,} copies and {row['unrolled_edges']:,} edges"
    )
    print(f"{'':28}{'median ms':>10}")
    print(f"{'validate':28}{row['validate_ms']:>10.1f}")
    print(f"{'unroll (with schedule)':28}{row['unroll_ms']:>10.1f}")
    print(f"{'validate + unroll':28}{row['total_ms']:>10.1f}")
    print(f"{'networkx alone (reference)':28}{row['networkx_reference_ms']:>10.1f}")
    print(f"unroll / reference: {row['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
