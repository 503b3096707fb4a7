"""A node's card on the canvas: how wide and how tall it is, worked out from its ports.

The one definition for all that places cards: the canvas draws them this size
(``ui.canvas.node_item``), finds free space for new ones with it, and Arrange lays them out
with it, without Qt, for the command line and the templates too. The colours and the rest of
the drawing are the canvas's own (``ui.canvas.style``).
"""

from __future__ import annotations

from rnn_builder.graph.nodes import NodeType

NODE_WIDTH = 176.0
HEADER_HEIGHT = 40.0  # the title and the subtitle
PORT_ROW_HEIGHT = 22.0  # one row a port: the outputs first, then the inputs
CARD_PADDING = 8.0  # under the last row

Size = tuple[float, float]


def card_size(node_type: NodeType) -> Size:
    """A node's width and height on the canvas: a header, and one row for each port."""
    rows = max(len(node_type.inputs) + len(node_type.outputs), 1)
    return NODE_WIDTH, HEADER_HEIGHT + rows * PORT_ROW_HEIGHT + CARD_PADDING


def port_y(row: int) -> float:
    """The height of row ``row``'s port (its middle) below the card's top."""
    return HEADER_HEIGHT + 4 + PORT_ROW_HEIGHT * (row + 0.5)
