"""Attention in the engine: the fast kernel held to the textbook one (and that one to finite
differences); exact gradients of both placements with all three scores, padded batches and
batch 1, against finite differences and against PyTorch (float64, within 1e-10); the keys
worked out once per pass in a step loop; the alignment kept per run; stepping equal to the
whole pass, and stepping back equal to stepping forward."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.kernels import attention as fast
from rnn_builder.engine.kernels import reference_attention as reference
from rnn_builder.engine.stepping import Stepper
from rnn_builder.graph.unroll import UnrolledKey

from .attention_graphs import SCORES, START, bahdanau, luong, padded_batch, repeated
from .numerics import gradient_errors
from .test_stepping_back import _same

PLACEMENTS = {"luong": luong, "bahdanau": bahdanau}
BATCHES = {"padded": [5, 2, 4], "one": [3]}


def _kernel_inputs(score: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    steps, batch, queries, dq, dk, dv, units = 5, 3, 4, 3, 2 if score != "dot" else 3, 4, 6
    weights = {
        "additive": {
            "query.weight": rng.standard_normal((units, dq)),
            "key.weight": rng.standard_normal((units, dk)),
            "energy.weight": rng.standard_normal((1, units)),
        },
        "general": {"key.weight": rng.standard_normal((dq, dk))},
        "dot": {},
    }[score]
    query = rng.standard_normal((queries, batch, dq))
    memory = rng.standard_normal((steps, batch, dk))
    values = rng.standard_normal((steps, batch, dv))
    mask = (np.arange(steps)[:, None] < np.array([5, 2, 4])[None]).astype(float)
    return weights, query, memory, values, mask


@pytest.mark.parametrize("separate_values", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("score", SCORES)
def test_the_fast_kernel_is_the_textbook_one(score, masked, separate_values):
    weights, query, memory, values, mask = _kernel_inputs(score)
    values = values if separate_values else memory
    mask = mask if masked else None
    context, alignment, cache = reference.attention_forward(
        weights, score, query, memory, values, mask
    )
    keys = fast.project_keys(score, weights, memory)
    fast_context, fast_alignment, fast_cache = fast.attend(
        score, weights, query, keys, values, None if mask is None else mask[..., None]
    )
    np.testing.assert_allclose(fast_context, context, atol=1e-13)
    np.testing.assert_allclose(fast_alignment, alignment, atol=1e-13)
    if masked:
        assert (alignment[:, 1, 2:] == 0).all()  # the second example is 2 steps long
        np.testing.assert_allclose(alignment.sum(axis=-1), 1.0, atol=1e-13)
    dcontext = np.random.default_rng(1).standard_normal(context.shape)
    grads = reference.attention_backward(cache, dcontext)
    dquery, dkeys, dvalues, weight_grads = fast.attend_backward(
        score, weights, fast_cache, dcontext, True
    )
    dmemory, key_grads = fast.project_keys_backward(score, weights, memory, dkeys, True)
    np.testing.assert_allclose(dquery, grads["query"], atol=1e-12)
    dvalues = dvalues.transpose(1, 0, 2)
    if separate_values:
        np.testing.assert_allclose(dmemory, grads["memory"], atol=1e-12)
        np.testing.assert_allclose(dvalues, grads["values"], atol=1e-12)
    else:
        np.testing.assert_allclose(dmemory + dvalues, grads["memory"] + grads["values"], atol=1e-12)
    for name in weights:
        np.testing.assert_allclose(
            {**weight_grads, **key_grads}[name], grads[name], atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("score", SCORES)
def test_the_textbook_kernel_agrees_with_finite_differences(score):
    """So that the two kernels cannot share a mistake."""
    weights, query, memory, values, mask = _kernel_inputs(score, seed=2)
    dcontext = np.random.default_rng(3).standard_normal((query.shape[0], 3, values.shape[2]))

    def loss() -> float:
        context, _, _ = reference.attention_forward(weights, score, query, memory, values, mask)
        return float((context * dcontext).sum())

    _, _, cache = reference.attention_forward(weights, score, query, memory, values, mask)
    grads = reference.attention_backward(cache, dcontext)
    tensors = {"query": query, "memory": memory, "values": values, **weights}
    for name, tensor in tensors.items():
        numeric = np.zeros_like(tensor)
        for index in np.ndindex(tensor.shape):
            kept = tensor[index]
            tensor[index] = kept + 1e-6
            up = loss()
            tensor[index] = kept - 1e-6
            numeric[index] = (up - loss()) / 2e-6
            tensor[index] = kept
        np.testing.assert_allclose(grads[name], numeric, atol=1e-7, err_msg=name)


# --- the executor -------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", list(BATCHES))
@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_gradients_are_exact_by_finite_differences(placement, score, batch):
    executor = Executor(PLACEMENTS[placement](score), dtype=np.float64, seed=3)
    data = padded_batch(BATCHES[batch])
    for train in (True, False):  # teacher forced, and free running (through its choices)
        along, single = gradient_errors(executor, data, train=train, entries=60)
        assert along < 1e-6 and single < 1e-6, (train, along, single)


@pytest.mark.parametrize("score", SCORES)
def test_a_separate_values_input_over_whole_sequences_has_exact_gradients(score):
    executor = Executor(repeated(score, values=True), dtype=np.float64, seed=4)
    data = padded_batch([5, 2, 4])
    data.steps["rep"] = 3
    along, single = gradient_errors(executor, data, entries=60)
    assert along < 1e-6 and single < 1e-6


def test_a_step_loop_works_the_keys_out_once_per_pass(monkeypatch):
    calls = []
    projected = fast.project_keys

    def counted(*args):
        calls.append(1)
        return projected(*args)

    monkeypatch.setattr("rnn_builder.engine.ops.attention.project_keys", counted)
    executor = Executor(bahdanau("additive"), dtype=np.float64)
    run = executor.forward(padded_batch([5, 2, 4], target_steps=4))
    assert len(calls) == 1  # not once for each of the 4 steps
    executor.backward(run)
    assert not run.memo.get(("att", "gradients"))  # handed on at the loop's first step


@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_the_alignment_is_kept_per_run(placement):
    executor = Executor(PLACEMENTS[placement]("additive"), dtype=np.float64, seed=1)
    run = executor.forward(padded_batch([5, 2, 4], target_steps=3), train=False)
    alignment = run.alignments["att"]
    assert alignment.shape == (3, 3, 5)  # (T_query, B, T_memory)
    np.testing.assert_allclose(alignment.sum(axis=-1), 1.0)
    assert (alignment[:, 1, 2:] == 0).all() and (alignment[:, 2, 4:] == 0).all()
    assert set(run.alignments) == {"att"}


# --- PyTorch, written independently (float64) ---------------------------------------------------


def _torch_attention(torch, score, weights, query, memory, lengths):
    """The papers' maths in torch: (Tq, B, dq) against (S, B, dk), masked by lengths."""
    if score == "dot":
        scores = torch.einsum("tbd,sbd->tbs", query, memory)
    elif score == "general":
        scores = torch.einsum("tbd,de,sbe->tbs", query, weights["key.weight"], memory)
    else:
        q = query @ weights["query.weight"].T  # (Tq, B, U)
        k = memory @ weights["key.weight"].T  # (S, B, U)
        hidden = torch.tanh(q[:, :, None, :] + k.permute(1, 0, 2)[None])  # (Tq, B, S, U)
        scores = hidden @ weights["energy.weight"][0]
    real = torch.arange(memory.shape[0])[None, :] < lengths[:, None]  # (B, S)
    alignment = torch.softmax(scores.masked_fill(~real[None], float("-inf")), dim=-1)
    return torch.einsum("tbs,sbd->tbd", alignment, memory)


