"""Where a new node goes: in free space, never on top of another.

A node added from the palette (double-click, Enter) lands near the view's centre, and copies
made by Duplicate or Paste land beside their originals; in both cases on the nearest spot,
searched outward ring by ring on the grid, where it covers no node (nor comes within a grid
step of one); a recurrent cell covers the loop above its card too. A node dropped by drag and
drop stays where the user let go of it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF

from rnn_builder.graph.nodes import NodeType
from ui.canvas.style import GRID_SIZE, LOOP_HEIGHT

MAX_RINGS = 60  # 1,200 px around the wanted spot; a canvas that full gets the spot itself


def room_above(node_type: NodeType) -> float:
    """How far above its card a node draws: a recurrent cell's loop and its label, which a
    node placed above it must leave free (0 for the others)."""
    return LOOP_HEIGHT + 16 if node_type.cell is not None else 0.0


def clear_offset(
    rect: QRectF, taken: Iterable[QRectF], step: float = GRID_SIZE, margin: float = GRID_SIZE
) -> QPointF:
    """The shortest move of ``rect`` by whole grid steps after which it keeps ``margin`` away
    from every rectangle in ``taken`` (no move when it already does)."""
    blocked = [r.adjusted(-margin, -margin, margin, margin) for r in taken]
    if not any(rect.intersects(r) for r in blocked):
        return QPointF(0, 0)
    for ring in range(1, MAX_RINGS + 1):
        around = [
            (dx, dy)
            for dx, dy in itertools.product(range(-ring, ring + 1), repeat=2)
            if max(abs(dx), abs(dy)) == ring
        ]
        # nearest first; of equals, right before left and down before up (reading order)
        around.sort(key=lambda d: (math.hypot(*d), -d[0], -d[1]))
        for dx, dy in around:
            moved = rect.translated(dx * step, dy * step)
            if not any(moved.intersects(r) for r in blocked):
                return QPointF(dx * step, dy * step)
    return QPointF(0, 0)
