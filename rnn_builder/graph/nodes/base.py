"""What a node type is: its ports, its parameters, and how shapes flow through it.

Semantics (see DESIGN.md §2). A port carries either a *sequence* ``seq(d)`` — one
d-dimensional vector per step of a time axis — or one *vector* ``vec(d)``; the batch dimension
is implicit. A sequence of token ids from a vocabulary of V is ``seq(V)`` with
``vocabulary=V``: an Embedding looks the ids up, any other layer sees them one-hot.

Shape inference runs to a fixpoint over the whole graph, so a node type's :meth:`infer` must
be monotone: given partial knowledge of its inputs (``Shape.unknown``) it returns what it can
already say of its outputs (a cell knows its output width without knowing its input). This is
what lets shapes flow around a feedback loop through ``Delay``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from rnn_builder.values import is_number, is_savable_text, short

SEQ = "seq"
VEC = "vec"
Kind = Literal["seq", "vec"]

# Categories, in palette order.
INPUTS = "Inputs"
CELLS = "Recurrent cells"
LAYERS = "Layers"
TIME = "Time"
OUTPUTS = "Outputs"
CATEGORIES = (INPUTS, CELLS, LAYERS, TIME, OUTPUTS)

# The longest time axis: a node's steps, the data's sequences and the unroller all stop here
# (``rnn_builder.graph.unroll.axis_lengths`` is the one place that resolves and checks lengths).
MAX_STEPS = 100_000


@dataclass(frozen=True)
class Shape:
    """What flows through a port: kind and width, each ``None`` while not yet known."""

    kind: str | None = None
    width: int | None = None
    vocabulary: int | None = None  # set when the values are token ids (width == vocabulary)

    @property
    def known(self) -> bool:
        return self.kind is not None and self.width is not None

    @property
    def is_tokens(self) -> bool:
        return self.vocabulary is not None

    def label(self) -> str:
        """Short label as the canvas shows it: ``seq·32``, ``vec·10``, ``tokens·40``."""
        kind = self.kind or "?"
        if self.vocabulary is not None:
            return f"tokens·{self.vocabulary}"
        width = "?" if self.width is None else str(self.width)
        return f"{kind}·{width}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "width": self.width}
        if self.vocabulary is not None:
            data["vocabulary"] = self.vocabulary
        return data


UNKNOWN = Shape()


def seq(width: int | None, vocabulary: int | None = None) -> Shape:
    return Shape(SEQ, width, vocabulary)


def vec(width: int | None) -> Shape:
    return Shape(VEC, width)


PortRole = Literal["data", "initial_state", "final_state"]


@dataclass(frozen=True)
class PortSpec:
    """A port of a node type.

    ``kinds`` lists the kinds an input accepts, or the kinds an output can produce (a Dense
    layer produces whichever kind it receives). ``role`` tells unrolling where the port attaches
    in time: data ports at every step, ``initial_state`` at the first step, ``final_state``
    from the last.

    ``whole_axis``: a sequence input read whole at every step of the node's own axis (an
    attention's memory: every step of an encoder's ``y``), whatever axis it lives on. It is the
    one way a sequence may cross time axes (DESIGN.md §6): it does not set the node's axis,
    unrolling draws an edge from each of its steps to each of the node's copies, a step loop
    reads it whole from outside the loop, and validation refuses it from inside the node's
    own feedback loop (its later steps would not exist yet). A node's whole-axis inputs share
    one axis.
    """

    name: str
    kinds: frozenset[str]
    description: str
    required: bool = True
    role: PortRole = "data"
    whole_axis: bool = False

    def kinds_label(self) -> str:
        return " or ".join(sorted(self.kinds))


ParamKind = Literal["int", "float", "bool", "choice", "str"]


@dataclass(frozen=True)
class ParamSpec:
    """A parameter of a node type, with its type, default and allowed range."""

    name: str
    kind: ParamKind
    default: Any
    label: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 200

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type or raise ``ValueError`` saying why.

        Types are strict (a string is never a number), but a whole float is accepted for an
        integer so that values typed as ``32.0`` are not refused. Ranges are *not* checked
        here: see :meth:`range_problem`.
        """
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError(f"expected true or false, got {_describe(value)}")
        if self.kind == "int":
            if not is_number(value) or (isinstance(value, float) and value != int(value)):
                raise ValueError(f"expected a whole number, got {_describe(value)}")
            return int(value)
        if self.kind == "float":
            if not is_number(value):
                raise ValueError(f"expected a number, got {_describe(value)}")
            return float(value)
        if self.kind in ("choice", "str"):
            if not isinstance(value, str):
                raise ValueError(f"expected text, got {_describe(value)}")
            if len(value) > self.max_length:
                raise ValueError(f"text longer than {self.max_length} characters")
            if not is_savable_text(value):
                raise ValueError("the text has characters that cannot be saved")
            return value
        raise AssertionError(f"unknown parameter kind {self.kind}")

    def range_problem(self, value: Any) -> str | None:
        """A sentence saying why ``value`` (already coerced) is out of range, else ``None``."""
        if self.kind == "choice" and value not in self.choices:
            options = ", ".join(repr(c) for c in self.choices)
            return f"{self.label} must be one of {options}, not {short(value)}"
        if self.kind in ("int", "float"):
            if self.minimum is not None and value < self.minimum:
                return f"{self.label} must be at least {_number(self.minimum)}, not {value}"
            if self.maximum is not None and value > self.maximum:
                return f"{self.label} must be at most {_number(self.maximum)}, not {value}"
        return None


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {short(value, 32)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int) and not is_number(value):
        return "a number too large to use"
    return short(value)


