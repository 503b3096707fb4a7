"""Helpers of the generated model (this file's body is copied into every exported model.py).

They give PyTorch's modules RNN Builder's conventions, so that the module computes exactly what
RNN Builder's executor computes: token ids with -1 for "no token", padded steps that carry a
cell's state unchanged, losses that count only real steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# --- begin helpers ---


def one_hot(tokens: Tensor, width: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Token ids ``(...)`` as one-hot vectors ``(..., width)``; -1 gives zeros."""
    valid = tokens >= 0
    return F.one_hot(tokens.clamp(min=0), width).to(dtype) * valid.unsqueeze(-1)


def lookup(module: nn.Embedding, tokens: Tensor) -> Tensor:
    """Rows of the table; -1 ("no token", padding) reads as a zero vector."""
    valid = (tokens >= 0).unsqueeze(-1)
    return module(tokens.clamp(min=0)) * valid


def step_mask(lengths: Tensor | None, steps: int) -> Tensor | None:
    """``(T, B, 1)``: 1 for real steps, 0 for padding after each sequence's end."""
    if lengths is None:
        return None
    positions = torch.arange(steps, device=lengths.device)
    return (positions[:, None] < lengths[None, :]).float().unsqueeze(-1)


def axis_steps(steps: dict[str, int], targets: dict[str, Tensor], axis: str, tied, default: int):
    """The length of a time axis that no input sets: given, else a target's, else the
    default (as RNN Builder decides it)."""
    if axis in steps:
        return int(steps[axis])
    for name in tied:
        if name in targets:
            return int(targets[name].shape[0])
    return default


def run_sequence(
    module: nn.RNNBase,
    x: Tensor,
    lengths: Tensor | None = None,
    h_0: Tensor | None = None,
    c_0: Tensor | None = None,
) -> tuple[Tensor, ...]:
    """A whole-sequence cell: ``x (T, B, D)`` → ``y (T, B, dirs·H)``, ``h_n (B, dirs·H)``
    (and ``c_n`` for an LSTM), directions side by side as RNN Builder lays them out.

    With ``lengths`` the padded steps carry the state unchanged: the forward direction's
    output there is its last real state, the reverse direction's its initial state; an empty
    sequence (length 0) keeps its initial state throughout."""
    steps, batch = x.shape[:2]
    directions = 2 if module.bidirectional else 1
    hidden = module.hidden_size

    def initial(value: Tensor | None) -> Tensor:
        if value is None:
            return x.new_zeros(directions, batch, hidden)
        return value.reshape(batch, directions, hidden).transpose(0, 1).contiguous()

    h0 = initial(h_0)
    lstm = isinstance(module, nn.LSTM)
    initials = (h0, initial(c_0)) if lstm else (h0,)
    state = initials if lstm else h0
    if lengths is None:
        y, final = module(x, state)
        finals = final if lstm else (final,)
    else:
        real = lengths.to(x.device)
        # packing takes no empty sequence: one runs a step that is thrown away below
        packed = nn.utils.rnn.pack_padded_sequence(x, real.clamp(min=1).cpu(), enforce_sorted=False)
        y, final = module(packed, state)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=steps)
        empty = (real == 0)[None, :, None]
        finals = tuple(
            torch.where(empty, start, end)
            for start, end in zip(initials, final if lstm else (final,), strict=True)
        )
        h_n = finals[0]
        fill = torch.cat([h_n[0], h0[1]] if directions == 2 else [h_n[0]], dim=-1)
        y = torch.where(step_mask(real, steps) > 0, y, fill.unsqueeze(0))
    return (y, *(f.transpose(0, 1).reshape(batch, directions * hidden) for f in finals))


