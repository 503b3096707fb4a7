"""The operation of an Output node: the prediction and its loss against the target."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.losses import LOSS_FUNCTIONS, softmax
from rnn_builder.engine.ops.base import Op, dense
from rnn_builder.errors import DataError

Array = np.ndarray


class OutputOp(Op):
    def forward(self, run, inputs):
        x = dense(inputs["x"], self.width("x"), run.dtype)
        target_name = self.settings["target"]
        target = run.target(target_name)
        if target is None:
            run.predictions[self.id] = self.predict(x)
            return {}, None
        loss_name = self.settings["loss"]
        target = self.checked_target(x, target)
        mask = run.loss_mask(self.axis) if self.axis is not None else None
        result = LOSS_FUNCTIONS[loss_name](x, target, None if mask is None else mask[..., 0])
        run.losses[self.id] = result
        run.predictions[self.id] = result.predictions
        return {}, result

    def predict(self, x: Array) -> Array:
        loss = self.settings["loss"]
        if loss == "cross_entropy":
            return softmax(x)
        if loss == "binary_cross_entropy":
            return 0.5 * np.tanh(0.5 * x) + 0.5
        return x.copy()

    def checked_target(self, x: Array, target: Array) -> Array:
        target = np.asarray(target)
        name = self.settings["target"]
        if self.settings["loss"] == "cross_entropy":
            if target.shape != x.shape[:-1] or target.dtype.kind not in "iu":
                raise DataError(
                    f"target '{name}' must be class numbers shaped {x.shape[:-1]}; got shape "
                    f"{target.shape} of type {target.dtype}"
                )
            if target.size and target.max() >= x.shape[-1]:
                raise DataError(
                    f"target '{name}' holds class {int(target.max())}, but output "
                    f"'{self.name}' scores only {x.shape[-1]} classes (0 to {x.shape[-1] - 1})"
                )
            return target
        if target.shape != x.shape:
            raise DataError(f"target '{name}' must have shape {x.shape}; got {target.shape}")
        if not np.isfinite(target).all():
            raise DataError(f"target '{name}' holds NaN or infinite values")
        return target

    def backward(self, run, cache, grads):
        if cache is None:
            return {}
        return {"x": cache.grad}
