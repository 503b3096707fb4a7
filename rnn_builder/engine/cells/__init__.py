"""The numerics of the recurrent cells: Elman RNN, LSTM and GRU, forward and backward in time.

Equations and parameter layout are PyTorch's (``torch.nn.RNN`` / ``LSTM`` / ``GRU``), so
weights move between the two without conversion. For one direction of a cell with hidden size
H, G gate blocks and input size D:

* ``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``, ``bias_ih (G·H)``, ``bias_hh (G·H)``;
* gate order i, f, g, o for the LSTM and r, z, n for the GRU.

Shapes are time-major: ``x (T, B, D)``, ``y (T, B, H)``, states ``(B, H)``.

A cell holds no per-sequence state. ``forward`` returns the outputs, the final state and a
cache; ``backward`` takes the cache and the gradients reaching the outputs and the final state,
and returns the gradients of the input, of the initial state and of the weights (with PyTorch's
names). ``step`` computes one time step, with the gate values, for live stepping; a feedback
loop runs ``forward`` and ``backward`` on one step at a time. A mask ``(T, B)`` (1 for real
steps, 0 for padding after the end of a shorter sequence) makes padded steps carry the state
through unchanged, so the final state is the state after each sequence's own last step.

Speed: a step's input projection, bias and recurrence are one matrix product with the fused
weights ``[W_ih | b | W_hh]``, and the weight gradients are one product over all steps after the
loop; what the backward pass multiplies by is computed for all steps at once (on a helper
thread for large cells, see ``overlap``). How the arrays are laid out for that is in
``cell_layout``. The time loops call ``np.dot`` for a step's product: on 2-D arrays it skips
``np.matmul``'s general machinery (one call measured 1.0 against 2.3 µs at hidden 8, 4.3
against 4.6 at 32, the same from 64; an Elman cell's forward pass 0.83–0.90 of its time at
hidden 8–32). NumPy's element-wise calls are quick on whole contiguous arrays of one shape
and several times slower on blocks strided in time or on broadcast operands (its general
loop), which is why the loops keep to the first and the passes over all steps make few calls.

The same cells written plainly, one equation a line, are in ``kernels.reference``; each fast
method's docstring says which of its lines computes which of the reference's names, and
``tests/test_reference_kernels.py`` holds the two equal (no torch needed). Below, a row block
such as ``acts[t, :H]`` is ``(H, B)``: the transpose of the reference's ``(B, H)`` value.

One module per cell (``elman``, ``lstm``, ``gru``), what they share in ``base``.
"""

from __future__ import annotations

from rnn_builder.engine.cells.base import Cell, CellWeights
from rnn_builder.engine.cells.elman import ElmanCell
from rnn_builder.engine.cells.gru import GRUCell
from rnn_builder.engine.cells.lstm import LSTMCell

__all__ = ["Cell", "CellWeights", "ElmanCell", "GRUCell", "LSTMCell"]
