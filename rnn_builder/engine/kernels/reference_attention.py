"""Attention as the papers write it, beside ``kernels.reference``'s cells (the fast kernel,
``kernels.attention``, is held equal to it).

One query step t of one example b at a time, one memory step s at a time, as the papers write
it (Bahdanau et al. 2015, additive; Luong et al. 2015, dot and general): a score e_s for every
memory step, the alignment a = softmax(e) over the real steps (padded ones weigh 0), the
context c = Σ_s a_s v_s. Shapes time-major: query (Tq, B, dq), memory (S, B, dk), values
(S, B, dv), mask (S, B) or (S, B, 1); weights by their names in the node (see
``engine.kernels.attention``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnn_builder.engine.kernels.reference import (
    Array,
    Step,
    step_masks,
)


def attention_score(weights: Mapping[str, Array], score: str, q: Array, k: Array) -> Step:
    """e = score(q, k) for one query and one key, with what its backward pass needs."""
    if score == "dot":
        return {"e": float(q @ k)}
    if score == "general":
        W = np.asarray(weights["key.weight"], dtype=np.float64)
        return {"e": float(q @ (W @ k))}
    W_q = np.asarray(weights["query.weight"], dtype=np.float64)
    W_k = np.asarray(weights["key.weight"], dtype=np.float64)
    v = np.asarray(weights["energy.weight"], dtype=np.float64)[0]
    h = np.tanh(W_q @ q + W_k @ k)
    return {"e": float(v @ h), "h": h}


def attention_forward(
    weights: Mapping[str, Array],
    score: str,
    query: Array,
    memory: Array,
    values: Array | None = None,
    mask: Array | None = None,
) -> tuple[Array, Array, dict[str, Any]]:
    """The context ``(Tq, B, dv)``, the alignment ``(Tq, B, S)`` and a cache."""
    query = np.asarray(query, dtype=np.float64)
    memory = np.asarray(memory, dtype=np.float64)
    values = memory if values is None else np.asarray(values, dtype=np.float64)
    steps, batch = memory.shape[0], memory.shape[1]
    real = step_masks(mask, steps, batch)[..., 0] > 0
    context = np.zeros((query.shape[0], batch, values.shape[2]))
    alignment = np.zeros((query.shape[0], batch, steps))
    scored = {}
    for t in range(query.shape[0]):
        for b in range(batch):
            e = np.full(steps, -np.inf)
            for s in range(steps):
                if real[s, b]:
                    scored[(t, b, s)] = attention_score(weights, score, query[t, b], memory[s, b])
                    e[s] = scored[(t, b, s)]["e"]
            if not real[:, b].any():
                continue  # nothing to read: the context is zero
            a = np.exp(e - e.max())
            a /= a.sum()
            alignment[t, b] = a
            for s in range(steps):
                context[t, b] += a[s] * values[s, b]
    cache = {
        "weights": weights,
        "score": score,
        "query": query,
        "memory": memory,
        "values": values,
        "real": real,
        "alignment": alignment,
        "scored": scored,
    }
    return context, alignment, cache


def attention_backward(cache: dict[str, Any], dcontext: Array) -> dict[str, Array]:
    """Gradients of ``query``, ``memory`` (through the scores), ``values`` (through the sum;
    when the values are the memory, the memory's gradient is the two added) and each weight,
    by name."""
    weights, score = cache["weights"], cache["score"]
    query, memory, values = cache["query"], cache["memory"], cache["values"]
    real, alignment, scored = cache["real"], cache["alignment"], cache["scored"]
    dcontext = np.asarray(dcontext, dtype=np.float64)
    grads = {
        "query": np.zeros_like(query),
        "memory": np.zeros_like(memory),
        "values": np.zeros_like(values),
    }
    for name, tensor in weights.items():
        grads[name] = np.zeros(np.shape(tensor))
    W = {name: np.asarray(tensor, dtype=np.float64) for name, tensor in weights.items()}
    steps, batch = memory.shape[0], memory.shape[1]
    for t in range(query.shape[0]):
        for b in range(batch):
            a, dc = alignment[t, b], dcontext[t, b]
            da = np.zeros(steps)
            for s in range(steps):
                if real[s, b]:
                    da[s] = dc @ values[s, b]  # c = Σ a_s v_s
                    grads["values"][s, b] += a[s] * dc
            de = a * (da - a @ da)  # through the softmax
            q = query[t, b]
            for s in range(steps):
                if not real[s, b]:
                    continue
                k = memory[s, b]
                if score == "dot":
                    grads["query"][t, b] += de[s] * k
                    grads["memory"][s, b] += de[s] * q
                elif score == "general":
                    grads["query"][t, b] += de[s] * (W["key.weight"] @ k)
                    grads["memory"][s, b] += de[s] * (W["key.weight"].T @ q)
                    grads["key.weight"] += de[s] * np.outer(q, k)
                else:
                    h = scored[(t, b, s)]["h"]
                    dz = de[s] * W["energy.weight"][0] * (1.0 - h * h)
                    grads["energy.weight"][0] += de[s] * h
                    grads["query"][t, b] += W["query.weight"].T @ dz
                    grads["memory"][s, b] += W["key.weight"].T @ dz
                    grads["query.weight"] += np.outer(dz, q)
                    grads["key.weight"] += np.outer(dz, k)
    return grads
