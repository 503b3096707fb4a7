"""Attention exported: to ONNX with plain operators (MatMul, Add, Tanh, Where, Softmax), inside
the decoder's Loop when it is fed back, agreeing with our executor in ONNX Runtime on padded
batches; to PyTorch as a readable module (an ``Attention`` submodule, its step inside the
loop over a ``GRUCell``) whose predictions, loss and gradients are ours (float64)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from rnn_builder.engine.executor import Executor
from rnn_builder.export.pytorch import torch_weights
from rnn_builder.export.pytorch_model import layered_cells, model_source
from rnn_builder.export.torch_names import torch_name

from .attention_graphs import SCORES, bahdanau, luong, padded_batch, repeated
from .test_export_onnx import assert_agrees, exported

BUILDS = {"luong": luong, "bahdanau": bahdanau, "repeated": repeated}
# what an attention may be written with (besides the shapes' bookkeeping)
ATTENTION_OPS = {"MatMul", "Add", "Tanh", "Where", "Softmax", "Transpose"}
BOOKKEEPING = {"Unsqueeze", "Squeeze", "Shape", "Gather", "Range", "Cast", "Less", "Greater"}


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("build", list(BUILDS))
def test_onnx_agrees_with_the_executor_on_padded_batches(build, score):
    assert_agrees(BUILDS[build](score))


def test_a_separate_values_input_exports_to_onnx():
    assert_agrees(repeated("additive", values=True))


@pytest.mark.parametrize("opset", [14, 22])
def test_opsets_14_and_22(opset):
    assert_agrees(bahdanau("additive"), opset)


def _attention_nodes(graph_proto) -> list:
    return [n for n in graph_proto.node if n.name.startswith("att/")]


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("build", ["luong", "bahdanau"])
def test_fed_back_the_attention_runs_inside_the_decoders_loop_with_plain_operators(build, score):
    _, model = exported(BUILDS[build](score))
    (loop,) = [n for n in model.graph.node if n.op_type == "Loop"]
    body = loop.attribute[0].g
    inside = {n.op_type for n in _attention_nodes(body)}
    assert {"MatMul", "Softmax", "Where"} <= inside  # padded memory steps masked
    assert ("Tanh" in inside) == (score == "additive")
    outside = {n.op_type for n in _attention_nodes(model.graph)}
    if score != "dot":  # the keys: worked out once, before the Loop
        assert "MatMul" in outside
    every = {n.op_type for n in (*body.node, *model.graph.node)}
    assert all(n.domain in ("", "ai.onnx") for n in (*body.node, *model.graph.node))
    assert inside | outside <= ATTENTION_OPS | BOOKKEEPING, inside | outside
    assert "Loop" in every


# --- PyTorch ------------------------------------------------------------------------------------


def test_the_pytorch_module_reads_as_the_maths():
    executor = Executor(bahdanau("additive"), seed=1)
    source = model_source(executor, "Reversal", "")
    assert source.count("class Attention(nn.Module):") == 1
    assert 'self.att = Attention("additive", 4, 4, 5)' in source
    assert "self.dec = nn.GRUCell(" in source  # fed back: a loop over a cell
    assert 'self.att.step(current["state"], values["enc"], None, lengths.get("src"))' in source
    source = model_source(Executor(luong("general"), seed=1), "Reversal", "")
    assert 'self.att = Attention("general", 4, 4, 5)' in source
    assert 'self.att.step(current["dec"], values["enc"], None, lengths.get("src"))' in source
    source = model_source(Executor(repeated("dot"), seed=1), "No feedback", "")
    assert (
        'values["att.context"], values["att.alignment"] = self.att(values["dec"], values["enc"], '
        'None, lengths.get("src"))'
    ) in source  # no loop: the attention runs over whole sequences, its alignment kept


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("build", list(BUILDS))
def test_pytorch_matches_predictions_loss_and_gradients_in_float64(build, score, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.numpy import save_file

    from rnn_builder.export.pytorch_check import load_model, torch_batch

    executor = Executor(BUILDS[build](score), dtype=np.float64, seed=2)
    (tmp_path / "model.py").write_text(model_source(executor, build, ""))
    save_file(torch_weights(executor), str(tmp_path / "weights.safetensors"))
    executor.set_parameters(  # the exported float32 weights, in float64
        {k: v.astype(np.float32).astype(np.float64) for k, v in executor.parameters.items()}
    )
    _module, model = load_model(tmp_path)
    model = model.double()
    batch = padded_batch([5, 2, 4], target_steps=3)
    if build == "repeated":
        batch.steps["rep"] = 3
    for train in (False, True):
        model.train(train)
        model.zero_grad()
        run = executor.forward(batch, train=train)
        outputs = model(**torch_batch(batch, torch.float64))
        got = model.predictions(outputs)["out"].detach().numpy()
        np.testing.assert_allclose(got, run.predictions["out"], atol=1e-12)
        assert abs(float(outputs["loss"].detach()) - run.loss) < 1e-12
    executor.backward(run)
    outputs["loss"].backward()
    parameters = dict(model.named_parameters())
    layered = layered_cells(executor)
    for ours, grad in executor.gradients.items():
        theirs = parameters[torch_name(ours, ours.partition(".")[0] in layered)].grad
        np.testing.assert_allclose(theirs.numpy(), grad, atol=1e-12, err_msg=ours)