def _torch_loss(torch, placement, score, p, tokens, lengths, targets, train):
    F = torch.nn.functional
    steps, batch = tokens.shape
    real = torch.arange(steps)[:, None] < lengths[None, :]
    embedded = p["emb.weight"][tokens.clamp(min=0)] * (tokens >= 0)[..., None]
    h = torch.zeros(batch, 4, dtype=torch.float64)
    ys = []
    for t in range(steps):
        new = torch.gru_cell(
            embedded[t],
            h,
            p["enc.weight_ih"],
            p["enc.weight_hh"],
            p["enc.bias_ih"],
            p["enc.bias_hh"],
        )
        h = torch.where(real[t][:, None], new, h)  # padded steps keep the state
        ys.append(h)
    memory = torch.stack(ys)

    def decoder_step(x, h):
        return torch.gru_cell(
            x, h, p["dec.weight_ih"], p["dec.weight_hh"], p["dec.bias_ih"], p["dec.bias_hh"]
        )

    def head(x):
        return x @ p["head.weight"].T + p["head.bias"]

    classes = p["head.bias"].shape[0]
    fed = F.one_hot(torch.tensor(START), classes).double().expand(batch, classes)
    weights = {k.partition(".")[2]: v for k, v in p.items() if k.startswith("att.")}
    scores, state = [], torch.zeros(batch, 4, dtype=torch.float64)
    for t in range(targets.shape[0]):
        if placement == "luong":
            h = decoder_step(fed, h)
            context = _torch_attention(torch, score, weights, h[None], memory, lengths)[0]
            joined = torch.cat([context, h], dim=-1)
            step_scores = head(torch.tanh(joined @ p["combine.weight"].T + p["combine.bias"]))
        else:
            context = _torch_attention(torch, score, weights, state[None], memory, lengths)[0]
            h = decoder_step(torch.cat([fed, context], dim=-1), h)
            state = h
            step_scores = head(h)
        scores.append(step_scores)
        if train:
            fed = F.one_hot(targets[t], classes).double()
        else:
            fed = F.one_hot(step_scores.argmax(-1), classes).double()
    scores = torch.stack(scores)
    return F.cross_entropy(scores.reshape(-1, classes), targets.reshape(-1)), scores


