"""Small attention graphs in both placements, for the tests: after the decoder (Luong: the
decoder's y is the query) and inside its loop (Bahdanau: the decoder's previous state, through
a Delay, is the query, and the context joins the fed-back prediction as the decoder's input).
Token ids in, classes out, a start token fed back first; sizes kept tiny so that finite
differences and the textbook kernels stay fast."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.executor import Batch
from rnn_builder.graph.model import Graph

from .helpers import wire

SOURCE_VOCABULARY, CLASSES, START = 6, 5, 4
SCORES = ("additive", "dot", "general")


def _encoder(g: Graph, hidden: int) -> None:
    g.add_node("sequence_input", node_id="src", params={"vocabulary": SOURCE_VOCABULARY})
    g.add_node("embedding", node_id="emb", params={"vocabulary": SOURCE_VOCABULARY, "dimension": 3})
    g.add_node("gru", node_id="enc", params={"hidden_size": hidden})
    wire(g, "src.y", "emb.tokens", "emb.y", "enc.x")


def luong(score: str = "general", hidden: int = 4) -> Graph:
    """Encoder → decoder fed back its prediction; attention after the decoder, its context
    joined with the decoder's y through a tanh layer, then the scores."""
    g = Graph()
    _encoder(g, hidden)
    g.add_node("delay", node_id="prev", params={"initial": "start_token", "start_token": START})
    g.add_node("gru", node_id="dec", params={"hidden_size": hidden})
    g.add_node("attention", node_id="att", params={"score": score, "units": 5})
    g.add_node("concat", node_id="joined")
    g.add_node("dense", node_id="combine", params={"units": 4, "activation": "tanh"})
    g.add_node("dense", node_id="head", params={"units": CLASSES})
    g.add_node("output", node_id="out", params={"loss": "cross_entropy", "target": "y"})
    wire(g, "enc.h_n", "dec.h_0", "prev.y", "dec.x", "dec.y", "att.query", "enc.y", "att.memory")
    wire(g, "att.context", "joined.a", "dec.y", "joined.b", "joined.y", "combine.x")
    wire(g, "combine.y", "head.x", "head.y", "out.x", "head.y", "prev.x")
    return g


def bahdanau(score: str = "additive", hidden: int = 4) -> Graph:
    """Encoder → decoder whose input is the fed-back prediction joined with the context of
    attention from its previous state (a Delay of its y)."""
    g = Graph()
    _encoder(g, hidden)
    g.add_node("delay", node_id="prev", params={"initial": "start_token", "start_token": START})
    g.add_node("delay", node_id="state")
    g.add_node("attention", node_id="att", params={"score": score, "units": 5})
    g.add_node("concat", node_id="joined")
    g.add_node("gru", node_id="dec", params={"hidden_size": hidden})
    g.add_node("dense", node_id="head", params={"units": CLASSES})
    g.add_node("output", node_id="out", params={"loss": "cross_entropy", "target": "y"})
    wire(g, "enc.h_n", "dec.h_0", "dec.y", "state.x", "state.y", "att.query", "enc.y", "att.memory")
    wire(g, "prev.y", "joined.a", "att.context", "joined.b", "joined.y", "dec.x")
    wire(g, "dec.y", "head.x", "head.y", "out.x", "head.y", "prev.x")
    return g


def repeated(score: str = "general", values: bool = False) -> Graph:
    """No feedback at all: the decoder reads the encoder's h_n at every step of a Repeat's
    axis, the attention runs over whole sequences; ``values`` wires a separate values input
    (a Dense of the encoder's y)."""
    g = Graph()
    _encoder(g, 4)
    g.add_node("repeat", node_id="rep", params={"steps": 3})
    g.add_node("gru", node_id="dec", params={"hidden_size": 4})
    g.add_node("attention", node_id="att", params={"score": score, "units": 5})
    g.add_node("dense", node_id="head", params={"units": CLASSES})
    g.add_node("output", node_id="out", params={"loss": "cross_entropy", "target": "y"})
    wire(g, "enc.h_n", "rep.x", "rep.y", "dec.x", "dec.y", "att.query", "enc.y", "att.memory")
    wire(g, "att.context", "head.x", "head.y", "out.x")
    if values:
        g.add_node("dense", node_id="val", params={"units": 3, "activation": "tanh"})
        wire(g, "enc.y", "val.x", "val.y", "att.values")
    return g


def padded_batch(lengths: list[int], target_steps: int = 3, seed: int = 0) -> Batch:
    """Token ids padded after each source's length (-1, masked), and a target per step."""
    rng = np.random.default_rng(seed)
    steps = max(lengths)
    mask = (np.arange(steps)[:, None] < np.array(lengths)[None]).astype(float)
    tokens = np.where(mask > 0, rng.integers(0, SOURCE_VOCABULARY, (steps, len(lengths))), -1)
    targets = {"y": rng.integers(0, CLASSES, (target_steps, len(lengths)))}
    masks = {"src": mask} if min(lengths) < steps else {}
    return Batch({"src": tokens}, targets, masks)
