"""Ready projects: one for each layout of the classic taxonomy, and three that show more.

Each template is a function that builds a fresh :class:`~rnn_builder.files.project.Project`, with a
human title, a description of what it demonstrates, and the built-in task it trains on. Node ids
are meaningful words, since they name the weights in saved ``.npz`` files. Where the nodes sit is
not written here: every template is laid out by :func:`rnn_builder.graph.arrange.arrange`, as
the app's Arrange would lay it out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnn_builder.errors import TemplateNotFoundError
from rnn_builder.files.project import DatasetReference, Project, TrainingSettings
from rnn_builder.graph.arrange import apply_arrangement
from rnn_builder.graph.model import Graph


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    layout: str  # the layout key it demonstrates
    task: str  # the built-in task it trains on
    build_graph: Callable[[], Graph]
    training: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Project:
        graph = self.build_graph()
        apply_arrangement(graph)  # laid out as Arrange lays it out, not by hand
        return Project(
            graph=graph,
            title=self.title,
            description=self.description,
            template=self.name,
            training=TrainingSettings(**self.training),
            dataset=DatasetReference("builtin", self.task, {}),
        )


class _Builder:
    """Adds nodes left to right and wires them, to keep template definitions short."""

    def __init__(self) -> None:
        self.graph = Graph()

    def node(self, node_id: str, type_name: str, **params: Any) -> _Builder:
        self.graph.add_node(type_name, node_id=node_id, params=params)
        return self

    def wire(self, *chain: str) -> _Builder:
        """Wire ``"a.y", "b.x", "c.x"``: a.y→b.x, then b's first output → c.x, and so on.
        A bare node id means its port ``y`` as a source and its first input as a target."""
        for source, target in itertools.pairwise(chain):
            src, src_port = self._port(source, output=True)
            dst, dst_port = self._port(target, output=False)
            self.graph.connect(src, src_port, dst, dst_port)
        return self

    def _port(self, spec: str, output: bool) -> tuple[str, str]:
        if "." in spec:
            node_id, port = spec.split(".", 1)
            return node_id, port
        node_type = self.graph.node_type(spec)
        ports = node_type.outputs if output else node_type.inputs
        return spec, ports[0].name


def _two_spirals() -> Graph:
    b = _Builder()
    b.node("point", "vector_input", features=2)
    b.node("hidden_1", "dense", units=32, activation="tanh")
    b.node("hidden_2", "dense", units=32, activation="tanh")
    b.node("scores", "dense", units=2)
    b.node("spiral", "output", loss="cross_entropy", target="spiral")
    b.wire("point", "hidden_1", "hidden_2", "scores", "spiral")
    return b.graph


def _chord_to_arpeggio() -> Graph:
    b = _Builder()
    b.node("chord", "vector_input", features=15)
    b.node("over_time", "repeat", steps=4)
    b.node("composer", "gru", hidden_size=32)
    b.node("note_scores", "dense", units=24)
    b.node("notes", "output", loss="cross_entropy", target="notes")
    b.wire("chord", "over_time", "composer.x")
    b.wire("composer.y", "note_scores", "notes")
    return b.graph


def _sentiment() -> Graph:
    b = _Builder()
    b.node("words", "sequence_input", vocabulary=40, steps=8)
    b.node("embed", "embedding", vocabulary=40, dimension=16)
    b.node("reader", "lstm", hidden_size=32)
    b.node("scores", "dense", units=2)
    b.node("sentiment", "output", loss="cross_entropy", target="sentiment")
    b.wire("words", "embed", "reader.x")
    b.wire("reader.h_n", "scores", "sentiment")
    return b.graph


def _tagger() -> Graph:
    b = _Builder()
    b.node("words", "sequence_input", vocabulary=40, steps=8)
    b.node("embed", "embedding", vocabulary=40, dimension=16)
    b.node("tagger", "rnn", hidden_size=32)
    b.node("tag_scores", "dense", units=3)
    b.node("tags", "output", loss="cross_entropy", target="tags")
    b.wire("words", "embed", "tagger.x")
    b.wire("tagger.y", "tag_scores", "tags")
    return b.graph


def _number_translator() -> Graph:
    b = _Builder()
    b.node("words", "sequence_input", vocabulary=32, steps=6)
    b.node("embed", "embedding", vocabulary=32, dimension=16)
    b.node("encoder", "gru", hidden_size=64)
    b.node("context", "repeat", steps=4)
    b.node("decoder", "gru", hidden_size=64)
    b.node("digit_scores", "dense", units=12)
    b.node("digits", "output", loss="cross_entropy", target="digits")
    b.wire("words", "embed", "encoder.x")
    b.wire("encoder.h_n", "context", "decoder.x")
    b.wire("decoder.y", "digit_scores", "digits")
    return b.graph


def _stacked_lstm() -> Graph:
    b = _Builder()
    b.node("text", "sequence_input", vocabulary=48, steps=24)
    b.node("embed", "embedding", vocabulary=48, dimension=24)
    b.node("layer_1", "lstm", hidden_size=64)
    b.node("layer_2", "lstm", hidden_size=64)
    b.node("next_char", "dense", units=48)
    b.node("prediction", "output", loss="cross_entropy", target="next_char")
    b.wire("text", "embed", "layer_1.x")
    b.wire("layer_1.y", "layer_2.x")
    b.wire("layer_2.y", "next_char", "prediction")
    return b.graph


def _bidirectional_tagger() -> Graph:
    b = _Builder()
    b.node("words", "sequence_input", vocabulary=40, steps=8)
    b.node("embed", "embedding", vocabulary=40, dimension=16)
    b.node("tagger", "gru", hidden_size=32, bidirectional=True)
    b.node("tag_scores", "dense", units=3)
    b.node("tags", "output", loss="cross_entropy", target="tags")
    b.wire("words", "embed", "tagger.x")
    b.wire("tagger.y", "tag_scores", "tags")
    return b.graph


def _translator_with_feedback() -> Graph:
    b = _Builder()
    b.node("words", "sequence_input", vocabulary=32, steps=6)
    b.node("embed", "embedding", vocabulary=32, dimension=16)
    b.node("encoder", "gru", hidden_size=64)
    b.node("decoder", "gru", hidden_size=64)
    b.node("digit_scores", "dense", units=12)
    b.node("digits", "output", loss="cross_entropy", target="digits")
    b.node("previous_digit", "delay", initial="start_token", start_token=10, steps=4)
    b.wire("words", "embed", "encoder.x")
    b.wire("encoder.h_n", "decoder.h_0")
    b.wire("decoder.y", "digit_scores", "digits")
    b.wire("digit_scores", "previous_digit", "decoder.x")
    return b.graph


def _reverser_encoder(b: _Builder) -> None:
    """Letters → embedding → a bidirectional GRU (its y the memory, its h_n the decoder's
    start), and the Delay that feeds the decoder its previous letter, <start> first."""
    b.node("letters", "sequence_input", vocabulary=26, steps=40)
    b.node("embed", "embedding", vocabulary=26, dimension=32)
    b.node("encoder", "gru", hidden_size=32, bidirectional=True)
    b.node("previous", "delay", initial="start_token", start_token=26, steps=41)
    b.wire("letters", "embed", "encoder.x")


def _translator_with_attention() -> Graph:
    """Luong et al. 2015: attention after the decoder, from its y; the context and the
    decoder's state through a tanh layer, then the scores."""
    b = _Builder()
    _reverser_encoder(b)
    b.node("decoder", "gru", hidden_size=64)
    b.node("attend", "attention", score="general", units=64)
    b.node("joined", "concat")
    b.node("combine", "dense", units=64, activation="tanh")
    b.node("letter_scores", "dense", units=28)
    b.node("reversed", "output", loss="cross_entropy", target="reversed")
    b.wire("encoder.h_n", "decoder.h_0")
    b.wire("previous", "decoder.x")
    b.wire("decoder.y", "attend.query")
    b.wire("encoder.y", "attend.memory")
    b.wire("attend.context", "joined.a")
    b.wire("decoder.y", "joined.b")
    b.wire("joined", "combine", "letter_scores", "reversed")
    b.wire("letter_scores", "previous")
    return b.graph


