"""The operations of input nodes: a sequence or a vector read from the batch."""

from __future__ import annotations

import numpy as np

from rnn_builder.engine.ops.base import Op
from rnn_builder.errors import DataError

Array = np.ndarray


class SequenceInputOp(Op):
    def forward(self, run, inputs):
        value = run.input_value(self.id)
        vocabulary = self.settings["vocabulary"]
        if vocabulary > 0:
            value = np.asarray(value)
            if value.ndim != 2 or value.dtype.kind not in "iu":
                raise DataError(
                    f"input '{self.name}' takes token ids as whole numbers of shape (steps, "
                    f"batch); got an array of shape {value.shape} and type {value.dtype}"
                )
            if value.size and (value.max() >= vocabulary or value.min() < -1):
                raise DataError(
                    f"input '{self.name}' has a vocabulary of {vocabulary}, but the data holds "
                    f"token {int(value.max())}: token ids run from 0 to {vocabulary - 1}"
                )
            return {"y": value.astype(np.int64, copy=False)}, None
        features = self.settings["features"]
        value = np.asarray(value, dtype=run.dtype)
        if value.ndim != 3 or value.shape[2] != features:
            raise DataError(
                f"input '{self.name}' takes {features} features per step, shaped (steps, batch, "
                f"{features}); got shape {value.shape}"
            )
        if not np.isfinite(value).all():
            raise DataError(f"input '{self.name}' holds NaN or infinite values")
        return {"y": value}, None


class VectorInputOp(Op):
    def forward(self, run, inputs):
        features = self.settings["features"]
        value = np.asarray(run.input_value(self.id), dtype=run.dtype)
        if value.ndim != 2 or value.shape[1] != features:
            raise DataError(
                f"input '{self.name}' takes {features} features, shaped (batch, {features}); got "
                f"shape {value.shape}"
            )
        if not np.isfinite(value).all():
            raise DataError(f"input '{self.name}' holds NaN or infinite values")
        return {"y": value}, None