@dataclass(frozen=True)
class CheckProblem:
    """A problem a node type finds with its own inputs or parameters."""

    code: str
    message: str
    port: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class Equation:
    """One line of what a node computes, with what it means (Unicode maths)."""

    formula: str
    meaning: str


@dataclass(frozen=True)
class CellSpec:
    """What the rest of the app needs to know of a recurrent cell type: its gates in the row
    order of its stacked weights (PyTorch's), its states (``h``, and ``c`` for an LSTM: the
    ports ``<s>_0`` in and ``<s>_n`` out), and whether plain multiplication by the recurrent
    weights makes its gradients fade over long sequences (no gate protecting a path)."""

    gates: tuple[str, ...]
    states: tuple[str, ...] = ("h",)
    fades: bool = False

    @property
    def gate_count(self) -> int:
        return len(self.gates)


@dataclass(frozen=True)
class RecordSpec:
    """Something an operation keeps per step beside its outputs, for the views to show and
    not for wiring (its width may be another axis's length): an attention's alignment weights
    over the memory's steps. The op returns it with its outputs (``(T, B, …)`` over a whole
    sequence, ``(1, B, …)`` for one step); the executor keeps it in the run's values under
    ``(node, name)`` and stepping fills it a row a step, as it does an output port."""

    name: str
    description: str


@dataclass
class NodeInfo:
    """What a node type sees of a node while inferring: its name and parameters."""

    id: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


