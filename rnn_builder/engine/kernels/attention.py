"""The attention kernel: scores, masked softmax and weighted sum for a whole query sequence at
once, with its exact backward pass (the textbook twin, loop by loop, is
``reference_attention.attention_forward`` / ``attention_backward``;
``tests/test_attention_engine.py`` holds them equal).

Shapes are time-major like every value of the executor: the query ``(Tq, B, dq)``, the memory
``(S, B, dk)``, the values ``(S, B, dv)``, the memory's mask ``(S, B, 1)`` or ``(S, B)`` (1 at
real steps, 0 at padding; None: all real); out come the context ``(Tq, B, dv)`` and the
alignment ``(Tq, B, S)``. Inside, everything is batch-major, so that each score and each sum is
one batched matrix product over the batch: ``(B, Tq, d) @ (B, d, S)``.

The work splits in two so that a step loop does the memory's part once (``AttentionOp`` keeps
it for the pass): :func:`project_keys` turns the memory into keys — ``W_k k_s`` for additive,
``W k_s`` for general, the memory itself for dot — and :func:`attend` scores one or all query
steps against them. Backward mirrors it: :func:`attend_backward` gives the gradient reaching
the keys, which a step loop sums over its steps before :func:`project_keys_backward` takes it
through ``W_k`` once (doing both at every step made the Bahdanau template's training step 1.27
times as long: in-process A/B, 40 pairs, the same gradients).

Weights by their names in the node's parameters: ``query.weight (U, dq)``, ``key.weight
(U, dk)``, ``energy.weight (1, U)`` for additive; ``key.weight (dq, dk)`` for general.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Array = np.ndarray


def project_keys(score: str, weights: Mapping[str, Array], memory: Array) -> Array:
    """The keys the scores compare queries with, batch-major ``(B, S, ·)``: a view of one
    matrix product over the memory's time-major rows ``(S·B, dk)``."""
    if score == "dot":
        return memory.transpose(1, 0, 2)
    steps, batch, width = memory.shape
    rows = np.ascontiguousarray(memory).reshape(-1, width)
    keys = rows @ weights["key.weight"].T
    return keys.reshape(steps, batch, -1).transpose(1, 0, 2)


def project_keys_backward(
    score: str, weights: Mapping[str, Array], memory: Array, dkeys: Array, need_memory: bool
) -> tuple[Array | None, dict[str, Array]]:
    """From the gradient reaching the keys ``(B, S, ·)``: the memory's ``(S, B, dk)`` (when
    ``need_memory``) and the key weight's, as products over the time-major rows."""
    by_step = dkeys.transpose(1, 0, 2)
    if score == "dot":
        return (by_step if need_memory else None), {}
    steps, batch, width = memory.shape
    rows = np.ascontiguousarray(by_step).reshape(steps * batch, -1)
    grads = {"key.weight": rows.T @ np.ascontiguousarray(memory).reshape(-1, width)}
    dmemory = None
    if need_memory:
        dmemory = (rows @ weights["key.weight"]).reshape(steps, batch, width)
    return dmemory, grads


def attend(
    score: str,
    weights: Mapping[str, Array],
    query: Array,
    keys: Array,
    values: Array,
    mask: Array | None,
) -> tuple[Array, Array, dict[str, Any]]:
    """Context ``(Tq, B, dv)``, alignment ``(Tq, B, S)`` and the cache for the backward pass."""
    q = query.transpose(1, 0, 2)  # (B, Tq, dq)
    cache: dict[str, Any] = {"q": q}
    if score == "additive":
        projected = np.matmul(q, weights["query.weight"].T)  # (B, Tq, U)
        hidden = projected[:, :, None, :] + keys[:, None, :, :]  # (B, Tq, S, U)
        np.tanh(hidden, out=hidden)
        scores = np.matmul(hidden, weights["energy.weight"][0])  # (B, Tq, S)
        cache["hidden"] = hidden
    else:
        scores = np.matmul(q, keys.transpose(0, 2, 1))
    real = None
    if mask is not None:
        steps, batch = mask.shape[0], mask.shape[1]
        real = (np.asarray(mask).reshape(steps, batch) > 0).T[:, None, :]  # (B, 1, S)
        scores = np.where(real, scores, -np.inf)
    alignment = _softmax(scores)
    v = values.transpose(1, 0, 2)  # (B, S, dv)
    context = np.matmul(alignment, v)
    cache.update(alignment=alignment, keys=keys, values=v)
    return context.transpose(1, 0, 2), alignment.transpose(1, 0, 2), cache


def _softmax(scores: Array) -> Array:
    """Softmax over the last axis, where ``-inf`` (a padded step) weighs 0; a row with no real
    step at all (an empty sequence) weighs nothing anywhere instead of NaN."""
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    weights = np.exp(scores - top)
    total = weights.sum(axis=-1, keepdims=True)
    weights /= np.where(total > 0, total, 1.0)
    return weights


def attend_backward(
    score: str,
    weights: Mapping[str, Array],
    cache: dict[str, Any],
    dcontext: Array,
    need_query: bool,
) -> tuple[Array | None, Array, Array, dict[str, Array]]:
    """From the gradient reaching the context ``(Tq, B, dv)``: the query's ``(Tq, B, dq)``
    (when ``need_query``), the keys' ``(B, S, ·)``, the values' ``(B, S, dv)`` (batch-major:
    a step loop sums them before turning them round) and the query-side weights'."""
    alignment, keys, v, q = cache["alignment"], cache["keys"], cache["values"], cache["q"]
    dc = dcontext.transpose(1, 0, 2)  # (B, Tq, dv)
    dalignment = np.matmul(dc, v.transpose(0, 2, 1))  # (B, Tq, S)
    dvalues = np.matmul(alignment.transpose(0, 2, 1), dc)  # (B, S, dv)
    dscores = alignment * (dalignment - (alignment * dalignment).sum(axis=-1, keepdims=True))
    grads: dict[str, Array] = {}
    if score == "additive":
        hidden = cache["hidden"]  # (B, Tq, S, U)
        energy = weights["energy.weight"][0]
        units = energy.shape[0]
        grads["energy.weight"] = (dscores.reshape(1, -1) @ hidden.reshape(-1, units)).reshape(
            1, units
        )
        dz = np.multiply(hidden, hidden)
        np.subtract(1.0, dz, out=dz)
        dz *= dscores[..., None]
        dz *= energy
        dprojected = dz.sum(axis=2)  # (B, Tq, U)
        dkeys = dz.sum(axis=1)  # (B, S, U)
        grads["query.weight"] = dprojected.reshape(-1, units).T @ q.reshape(-1, q.shape[-1])
        dq = np.matmul(dprojected, weights["query.weight"]) if need_query else None
    else:
        dkeys = np.matmul(dscores.transpose(0, 2, 1), q)  # (B, S, dq)
        dq = np.matmul(dscores, keys) if need_query else None
    dquery = None if dq is None else dq.transpose(1, 0, 2)
    return dquery, dkeys, dvalues, grads
