"""A small helper that collects ONNX nodes and constants while the exporter walks our graph.

Every intermediate value gets a name ``<node id>/<what>:<n>``; graph node ids never hold ``/``
or ``:`` (see ``graph.NODE_ID_PATTERN``), so these cannot collide with the model's own input and
output names, which are node ids. A Loop body is a child builder: it has its own node list but
shares the counter (names stay unique across scopes, which ONNX requires) and puts its
constants into the main graph's initializers, which a body may read from the outer scope.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper


class OnnxBuilder:
    """Nodes and initializers of one ONNX graph (or Loop body) under construction."""

    def __init__(self, parent: OnnxBuilder | None = None) -> None:
        self.parent = parent
        self.nodes: list[NodeProto] = []
        self._initializers: list[TensorProto] = [] if parent is None else parent._initializers
        self._counter = itertools.count() if parent is None else parent._counter
        self._constants: dict[tuple, str] = {} if parent is None else parent._constants
        self.scope = "graph"  # prefix of the names made next (the node being emitted)

    @property
    def initializers(self) -> list[TensorProto]:
        return self._initializers

    def name(self, what: str) -> str:
        return f"{self.scope}/{what}:{next(self._counter)}"

    def op(self, op_type: str, inputs: list[str], what: str = "", outputs: int = 1, **attrs: Any):
        """Add one node; returns its output name (or a list of names when ``outputs`` > 1)."""
        names = [self.name(what or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, inputs, names, name=self.name(op_type), **attrs)
        )
        return names[0] if outputs == 1 else names

    def const(self, value: Any, dtype=np.float32, what: str = "const") -> str:
        """A constant as an initializer; small ones (axes, shapes) are shared by value."""
        array = np.asarray(value, dtype=dtype)
        key = None
        if array.size <= 16:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._constants:
                return self._constants[key]
        name = self.name(what)
        self._initializers.append(numpy_helper.from_array(array, name))
        if key is not None:
            self._constants[key] = name
        return name

    def weight(self, value: np.ndarray, name: str) -> str:
        """A weight tensor as float32, under a readable name (``<node id>.<tensor>``)."""
        self._initializers.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    # --- shorthands for the shapes the exporter moves values between -------------------------

    def axes(self, *axes: int) -> str:
        return self.const(list(axes), np.int64, "axes")

    def unsqueeze(self, x: str, *axes: int) -> str:
        return self.op("Unsqueeze", [x, self.axes(*axes)])

    def squeeze(self, x: str, *axes: int) -> str:
        return self.op("Squeeze", [x, self.axes(*axes)])

    def dim(self, x: str, index: int) -> str:
        """Size of dimension ``index`` of ``x`` as a 1-element int64 tensor (by Gather, not
        Shape's ``start``/``end``, which opset 14 lacks)."""
        shape = self.op("Shape", [x], "shape")
        return self.op("Gather", [shape, self.const([index], np.int64, "index")], "dim", axis=0)

    def concat_shape(self, *parts: str | int) -> str:
        """A shape tensor from 1-element tensors and plain integers."""
        names = [p if isinstance(p, str) else self.const([p], np.int64, "shape") for p in parts]
        return names[0] if len(names) == 1 else self.op("Concat", names, "shape", axis=0)


def float_tensor(name: str, shape: list[str | int]) -> Any:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
