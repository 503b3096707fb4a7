"""Our parameter names and PyTorch's, both ways: the one place that knows the renaming.

Our cells already use PyTorch's equations and layout, so weights move without conversion; only
the names differ. Ours are ``<node id>.<tensor>`` (``encoder.weight_ih``,
``tagger.bias_hh_reverse``). In the exported ``model.py`` every node with weights is a submodule
named :func:`module_name` of its id, and its tensors are named as PyTorch names them:

* whole-sequence cells are ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with one layer, whose tensors
  carry the layer suffix: ``weight_ih`` → ``weight_ih_l0``, ``weight_ih_reverse`` →
  ``weight_ih_l0_reverse``;
* cells inside a feedback loop are ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``, named as ours;
* ``nn.Embedding`` and ``nn.Linear`` (``weight``, ``bias``) are named as ours.

Reading names back needs no graph: each of our names has only these two spellings in PyTorch, so
a file's names are matched against both (see :func:`ours_from_torch`). A plug-in type's form may
name its tensors otherwise (``PytorchForm.tensor_name``); given the graph, ``load_weights``
matches those as the form names them.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping

from rnn_builder.errors import WeightsFileError

CELL_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# Every public attribute of ``nn.Module`` (``tests/test_export_names.py`` holds this to the
# installed torch's ``dir(nn.Module())``) and of the generated ``Model``: a submodule must shadow
# none of them, or ``self.forward(...)`` would call the method, not the node.
RESERVED = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
    predictions""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # a Python name that is not private
_DASHED = re.compile(r"[A-Za-z][A-Za-z0-9]*(-+[A-Za-z0-9]+)+")  # words joined by dashes


def module_name(node_id: str) -> str:
    """The attribute of the generated module for a node (and so the first part of its tensors'
    ``state_dict`` names), a function of the id alone:

    * an id that is a Python name nn.Module does not use is itself: ``encoder``, ``dense_1``;
    * one that Python or nn.Module uses, or that ends in ``_``, gets a ``_``: ``forward_``,
      ``class_``, ``gate_`` → ``gate__``;
    * words joined by dashes are joined by ``_``, with a ``_`` at the end: ``my-layer`` →
      ``my_layer_``;
    * any other (a leading ``_``, dashes beside ``_``) is spelled in hex after an ``x`` and
      ends in one ``_``: ``_h`` → ``x5f68_``. Names starting ``_`` are Python's private ones
      (``__dict`` would be mangled, ``_modules`` is nn.Module's own).

    No two ids get one name: the first kind ends in a letter or digit; the second in ``__`` or
    is a reserved word and a ``_``; the third holds a ``_`` before its last and is no reserved
    word and a ``_``; the fourth holds none."""
    if _WORD.fullmatch(node_id):
        if node_id.endswith("_") or keyword.iskeyword(node_id) or node_id in RESERVED:
            return f"{node_id}_"
        return node_id
    if _DASHED.fullmatch(node_id):
        joined = node_id.replace("-", "_")
        if joined not in RESERVED and f"{joined}_" not in RESERVED:  # requires-grad: not so
            return f"{joined}_"
    return f"x{node_id.encode('ascii').hex()}_"


def torch_tensor_name(tensor: str, layered: bool) -> str:
    """``weight_ih_reverse`` as PyTorch names it in a layered module (``nn.LSTM``):
    ``weight_ih_l0_reverse``; unchanged in a ``Cell`` module or a Linear/Embedding."""
    if not layered:
        return tensor
    for base in CELL_TENSORS:
        if tensor == base or tensor == f"{base}_reverse":
            return f"{base}_l0{tensor[len(base) :]}"
    return tensor


def torch_name(ours: str, layered: bool) -> str:
    """Our ``<node id>.<tensor>`` as the key of the exported module's ``state_dict``."""
    node_id, _, tensor = ours.partition(".")
    return f"{module_name(node_id)}.{torch_tensor_name(tensor, layered)}"


def torch_state_names(ours: Iterable[str], layered_nodes: set[str]) -> dict[str, str]:
    """Ours → PyTorch's, for the nodes of a graph (``layered_nodes``: whole-sequence cells)."""
    return {name: torch_name(name, name.partition(".")[0] in layered_nodes) for name in ours}


def ours_from_torch(
    tensors: Mapping[str, object],
    expected: Mapping[str, tuple[int, ...]],
    where: str,
    names: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, object]:
    """A file's tensors by PyTorch name, renamed to ours; every name of ``expected`` must be
    present exactly once and nothing else (else :class:`WeightsFileError`, one line).
    ``names`` gives a tensor's PyTorch names where its node type's form says them (see
    ``pytorch_forms.torch_spellings``); the others are matched under the two above."""
    spellings: dict[str, str] = {}
    for name in expected:
        given = (names or {}).get(name)
        for spelling in given or (torch_name(name, layered) for layered in (True, False)):
            spellings[spelling] = name
    found: dict[str, object] = {}
    unknown = []
    for key, value in tensors.items():
        ours = spellings.get(key)
        if ours is None:
            unknown.append(key)
        elif ours in found:
            raise WeightsFileError(f"{where} holds '{ours}' twice (under two PyTorch names)")
        else:
            found[ours] = value
    missing = sorted(set(expected) - set(found))
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(torch_name(m, False) for m in missing[:5]))
        if unknown:
            parts.append("unknown " + ", ".join(sorted(unknown)[:5]))
        raise WeightsFileError(f"{where} does not fit this graph: " + "; ".join(parts))
    return found
