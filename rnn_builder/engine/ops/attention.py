"""The operation of an Attention node: its query a step at a time (or a whole sequence at once),
its memory and values whole, whatever their axis (``PortSpec.whole_axis``); the maths is
``engine.kernels.attention``.

Over a whole sequence it is one call each way. Inside a step loop (a decoder that attends from
its previous state) it is called once a step, with the same memory every time: the keys are
worked out at the first step and kept for the pass (``Run.memo``), and the backward pass, which
the executor runs from the last step to the first (``Executor._loop_backward``), sums the
gradients reaching the keys and the values over the steps and hands the memory's on at step 0,
taken through the key weights once (at every step, both cost the Bahdanau template's training
step 27 % more: ``kernels.attention``).
"""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.kernels.attention import (
    attend,
    attend_backward,
    project_keys,
    project_keys_backward,
)
from rnn_builder.engine.ops.base import Op, dense

Array = np.ndarray


class AttentionOp(Op):
    def __init__(self, node, node_type, layout, params, grads):
        super().__init__(node, node_type, layout, params, grads)
        self.score = self.settings["score"]
        self.memory_axis = self.input_axes.get("memory")
        self.separate_values = "values" in self.in_shapes

    def initialise(self, rng):
        for weight in self.params.values():  # nn.Linear's default, fan-in from the columns
            bound = 1.0 / np.sqrt(max(weight.shape[1], 1))
            weight[...] = rng.uniform(-bound, bound, weight.shape)

    def _keys(self, run, memory_given: Array, memory: Array) -> Array:
        """The memory's keys, worked out once per pass for one memory (see the docstring)."""
        kept = run.memo.get((self.id, "keys"))
        if kept is not None and kept[0] is memory_given:
            return kept[1]
        keys = project_keys(self.score, self.params, memory)
        run.memo[(self.id, "keys")] = (memory_given, keys)
        return keys

    def forward(self, run, inputs):
        query = dense(inputs["query"], self.width("query"), run.dtype)
        memory = dense(inputs["memory"], self.width("memory"), run.dtype)
        values = (
            dense(inputs["values"], self.width("values"), run.dtype)
            if self.separate_values
            else memory
        )
        mask = run.masks.get(self.memory_axis)  # the whole memory's, at any step of the query
        keys = self._keys(run, inputs["memory"], memory)
        context, alignment, cache = attend(self.score, self.params, query, keys, values, mask)
        cache["memory"] = memory
        cache["tokens"] = {p: np.asarray(v).dtype.kind in "iu" for p, v in inputs.items()}
        return {"context": context, "alignment": alignment}, cache

    def backward(self, run, cache, grads):
        dcontext = grads.get("context")
        if dcontext is None:
            return {}
        tokens = cache["tokens"]
        need_query = "query" in self.grad_ports and not tokens["query"]
        dquery, dkeys, dvalues, weight_grads = attend_backward(
            self.score, self.params, cache, dcontext, need_query
        )
        for name, grad in weight_grads.items():
            self.grads[name] += grad
        result = {} if dquery is None else {"query": dquery}
        if run.step is not None:  # a step loop: gather until its first step (see the docstring)
            gathered = run.memo.get((self.id, "gradients"))
            if gathered is not None:
                dkeys, dvalues = dkeys + gathered[0], dvalues + gathered[1]
            if run.step > 0:
                run.memo[(self.id, "gradients")] = (dkeys, dvalues)
                return result
            run.memo.pop((self.id, "gradients"), None)
        need_memory = "memory" in self.grad_ports and not tokens["memory"]
        if self.score != "dot" or need_memory:
            dmemory, key_grads = project_keys_backward(
                self.score, self.params, cache["memory"], dkeys, need_memory
            )
            for name, grad in key_grads.items():
                self.grads[name] += grad
            if dmemory is not None:
                result["memory"] = dmemory
        dvalues = dvalues.transpose(1, 0, 2)
        if self.separate_values:
            if "values" in self.grad_ports and not tokens["values"]:
                result["values"] = dvalues
        elif need_memory:
            result["memory"] = result["memory"] + dvalues
        return result