class NodeType:
    """A kind of node in the palette. Subclasses set the class attributes and may override
    the shape rules; one instance of each is registered in a ``NodeRegistry``.
    """

    type_name: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str]
    inputs: ClassVar[tuple[PortSpec, ...]] = ()
    outputs: ClassVar[tuple[PortSpec, ...]] = ()
    params: ClassVar[tuple[ParamSpec, ...]] = ()
    records: ClassVar[tuple[RecordSpec, ...]] = ()  # kept per step, not wired (RecordSpec)

    # Time behaviour, read by validation and unrolling.
    starts_axis: ClassVar[bool] = False  # its sequence output lives on a new time axis
    recurrent: ClassVar[bool] = False  # carries a state from one step to the next
    shifts_time: ClassVar[bool] = False  # output at t is input at t-1 (Delay)
    reduces_time: ClassVar[Literal["", "last", "all"]] = ""  # seq in, vec out
    has_weights: ClassVar[bool] = False

    # What the node is to the rest of the app (read there instead of comparing type names).
    is_input: ClassVar[bool] = False  # data enters here (a sequence if it also starts an axis)
    is_output: ClassVar[bool] = False  # a prediction compared with a target by a loss
    cell: ClassVar[CellSpec | None] = None  # a recurrent cell

    # What runs it (forward and backward): a built-in type names its class in rnn_builder.engine.ops
    # (which sits above this module, so not imported here); a plug-in type returns its own
    # class from operation.
    op_name: ClassVar[str] = ""

    def operation(self) -> type | None:
        """A plug-in's operation class (None: the class named ``op_name`` in ``ops``)."""
        return None

    # How the exports write it, named as op_name names the operation (the exports sit above
    # this module): ``onnx_name`` names an ``OnnxForm`` in ``rnn_builder.export.onnx_forms``
    # (its ONNX nodes over whole sequences and, where it applies, for one step inside a Loop),
    # ``pytorch_name`` a ``PytorchForm`` in ``rnn_builder.export.pytorch_forms`` (the module it
    # builds, the lines of ``forward`` it writes, its tensors' ``state_dict`` names). A plug-in
    # returns its own forms from ``onnx_form`` / ``pytorch_form``. Without one, that export is
    # refused in one line.
    onnx_name: ClassVar[str] = ""
    pytorch_name: ClassVar[str] = ""

    def onnx_form(self) -> Any:
        """A plug-in's ONNX form (None: the one ``onnx_name`` names, if any)."""
        return None

    def pytorch_form(self) -> Any:
        """A plug-in's PyTorch form (None: the one ``pytorch_name`` names, if any)."""
        return None

    def subtitle(self, node: NodeInfo) -> str:
        """The line the canvas shows under the node's name (its type and main settings)."""
        return ""

    def equations(self, params: Mapping[str, Any]) -> list[Equation]:
        """What one step computes, for the inspector and ``explain`` ([] when nothing to say)."""
        return []

    def equation_shapes(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> str:
        """The sizes behind :meth:`equations` in a graph, from its inputs' shapes ("" when
        there is nothing to add; a cell's are ``explain.cell_shapes``)."""
        return ""

    def target(self, node: NodeInfo) -> str | None:
        """An output's target name in the data (None for other nodes)."""
        return None

    def input_spec(self, node: NodeInfo) -> tuple[str, int, bool] | None:
        """An input's data: (``"seq"`` or ``"vec"``, width, token ids?); None for other nodes."""
        return None

    # --- ports and parameters ---------------------------------------------------------------

    def input_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.inputs if p.name == name), None)

    def whole_axis_ports(self) -> frozenset[str]:
        """The inputs it reads whole at every step (``PortSpec.whole_axis``)."""
        return frozenset(p.name for p in self.inputs if p.whole_axis)

    def output_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param_spec(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def default_params(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    # --- shapes -----------------------------------------------------------------------------

    def infer(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
        """Output shapes from what is known of the inputs (missing ports map to ``UNKNOWN``)."""
        raise NotImplementedError

    def check(self, node: NodeInfo, inputs: Mapping[str, Shape]) -> list[CheckProblem]:
        """Problems specific to this type, given the inferred shapes of the wired inputs.
        Generic checks (kinds, required ports, parameter ranges) are done by validation."""
        return []

    def is_per_step(self, inputs: Mapping[str, Shape], outputs: Mapping[str, Shape]) -> bool:
        """Whether the node is copied at every step when unrolled (its values are sequences)."""
        return any(s.kind == SEQ for s in outputs.values())

    def directions(self, node: NodeInfo) -> tuple[str, ...]:
        """Unrolled copies per step: ``("",)``, or forward and reverse for a bidirectional cell."""
        return ("",)

    def parameter_shapes(
        self, node: NodeInfo, inputs: Mapping[str, Shape]
    ) -> dict[str, tuple[int, ...]]:
        """Trainable tensors with PyTorch's names and shapes (empty for weightless nodes)."""
        return {}

    def is_step_local(self, node: NodeInfo) -> bool:
        """Whether output at step t depends only on inputs at steps ≤ t (needed in a loop)."""
        return True

    def source_steps(self, t: int, steps: int) -> tuple[int, ...]:
        """The steps of its sequence inputs that its copy at step ``t`` may read on an axis of
        ``steps`` steps, whatever the lengths of a batch's sequences (padded at their ends):
        unrolling draws an edge from each, so the schedule and the stepper compute them first.
        Step ``t`` itself, or ``t - 1`` for a type that shifts time (none at step 0); a type
        that reads other steps (one reversing time reads ``L−1−t``) is stepped from its whole
        inputs."""
        if self.shifts_time:
            return (t - 1,) if t > 0 else ()
        return (t,)