def _translator_bahdanau() -> Graph:
    """Bahdanau et al. 2015: attention inside the decoder's loop, from its previous state (a
    Delay of its y), the context joined with the previous letter as its input."""
    b = _Builder()
    _reverser_encoder(b)
    b.node("state", "delay", steps=41)
    b.node("attend", "attention", score="additive", units=32)
    b.node("joined", "concat")
    b.node("decoder", "gru", hidden_size=64)
    b.node("letter_scores", "dense", units=28)
    b.node("reversed", "output", loss="cross_entropy", target="reversed")
    b.wire("encoder.h_n", "decoder.h_0")
    b.wire("decoder.y", "state", "attend.query")
    b.wire("encoder.y", "attend.memory")
    b.wire("previous", "joined.a")
    b.wire("attend.context", "joined.b")
    b.wire("joined", "decoder.x")
    b.wire("decoder.y", "letter_scores", "reversed")
    b.wire("letter_scores", "previous")
    return b.graph


def _adding_problem() -> Graph:
    b = _Builder()
    b.node("values", "sequence_input", features=2, steps=50)
    b.node("memory", "lstm", hidden_size=32)
    b.node("readout", "dense", units=1)
    b.node("total", "output", loss="mse", target="sum")
    b.wire("values", "memory.x")
    b.wire("memory.h_n", "readout", "total")
    return b.graph