@pytest.mark.parametrize("batch", list(BATCHES))
@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_loss_and_every_gradient_match_pytorch(placement, score, batch):
    torch = pytest.importorskip("torch")
    executor = Executor(PLACEMENTS[placement](score), dtype=np.float64, seed=5)
    data = padded_batch(BATCHES[batch], target_steps=4)
    tokens = torch.from_numpy(data.inputs["src"])
    lengths = torch.tensor(BATCHES[batch])
    targets = torch.from_numpy(data.targets["y"])
    for train in (True, False):
        run = executor.backward(executor.forward(data, train=train))
        params = {
            name: torch.tensor(value, requires_grad=True)
            for name, value in executor.parameters.items()
        }
        loss, scores = _torch_loss(torch, placement, score, params, tokens, lengths, targets, train)
        loss.backward()
        assert abs(float(loss.detach()) - run.loss) < 1e-10
        expected = torch.softmax(scores, dim=-1).detach().numpy()
        np.testing.assert_allclose(run.predictions["out"], expected, atol=1e-10)
        for name, grad in executor.gradients.items():
            np.testing.assert_allclose(params[name].grad.numpy(), grad, atol=1e-10, err_msg=name)


# --- stepping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("teacher", [False, True])
@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_stepping_gives_the_whole_pass_row_by_row(placement, score, teacher):
    executor = Executor(PLACEMENTS[placement](score), dtype=np.float64, seed=6)
    data = padded_batch([5, 2, 4], target_steps=4)
    whole = executor.forward(data, train=teacher)
    stepper = Stepper(executor, data, teacher=teacher)
    rows = []
    while not stepper.done:
        step = stepper.step()
        for key in step.copies:
            if key.node == "att":
                rows.append(stepper.detail(key)["alignment"])  # (B, T_memory) at that step
                assert key.t == len(rows) - 1
                assert (stepper.alignments["att"][key.t + 1 :] == 0).all()  # not yet walked
    np.testing.assert_allclose(np.stack(rows), whole.alignments["att"], atol=1e-12)
    np.testing.assert_allclose(stepper.alignments["att"], whole.alignments["att"], atol=1e-12)
    np.testing.assert_allclose(
        stepper.value("att", "context"), whole.values[("att", "context")], atol=1e-12
    )
    np.testing.assert_allclose(
        stepper.value("out", "prediction"), whole.predictions["out"], atol=1e-12
    )


@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_stepping_back_through_the_attention_equals_stepping_forward(placement):
    executor = Executor(PLACEMENTS[placement]("additive"), dtype=np.float64, seed=7)
    data = padded_batch([5, 2, 4], target_steps=4)
    walked = Stepper(executor, data)
    walked.run_to_end()
    fresh = Stepper(executor, data)
    total = len(walked.steps)
    for target in sorted({0, 1, 4, total // 2, total - 2, total - 1, total}, reverse=True):
        while walked.position > target:
            walked.back()
        fresh.reset()
        for _ in range(target):
            fresh.step()
        _same(walked, fresh)
    walked.run_to_end()
    assert UnrolledKey("att", 3) in walked.details


def test_truncated_backpropagation_refuses_a_sequence_read_whole():
    """Self-attention on one axis would read one chunk of its memory at a time."""
    from rnn_builder.errors import DataError
    from rnn_builder.files.project import TrainingSettings
    from rnn_builder.graph.model import Graph
    from rnn_builder.training.trainer import Trainer

    from .helpers import wire

    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 3})
    graph.add_node("rnn", node_id="cell", params={"hidden_size": 4})
    graph.add_node("attention", node_id="att", params={"score": "dot"})
    graph.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    wire(
        graph,
        "x.y",
        "cell.x",
        "cell.y",
        "att.query",
        "cell.y",
        "att.memory",
        "att.context",
        "out.x",
    )
    with pytest.raises(DataError, match="reads the whole of its memory"):
        Trainer(Executor(graph), None, TrainingSettings(truncated_bptt=4))