def last_step(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Each sequence's last real step: ``(T, B, d)`` → ``(B, d)``."""
    if lengths is None:
        return x[-1]
    last = (lengths.to(x.device) - 1).clamp(min=0)
    return x[last, torch.arange(x.shape[1], device=x.device)]


def mean_over_time(x: Tensor, lengths: Tensor | None) -> Tensor:
    """The mean of each sequence's real steps: ``(T, B, d)`` → ``(B, d)``."""
    mask = step_mask(None if lengths is None else lengths.to(x.device), x.shape[0])
    if mask is None:
        return x.mean(dim=0)
    mask = mask.to(x.dtype)  # (1/3 in float32 would differ from a float64 model's by 1e-8)
    return (x * (mask / mask.sum(dim=0, keepdim=True).clamp(min=1.0))).sum(dim=0)


def start_value(batch: int, width: int, start: int | None, tokens: bool, like: Tensor) -> Tensor:
    """What a Delay gives at step 0: zeros (token -1 for token ids), or the start token
    (one-hot for vectors)."""
    if tokens:
        return torch.full((batch,), -1 if start is None else start, device=like.device)
    first = like.new_zeros(batch, width)
    if start is not None:
        first[:, start] = 1.0
    return first


def keep_padded(new: Tensor, old: Tensor, mask_t: Tensor | None) -> Tensor:
    """A state after one step: the new one on real steps, the old one on padded steps."""
    return new if mask_t is None else mask_t * new + (1.0 - mask_t) * old


def feedback(value: Tensor, loss: str | None) -> Tensor:
    """What a free-running loop feeds back (greedy): the chosen class one-hot, 0/1, or the
    value itself."""
    if not value.is_floating_point() or loss is None or loss == "mse":
        return value
    if loss == "binary_cross_entropy":
        return (value > 0).to(value.dtype)
    return one_hot(value.argmax(dim=-1), value.shape[-1]).to(value.dtype)


def cross_entropy_terms(
    scores: Tensor, target: Tensor, mask: Tensor | None
) -> tuple[Tensor, Tensor]:
    """-log softmax summed over the valid positions (target ≥ 0 on a real step), and how many
    there are."""
    valid = target >= 0
    if mask is not None:
        valid = valid & (mask.reshape(target.shape) > 0)
    picked = torch.log_softmax(scores, dim=-1).gather(-1, target.clamp(min=0).unsqueeze(-1))
    return -(picked.squeeze(-1) * valid).sum(), valid.sum()


def mse_terms(values: Tensor, target: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Squared errors summed over every element of the real steps, and how many there are."""
    diff = values - target.reshape(values.shape).to(values.dtype)
    if mask is None:
        return (diff * diff).sum(), values.new_tensor(float(values.numel()))
    weight = mask.reshape(*values.shape[:-1], 1).to(values.dtype)
    diff = diff * weight
    return (diff * diff).sum(), weight.sum() * values.shape[-1]


def binary_cross_entropy_terms(
    logits: Tensor, target: Tensor, mask: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Binary cross-entropy on logits summed over every element of the real steps, and how many
    there are."""
    target = target.reshape(logits.shape).to(logits.dtype)
    per_element = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    if mask is None:
        return per_element.sum(), logits.new_tensor(float(logits.numel()))
    weight = mask.reshape(*logits.shape[:-1], 1).to(logits.dtype)
    return (per_element * weight).sum(), weight.sum() * logits.shape[-1]


# An output's loss is its mean over every real target (as PyTorch's reduction="mean"), and the
# model's "loss" the sum of its outputs' losses. Over many batches (train.py's validation) the
# terms are added up first, so that the batch size does not change the figure.
LOSS_TERMS = {
    "cross_entropy": cross_entropy_terms,
    "mse": mse_terms,
    "binary_cross_entropy": binary_cross_entropy_terms,
}


def mean_of_terms(terms: tuple[Tensor, Tensor]) -> Tensor:
    total, count = terms
    return total / count.clamp(min=1)


def cross_entropy(scores: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over valid positions (target ≥ 0 and a real step) of -log softmax."""
    return mean_of_terms(cross_entropy_terms(scores, target, mask))


def mse(values: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """Mean squared error over every element of the real steps."""
    return mean_of_terms(mse_terms(values, target, mask))


def binary_cross_entropy(logits: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
    """Binary cross-entropy on logits, mean over every element of the real steps."""
    return mean_of_terms(binary_cross_entropy_terms(logits, target, mask))


LOSSES = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
}


def prediction(scores: Tensor, loss: str) -> Tensor:
    """What RNN Builder shows as the prediction: probabilities, or the value."""
    if loss == "cross_entropy":
        return torch.softmax(scores, dim=-1)
    if loss == "binary_cross_entropy":
        return torch.sigmoid(scores)
    return scores
