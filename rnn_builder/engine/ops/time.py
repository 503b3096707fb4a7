"""Operations that move along time: Last step, Mean over time, Repeat, Delay."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.ops.base import Op, dense

Array = np.ndarray


class LastStepOp(Op):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        last = run.last_steps(self.source_axis, x.shape[0], x.shape[1])
        return {"y": x[last, np.arange(x.shape[1])]}, (x.shape, last)

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        shape, last = cache
        dx = np.zeros(shape, dtype=dy.dtype)
        dx[last, np.arange(shape[1])] = dy
        return {"x": dx}


class MeanOverTimeOp(LastStepOp):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        mask = run.mask(self.source_axis)
        if mask is None:
            weights = np.full((x.shape[0], x.shape[1], 1), 1.0 / x.shape[0], dtype=x.dtype)
        else:
            weights = mask / np.maximum(mask.sum(axis=0, keepdims=True), 1.0)
        return {"y": (x * weights).sum(axis=0)}, weights

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        return {"x": cache * dy[None]}


class RepeatOp(Op):
    def forward(self, run, inputs):
        x = inputs["x"]
        steps = run.length(self.axis)
        return {"y": np.broadcast_to(x[None], (steps, *x.shape)).copy()}, None

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        return {} if dy is None else {"x": dy.sum(axis=0)}


class DelayOp(Op):
    """``y_t = x_{t-1}``; ``y_0`` is zeros or the one-hot start token. In a feedback loop the
    executor feeds it step by step; while teacher forcing, ``x`` is the target instead."""

    def initial(self, batch: int, width: int, dtype, tokens: bool) -> Array:
        start = self.settings["initial"] == "start_token"
        if tokens:
            return np.full((batch,), self.settings["start_token"] if start else -1, np.int64)
        first = np.zeros((batch, width), dtype=dtype)
        if start:
            first[:, self.settings["start_token"]] = 1.0
        return first

    def forward(self, run, inputs):
        x = inputs["x"]
        tokens = x.dtype.kind in "iu"
        y = np.empty_like(x)
        y[0] = self.initial(x.shape[1], x.shape[-1] if not tokens else 0, x.dtype, tokens)
        y[1:] = x[:-1]
        return {"y": y}, tokens

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None or cache:
            return {}
        dx = np.zeros_like(dy)
        dx[:-1] = dy[1:]
        return {"x": dx}