def _forecast() -> Graph:
    b = _Builder()
    b.node("history", "sequence_input", features=1, steps=12)
    b.node("reader", "lstm", hidden_size=32)
    b.node("forecast", "dense", units=1)
    b.node("next_value", "output", loss="mse", target="next")
    b.wire("history", "reader.x")
    b.wire("reader.h_n", "forecast", "next_value")
    return b.graph


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "one_to_one",
            "Two spirals",
            "One-to-one: a point of the plane in, which of two interleaved spirals it lies on out. "
            "No time axis at all: the plain network that every recurrent layout extends.",
            "one_to_one",
            "two_spirals",
            _two_spirals,
            training={"epochs": 60},
        ),
        Template(
            "one_to_many",
            "Chord to arpeggio",
            "One-to-many: one chord (its root and quality) in, the notes of its arpeggio out, one "
            "per step. Repeat hands the chord to every step; the GRU's state tracks where in the "
            "arpeggio it is.",
            "one_to_many",
            "arpeggio",
            _chord_to_arpeggio,
            training={"epochs": 30},
        ),
        Template(
            "many_to_one",
            "Sentence sentiment",
            "Many-to-one: a sentence in, positive or negative out. The LSTM reads word after word "
            "and its final state h_n sums the sentence up, so 'not bad at all' can come out "
            "positive where counting words fails.",
            "many_to_one",
            "sentiment",
            _sentiment,
            training={"epochs": 15},
        ),
        Template(
            "many_to_many_equal",
            "Entity tagger",
            "Many-to-many with equal lengths: one tag (person, location, other) for every word. A "
            "plain RNN sees only the words before each one, so a name whose role shows later in "
            "the sentence can fool it; compare with the bidirectional tagger.",
            "many_to_many_equal",
            "entities",
            _tagger,
            training={"epochs": 10},
        ),
        Template(
            "many_to_many_unequal",
            "Number words to digits",
            "Many-to-many with unequal lengths: 'three hundred and twelve' in, '3 1 2' out. The "
            "encoder reads the words into one vector; Repeat gives it to every step of the "
            "decoder's own, shorter time axis.",
            "many_to_many_unequal",
            "numbers",
            _number_translator,
            training={"epochs": 60},
        ),
        Template(
            "stacked_lstm",
            "Two-layer LSTM language model",
            "A stacked LSTM: the second layer reads the first layer's states and predicts the next "
            "character of a text at every step; sample from it to generate text.",
            "many_to_many_equal",
            "language_model",
            _stacked_lstm,
            training={"learning_rate": 0.005, "epochs": 15},
        ),
        Template(
            "bidirectional_tagger",
            "Bidirectional GRU tagger",
            "The entity tagger with a bidirectional GRU: one direction reads left to right, the "
            "other right to left, so every tag sees the whole sentence ('Paris said' vs 'to "
            "Paris').",
            "many_to_many_equal",
            "entities",
            _bidirectional_tagger,
            training={"epochs": 10},
        ),
        Template(
            "encoder_decoder_feedback",
            "Encoder-decoder with feedback",
            "Machine translation's classic shape: the encoder's final state starts the decoder, "
            "and each digit the decoder writes is fed back through a Delay as its next input "
            "(the true digit while training: teacher forcing). The decoder's time axis is its own.",
            "many_to_many_unequal",
            "numbers",
            _translator_with_feedback,
            training={"epochs": 60},
        ),
        Template(
            "translation_attention",
            "Translation with attention",
            "Machine translation's shape without its bottleneck, on a task that shows it: write "
            "5 to 40 letters backwards. At each step the decoder, fed back its own letters, "
            "looks at every step of the bidirectional encoder's output (the memory) with its "
            "state as the query, and the context joins that state before the scores (Luong et "
            "al. 2015). The alignment shows where it looked: the anti-diagonal. The same "
            "network without attention, its input squeezed into one vector, gets short inputs "
            "right and long ones wrong.",
            "many_to_many_unequal",
            "reversal",
            _translator_with_attention,
            training={"epochs": 5, "schedule": "cosine", "batch_size": 64},
        ),
        Template(
            "translation_bahdanau",
            "Translation with attention (Bahdanau)",
            "The same task with attention inside the decoder's loop (Bahdanau et al. 2015): the "
            "decoder's previous state, through a Delay, is the query, and the context joins the "
            "previous letter as its input, so the decoder runs a step at a time even while "
            "training. An additive score compares query and memory through a small tanh layer.",
            "many_to_many_unequal",
            "reversal",
            _translator_bahdanau,
            training={"epochs": 2, "schedule": "cosine"},
        ),
        Template(
            "adding_problem",
            "Adding problem (LSTM)",
            "Many-to-one over 50 steps: sum the two marked numbers of a sequence. The classic "
            "test of long memory: an LSTM learns it; swap in a plain RNN and watch its gradient "
            "vanish.",
            "many_to_one",
            "adding",
            _adding_problem,
            training={"epochs": 3, "batch_size": 64},
        ),
        Template(
            "forecast",
            "Airline passengers forecast",
            "Many-to-one on your own numbers: a year of monthly airline passengers in, next "
            "month's out. Point it at any CSV file to forecast another column.",
            "many_to_one",
            "csv_series",
            _forecast,
            training={"epochs": 150, "learning_rate": 0.003},
        ),
    )
}

DEFAULT_TEMPLATE = "many_to_one"


def template_names() -> list[str]:
    return list(TEMPLATES)


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(TEMPLATES)
        raise TemplateNotFoundError(f"there is no template '{name}' (templates: {known})") from None


def new_project(name: str = DEFAULT_TEMPLATE) -> Project:
    """A fresh project built from the named template."""
    return get_template(name).build()
