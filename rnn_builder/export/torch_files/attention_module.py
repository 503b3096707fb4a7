"""Attention as RNN Builder computes it: this file's body is copied into an exported model.py
whose graph has an Attention node (``pytorch_forms.ATTENTION``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

# --- begin helpers ---


class Attention(nn.Module):
    """Attention over a memory sequence (Bahdanau et al. 2015; Luong et al. 2015), time-major.

    Scores, for query step t and memory step s: ``additive`` e_ts = vᵀ tanh(W_q q_t + W_k k_s)
    (``query``, ``key`` and ``energy``: Linear layers without bias), ``dot`` e_ts = q_t · k_s,
    ``general`` e_ts = q_t · (W k_s) (``key``). The alignment a_t is the softmax of e_t over the
    memory's real steps (padded ones weigh 0) and the context c_t = Σ_s a_ts v_s.

    Inputs: query (T, B, query_size); memory (S, B, key_size); values (S, B, d), or None for
    the memory itself; lengths (B,) of the memory, or None when every step is real.
    Outputs: context (T, B, d), alignment (T, B, S).
    """

    def __init__(self, score: str, query_size: int, key_size: int, units: int) -> None:
        super().__init__()
        self.score = score
        if score == "additive":
            self.query = nn.Linear(query_size, units, bias=False)
            self.key = nn.Linear(key_size, units, bias=False)
            self.energy = nn.Linear(units, 1, bias=False)
        elif score == "general":
            self.key = nn.Linear(key_size, query_size, bias=False)

    def forward(
        self,
        query: Tensor,
        memory: Tensor,
        values: Tensor | None = None,
        lengths: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        values = memory if values is None else values
        if self.score == "dot":
            scores = torch.einsum("tbd,sbd->tbs", query, memory)
        elif self.score == "general":
            scores = torch.einsum("tbd,sbd->tbs", query, self.key(memory))
        else:  # (T, B, 1, units) + (1, B, S, units)
            keys = self.key(memory).transpose(0, 1)[None]
            scores = self.energy(torch.tanh(self.query(query)[:, :, None] + keys)).squeeze(-1)
        empty = None
        if lengths is not None:
            steps = torch.arange(memory.shape[0], device=memory.device)
            real = steps[None, :] < lengths.to(memory.device)[:, None]  # (B, S)
            # an empty memory weighs nothing anywhere, as in RNN Builder (a softmax of only
            # -inf is NaN, and so is its gradient: its scores stay finite, its weights 0)
            empty = ~real.any(dim=-1)  # (B,)
            scores = scores.masked_fill(~(real | empty[:, None])[None], float("-inf"))
        alignment = torch.softmax(scores, dim=-1)
        if empty is not None:
            alignment = alignment.masked_fill(empty[None, :, None], 0.0)
        return torch.einsum("tbs,sbd->tbd", alignment, values), alignment

    def step(
        self,
        query_t: Tensor,
        memory: Tensor,
        values: Tensor | None = None,
        lengths: Tensor | None = None,
    ) -> Tensor:
        """One step inside a loop: the query ``(B, query_size)`` → the context ``(B, d)``."""
        return self(query_t[None], memory, values, lengths)[0][0]
