"""The memory one run may hold on this machine, and what validation says of a run that needs
more (``memory_exceeded``, ``memory_large``): the figure, what holds it, and what to shrink.

The estimate itself is ``graph.footprint``'s.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from rnn_builder.graph.footprint import MemoryEstimate, Workload, estimate_workload
from rnn_builder.graph.model import Graph
from rnn_builder.graph.report import Problem, ValidationReport

# The override of the budget, in the environment: a size such as "8GB", "512MB" or bytes.
BUDGET_VARIABLE = "RNN_BUILDER_MEMORY_BUDGET"
# The share of the machine's memory one run may take. Half: the editor holds the weights again
# beside the training process, the system and other programs need theirs (the build machine is
# shared), and what the estimate leaves out (the data set, the interpreter, allocator slack)
# comes on top. Past it a run swaps or is killed, and slows everyone else's.
BUDGET_SHARE = 0.5
# A warning from this share of the budget on: it fits, but it is large and will be slow.
WARNING_SHARE = 0.5
# When the machine's memory cannot be read (no ``os.sysconf``, as on Windows): a common size.
FALLBACK_MEMORY = 16_000_000_000

# Said when NumPy runs out of memory all the same (other programs took it, or the estimate fell
# short): one line instead of a MemoryError's traceback.
OUT_OF_MEMORY = (
    "The machine ran out of memory for this (within the budget, but not free now: other "
    f"programs may be using it): shrink the batch size, the sequences or the network, or set "
    f"{BUDGET_VARIABLE} lower so that validation refuses it."
)


def physical_memory() -> int:
    """The machine's memory in bytes (``os.sysconf``; :data:`FALLBACK_MEMORY` where it cannot
    be read)."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY
    return pages * size if pages > 0 and size > 0 else FALLBACK_MEMORY


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i)?b?|b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """Bytes from "8GB", "512 MB", "2.5g", "4GiB" or "1000000" (KB, MB, GB, TB decimal;
    KiB, MiB, GiB, TiB binary); None when it is not a size of at least a byte."""
    match = _SIZE.match(text)
    if match is None:
        return None
    number, unit, binary = match.groups()
    scale = 1 if unit is None else (1024 if binary else 1000) ** ("kmgt".index(unit.lower()) + 1)
    size = int(float(number) * scale)
    return size if size >= 1 else None


@dataclass(frozen=True)
class Budget:
    """How much one run may hold, and why: ``source`` says so in words for the messages;
    ``unreadable``: an override that was not a size (then the default is used)."""

    bytes: int
    source: str
    unreadable: str | None = None


def memory_budget() -> Budget:
    """The budget: :data:`BUDGET_VARIABLE` if set to a size, else :data:`BUDGET_SHARE` of the
    machine's memory."""
    memory = physical_memory()
    default = Budget(
        int(memory * BUDGET_SHARE),
        f"half this machine's {size_text(memory)}; set {BUDGET_VARIABLE} to change it",
    )
    text = os.environ.get(BUDGET_VARIABLE, "").strip()
    if not text:
        return default
    size = parse_size(text)
    if size is None:
        return Budget(default.bytes, default.source, text)
    return Budget(size, f"set by {BUDGET_VARIABLE}")


def size_text(size: float) -> str:
    """Bytes in words: "820 KB", "15.6 MB", "1.2 GB", "400 GB"."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{int(size)} bytes"


# --- as validation problems -------------------------------------------------------------------


def memory_problems(
    graph: Graph, report: ValidationReport, workload: Workload, budget: Budget
) -> list[Problem]:
    """``memory_exceeded`` (an error) when running ``workload`` needs more than the budget,
    ``memory_large`` (a warning) past :data:`WARNING_SHARE` of it; each on the node that holds
    the most, saying the figure and what to shrink."""
    estimate = estimate_workload(graph, workload, report)
    total = estimate.total
    if total <= budget.bytes * WARNING_SHARE:
        return []
    node, advice = _what_to_shrink(graph, estimate, workload)
    need = (
        f"{_doing(workload, estimate)} needs about {size_text(total)} at once ({_parts(estimate)})"
    )
    where = f"the memory budget of {size_text(budget.bytes)} ({budget.source})"
    if total > budget.bytes:
        message = f"{need}, more than {where}: {advice}."
        return [Problem("memory_exceeded", message, node)]
    message = f"{need}, more than half {where}; it will be slow and may swap: {advice}."
    return [Problem("memory_large", message, node, severity="warning")]


def budget_problems(budget: Budget) -> list[Problem]:
    if budget.unreadable is None:
        return []
    return [
        Problem(
            "memory_budget_unreadable",
            f"{BUDGET_VARIABLE}={budget.unreadable!r} is not a size such as 8GB or 512MB, so "
            f"the default memory budget is used ({size_text(budget.bytes)}, {budget.source}).",
            severity="warning",
        )
    ]


def _doing(workload: Workload, estimate: MemoryEstimate) -> str:
    what = workload.what[:1].upper() + workload.what[1:]
    axes = [f"'{axis}' {steps:,} steps" for axis, steps in estimate.lengths.items()]
    batch = f"batches of {estimate.batch_size:,}" if estimate.batch_size > 1 else ""
    told = ", ".join(part for part in (batch, *axes) if part)
    return f"{what} ({told})" if told else what


def _parts(estimate: MemoryEstimate) -> str:
    weights = (
        f"{size_text(estimate.weights)} for {estimate.parameters:,} weights and their gradients"
    )
    running = estimate.total - estimate.weights
    if estimate.weights + estimate.first_draw >= estimate.total:
        return f"{weights}, and {size_text(estimate.first_draw)} more while they are first drawn"
    parts = [weights]
    state = estimate.training_state + (estimate.temporary if estimate.optimizer_temporary else 0)
    if state:
        parts.append(f"{size_text(state)} for the optimizer's state and copies of the weights")
    parts.append(f"{size_text(running - state)} for the values of the steps")
    return ", ".join(parts)


def _what_to_shrink(
    graph: Graph, estimate: MemoryEstimate, workload: Workload
) -> tuple[str | None, str]:
    """The node that holds the most of the larger part (weights, or the values of the steps),
    and what to make smaller."""
    values = estimate.activations + (0 if estimate.optimizer_temporary else estimate.temporary)
    if estimate.total - values >= values and estimate.weights_by_node:
        node = max(estimate.weights_by_node, key=estimate.weights_by_node.get)
        count = estimate.weights_by_node[node] // max(1, workload.float_bytes)
        return node, (f"make {graph.describe(node)} smaller, which holds {count:,} of the weights")
    node = max(estimate.by_node, key=estimate.by_node.get) if estimate.by_node else None
    levers = []
    if estimate.batch_size > 1:
        levers.append("the batch size")
    if estimate.lengths:
        cut = " (truncated BPTT trains them in chunks)" if workload.optimizer else ""
        levers.append(f"the sequences{cut}")
    if node is not None:
        levers.append(f"{graph.describe(node)}, which holds the most")
    if len(levers) > 1:
        levers[-2:] = [f"{levers[-2]} or {levers[-1]}"]
    return node, "shrink " + ", ".join(levers)
