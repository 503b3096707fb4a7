"""The built-in node types, one module per palette group."""

from rnn_builder.graph.nodes.attention import Attention
from rnn_builder.graph.nodes.base import (
    CATEGORIES,
    INPUTS,
    MAX_STEPS,
    SEQ,
    UNKNOWN,
    VEC,
    CheckProblem,
    NodeInfo,
    NodeType,
    ParamSpec,
    PortSpec,
    Shape,
)
from rnn_builder.graph.nodes.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from rnn_builder.graph.nodes.inputs import SequenceInput, VectorInput
from rnn_builder.graph.nodes.layers import ACTIVATIONS, Concat, Dense, Embedding
from rnn_builder.graph.nodes.outputs import LOSS_TITLES, LOSSES, Output
from rnn_builder.graph.nodes.time import Delay, LastStep, MeanOverTime, Repeat

INPUTS_CATEGORY = INPUTS
OUTPUT_TYPE_NAME = Output.type_name

BUILTIN_NODE_TYPES: tuple[type[NodeType], ...] = (
    SequenceInput,
    VectorInput,
    RNNCell,
    LSTMCell,
    GRUCell,
    Embedding,
    Dense,
    Concat,
    LastStep,
    MeanOverTime,
    Repeat,
    Delay,
    Attention,
    Output,
)

__all__ = [
    "ACTIVATIONS",
    "BUILTIN_NODE_TYPES",
    "CATEGORIES",
    "INPUTS_CATEGORY",
    "LOSSES",
    "LOSS_TITLES",
    "MAX_STEPS",
    "OUTPUT_TYPE_NAME",
    "SEQ",
    "UNKNOWN",
    "VEC",
    "Attention",
    "CheckProblem",
    "Concat",
    "Delay",
    "Dense",
    "Embedding",
    "GRUCell",
    "LSTMCell",
    "LastStep",
    "MeanOverTime",
    "NodeInfo",
    "NodeType",
    "Output",
    "ParamSpec",
    "PortSpec",
    "RNNCell",
    "RecurrentCell",
    "Repeat",
    "SequenceInput",
    "Shape",
    "VectorInput",
]
