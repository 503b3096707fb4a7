"""Two node types added in this one file, each with everything the app reads of it declared in
its own class — a minimal gated unit cell (its equations, a textbook kernel, its ONNX and PyTorch
forms) and a parameter-free "reverse in time" node (its operation, which steps it reads, its
forms) — validate, unroll, train with exact gradients, step, explain and export (checked in ONNX
Runtime and, with torch installed, in PyTorch) with no edit anywhere else: the registry is the
one extension point. A type without export forms is refused in one line."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto

from rnn_builder.engine.cells import GRUCell
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.kernels import reference
from rnn_builder.engine.kernels.textbook import TextbookCell
from rnn_builder.engine.ops import Op
from rnn_builder.engine.stepping import Stepper
from rnn_builder.errors import ExportError
from rnn_builder.export.onnx_forms import OnnxForm
from rnn_builder.export.onnx_loop import cell_by_steps
from rnn_builder.export.onnx_nodes import as_float
from rnn_builder.export.pytorch_forms import PytorchForm
from rnn_builder.export.torch_names import module_name
from rnn_builder.files.serialization import project_from_dict, project_to_dict
from rnn_builder.files.templates import new_project
from rnn_builder.graph.explain import explain_node
from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES, SEQ
from rnn_builder.graph.nodes.base import TIME, CellSpec, Equation, NodeType, PortSpec, Shape, seq
from rnn_builder.graph.nodes.cells import RecurrentCell
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.unroll import UnrolledKey, unroll
from rnn_builder.graph.validation import validate
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer

from .numerics import gradient_errors, random_batch

sigmoid = reference.sigmoid


def mgu_step(weights, x_t, h_prev):
    """Minimal gated unit (Zhou et al., 2016): one forget gate, which also resets."""
    W_if, W_in = reference.gate_blocks(weights["weight_ih"], 2)
    W_hf, W_hn = reference.gate_blocks(weights["weight_hh"], 2)
    b_if, b_in = reference.gate_blocks(weights["bias_ih"], 2)
    b_hf, b_hn = reference.gate_blocks(weights["bias_hh"], 2)
    f = sigmoid(x_t @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)
    u = h_prev @ W_hn.T + b_hn
    n = np.tanh(x_t @ W_in.T + b_in + f * u)
    h = (1.0 - f) * h_prev + f * n
    return {"x": x_t, "h_prev": h_prev, "f": f, "u": u, "n": n, "h": h}


def mgu_step_backward(weights, step, dh):
    W_if, W_in = reference.gate_blocks(weights["weight_ih"], 2)
    W_hf, W_hn = reference.gate_blocks(weights["weight_hh"], 2)
    x_t, h_prev, f, u, n = (step[k] for k in ("x", "h_prev", "f", "u", "n"))
    da_n = dh * f * (1.0 - n * n)
    df = dh * (n - h_prev) + da_n * u
    da_f = df * f * (1.0 - f)
    du = da_n * f
    return {
        "x": da_f @ W_if + da_n @ W_in,
        "h_prev": dh * (1.0 - f) + da_f @ W_hf + du @ W_hn,
        "weight_ih": np.concatenate([da_f.T @ x_t, da_n.T @ x_t]),
        "weight_hh": np.concatenate([da_f.T @ h_prev, du.T @ h_prev]),
        "bias_ih": np.concatenate([da_f.sum(0), da_n.sum(0)]),
        "bias_hh": np.concatenate([da_f.sum(0), du.sum(0)]),
    }


def mgu_onnx_step(ctx, node, inputs: dict[str, str]) -> dict[str, str]:
    """One MGU step in ONNX: ``x`` (1, B, d) and ``h_0`` (B, H) → ``h_n`` (B, H)."""
    b, hidden = ctx.builder, node.params["hidden_size"]
    x = b.squeeze(as_float(ctx, inputs["x"], node.id, "x"), 0)
    h = inputs["h_0"]
    gate, candidate = slice(0, hidden), slice(hidden, 2 * hidden)

    def affine(value: str, side: str, rows: slice, what: str) -> str:
        weight = b.weight(ctx.param(node.id, f"weight_{side}")[rows].T, f"{node.id}.{what}.W")
        bias = b.weight(ctx.param(node.id, f"bias_{side}")[rows], f"{node.id}.{what}.b")
        return b.op("Add", [b.op("MatMul", [value, weight]), bias], what)

    both = b.op("Add", [affine(x, "ih", gate, "x_f"), affine(h, "hh", gate, "h_f")])
    f = b.op("Sigmoid", [both], "f")
    u = affine(h, "hh", candidate, "u")
    n = b.op("Tanh", [b.op("Add", [affine(x, "ih", candidate, "x_n"), b.op("Mul", [f, u])])], "n")
    return {"h_n": b.op("Add", [h, b.op("Mul", [f, b.op("Sub", [n, h])])], "h")}


MGU_TORCH_HELPERS = '''
class MinimalGatedUnit(nn.Module):
    """A minimal gated unit over time-major sequences, as RNN Builder's plug-in computes it:
    ``weight_ih (2H, d)``, ``weight_hh (2H, H)``, biases ``(2H,)``, gate rows first."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(2 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(2 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(2 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(2 * hidden_size))
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -(hidden_size**-0.5), hidden_size**-0.5)

    def step(self, x: Tensor, h: Tensor) -> Tensor:
        x_f, x_n = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=-1)
        h_f, u = F.linear(h, self.weight_hh, self.bias_hh).chunk(2, dim=-1)
        f = torch.sigmoid(x_f + h_f)
        n = torch.tanh(x_n + f * u)
        return h + f * (n - h)

    def forward(self, x: Tensor, lengths: Tensor | None, h_0: Tensor | None = None):
        h = x.new_zeros(x.shape[1], self.hidden_size) if h_0 is None else h_0
        mask = step_mask(lengths, x.shape[0])
        steps = []
        for t in range(x.shape[0]):
            h = keep_padded(self.step(x[t], h), h, None if mask is None else mask[t].to(x.dtype))
            steps.append(h)
        return torch.stack(steps), h
'''


def mgu_torch_module(src, node, layered: bool) -> str:
    if node.params["bidirectional"]:
        raise ExportError(f"MGU '{node.name}' is bidirectional, which its PyTorch form is not")
    width = src.report.shapes.inputs[(node.id, "x")].width
    return f"MinimalGatedUnit({width}, {node.params['hidden_size']})"


def mgu_torch_forward(src, node) -> None:
    x = src.floats(src.source(node.id, "x"))
    given = src.source(node.id, "h_0")
    h_0 = src.ref(given) if given else "None"
    y, h_n = src.name(node.id, "y"), src.name(node.id, "h_n")
    axis = src.report.node_axes[node.id]
    module = f"self.{module_name(node.id)}"
    src.emit(f'{y}, {h_n} = {module}({x}, lengths.get("{axis}"), {h_0})')


class MinimalGatedUnit(RecurrentCell):
    type_name = "mgu"
    title = "MGU"
    description = "Minimal gated unit: a GRU with one gate."
    params = default_registry().get("gru").params
    cell = CellSpec(gates=("f", "n"))

    def equations(self, params: dict[str, Any]) -> list[Equation]:
        return [
            Equation("f_t = σ(W_if·x_t + b_if + W_hf·h_(t−1) + b_hf)", "the one gate"),
            Equation("n_t = tanh(W_in·x_t + b_in + f_t ⊙ (W_hn·h_(t−1) + b_hn))", "candidate"),
            Equation("h_t = (1 − f_t) ⊙ h_(t−1) + f_t ⊙ n_t", "keep or take the new"),
        ]

    def kernel(self, params):
        return TextbookCell(2, ("h",), mgu_step, mgu_step_backward)

    def onnx_form(self) -> OnnxForm:
        return OnnxForm(emit=cell_by_steps, step=mgu_onnx_step)

    def pytorch_form(self) -> PytorchForm:
        return PytorchForm(
            module=mgu_torch_module,
            forward=mgu_torch_forward,
            step=lambda src, node, x, states: f"self.{module_name(node.id)}.step({x}, {states[0]})",
            helpers=MGU_TORCH_HELPERS,
        )


# --- reverse in time -----------------------------------------------------------------------------


class ReverseOp(Op):
    """``y_t = x_(L−1−t)`` within each sequence's real length L; padded steps pass through. The
    order is its own inverse, so the backward pass reads the gradient in the same order."""

    def order(self, run, steps: int, batch: int) -> np.ndarray:
        mask = run.masks.get(self.axis)
        lengths = np.full(batch, steps) if mask is None else mask[..., 0].sum(axis=0).astype(int)
        t = np.arange(steps)[:, None]
        return np.where(t < lengths[None], lengths[None] - 1 - t, t)

    def forward(self, run, inputs):
        x = np.asarray(inputs["x"])  # a plain array: a cell's output carries a layout tag
        order = self.order(run, x.shape[0], x.shape[1])
        return {"y": x[order, np.arange(x.shape[1])[None]]}, order

    def backward(self, run, cache, grads):
        dy = grads.get("y")
        if dy is None:
            return {}
        return {"x": np.asarray(dy)[cache, np.arange(dy.shape[1])[None]]}


def reverse_onnx(ctx, node, inputs: dict[str, str]) -> dict[str, str]:
    b, x = ctx.builder, inputs["x"]
    lengths = ctx.sequence_lengths.get(ctx.report.node_axes[node.id])
    if lengths is None:  # every sequence on this axis fills it
        lengths = b.op("Expand", [b.dim(x, 0), ctx.batch_size], "lengths")
    else:
        lengths = b.op("Cast", [lengths], "lengths", to=TensorProto.INT64)
    return {"y": b.op("ReverseSequence", [x, lengths], "y", batch_axis=1, time_axis=0)}


REVERSE_TORCH_HELPERS = '''
def reverse_steps(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Each sequence's real steps in reverse order; padded steps stay where they are."""
    if lengths is None:
        return x.flip(0)
    t = torch.arange(x.shape[0], device=x.device)[:, None]
    real = lengths.to(x.device)[None, :]
    order = torch.where(t < real, real - 1 - t, t)
    if x.dim() == 3:
        order = order.unsqueeze(-1).expand(-1, -1, x.shape[2])
    return x.gather(0, order)
'''


def reverse_torch(src, node, in_loop: bool) -> str:
    if in_loop:
        raise ExportError(f"'{node.name}' reads later steps and cannot run in a feedback loop")
    x = src.ref(src.source(node.id, "x"))
    return f'reverse_steps({x}, lengths.get("{src.report.node_axes[node.id]}"))'


class ReverseInTime(NodeType):
    type_name = "reverse"
    title = "Reverse"
    category = TIME
    description = "Reads each sequence backwards: step t is step L−1−t of a sequence L long."
    inputs = (PortSpec("x", frozenset({SEQ}), "a sequence"),)
    outputs = (PortSpec("y", frozenset({SEQ}), "the sequence backwards, padding kept last"),)

    def operation(self) -> type:
        return ReverseOp

    def subtitle(self, node) -> str:
        return "Reverse · t ↦ L−1−t"

    def equations(self, params: dict[str, Any]) -> list[Equation]:
        return [Equation("y_t = x_(L−1−t)", "step t is step L−1−t of a sequence L steps long")]

    def infer(self, node, inputs) -> dict[str, Shape]:
        x = inputs.get("x")
        return {"y": seq(None) if x is None else Shape(SEQ, x.width, x.vocabulary)}

    def is_step_local(self, node) -> bool:
        return False

    def source_steps(self, t: int, steps: int) -> tuple[int, ...]:
        # step T−1−t of a full sequence, L−1−t of a shorter one, or t itself past its end
        return tuple(range(steps - t)) + ((t,) if t >= steps - t else ())

    def onnx_form(self) -> OnnxForm:
        return OnnxForm(emit=reverse_onnx)

    def pytorch_form(self) -> PytorchForm:
        return PytorchForm(expression=reverse_torch, helpers=REVERSE_TORCH_HELPERS)


TOY_TYPES = (MinimalGatedUnit, ReverseInTime)


def toy_registry(*types: type[NodeType]) -> NodeRegistry:
    """The built-in types and ``types`` (by default both toy types)."""
    registry = NodeRegistry()
    for node_type in (*BUILTIN_NODE_TYPES, *(types or TOY_TYPES)):
        registry.register(node_type)
    return registry


@pytest.fixture
def project():
    return mgu_project()


def mgu_project():
    """The sentiment template with its LSTM swapped for an MGU, on a registry that has it."""
    document = project_to_dict(new_project("many_to_one"))
    for node in document["graph"]["nodes"]:
        if node["type"] == "lstm":
            node["type"] = "mgu"
            node["params"].pop("forget_bias", None)
    return project_from_dict(document, toy_registry(MinimalGatedUnit))


def toy_project():
    """The tagging template read backwards by an MGU: words → flip (reverse, on token ids) →
    embed → tagger (MGU) → unflip (reverse) → tag scores, so each tag sees its own word and
    the words after it."""
    document = project_to_dict(new_project("many_to_many_equal"))
    graph = document["graph"]
    for node in graph["nodes"]:
        if node["type"] == "rnn":
            node["type"] = "mgu"
            node["params"].pop("nonlinearity", None)
    for name, x in (("flip", 200.0), ("unflip", 600.0)):
        graph["nodes"].append(
            {"id": name, "type": "reverse", "name": name, "params": {}, "position": [x, 300.0]}
        )
    rewired = {("words", "embed"): "flip", ("tagger", "tag_scores"): "unflip"}
    edges = []
    for edge in graph["edges"]:
        middle = rewired.get((edge[0], edge[2]))
        if middle is None:
            edges.append(edge)
        else:
            edges += [[edge[0], edge[1], middle, "x"], [middle, "y", edge[2], edge[3]]]
    graph["edges"] = edges
    return project_from_dict(document, toy_registry())


def test_it_validates_unrolls_and_explains(project):
    report = validate(project.graph)
    assert report.ok, report.errors
    assert report.parameter_shapes["reader"]["weight_hh"] == (64, 32)  # two gates of 32
    unrolled = unroll(project.graph, 6)
    assert sum(1 for key in unrolled.dag if key.node == "reader") == 6
    rows = explain_node(project.graph, report, "reader")
    assert rows[0][0].startswith("f_t") and "weight_ih (64×16)" in rows[-1][1]


def test_its_gradients_are_exact(project):
    executor = Executor(project.graph, dtype=np.float64, seed=1)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 3, 4])
    along, single = gradient_errors(executor, batch, entries=60)
    assert along < 1e-6 and single < 1e-6


def test_it_trains_and_steps_to_what_the_whole_pass_computes(project):
    project.dataset.options["sentences"] = 600
    executor = Executor(project.graph, seed=0)
    losses = []
    trainer = Trainer(
        executor,
        load_dataset(project),
        project.training,
        lambda report: losses.append(report.loss) if report.kind == "step" else None,
        report_every=0.0,
        max_steps=40,
    )
    result = trainer.train()
    assert result.steps == 40 and np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    batch = random_batch(executor, batch=2, steps=4)
    whole = executor.forward(batch, train=False)
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    np.testing.assert_allclose(
        stepper.value("reader", "y"), whole.values[("reader", "y")], atol=1e-6
    )
    shown = stepper.detail(stepper.steps[1].copies[-1]) if stepper.steps else {}
    assert any(
        "f" in stepper.detail(k) for s in stepper.steps for k in s.copies if k.node == "reader"
    )
    del shown


class WithoutExports(MinimalGatedUnit):
    """The same cell with no export forms: the exports refuse it."""

    type_name = "mgu_unexported"

    def onnx_form(self) -> None:
        return None

    def pytorch_form(self) -> None:
        return None


def test_a_type_without_export_forms_is_refused_in_one_line(tmp_path):
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.pytorch import export_pytorch

    project = mgu_project()
    project.graph.registry.register(WithoutExports)
    document = project_to_dict(project)
    for node in document["graph"]["nodes"]:
        if node["type"] == "mgu":
            node["type"] = "mgu_unexported"
    project = project_from_dict(document, project.graph.registry)
    executor = Executor(project.graph)
    with pytest.raises(ExportError) as refused:
        export_onnx(executor)
    assert "reader" in str(refused.value) and "ONNX" in str(refused.value)
    assert "\n" not in str(refused.value)
    with pytest.raises(ExportError) as refused:
        export_pytorch(project, executor, tmp_path / "out")
    assert "reader" in str(refused.value) and "PyTorch" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "out").exists()


# --- the two toy types together: the acceptance test of the registry as the extension point ---


@pytest.fixture
def toy():
    return toy_project()


def test_the_toy_graph_validates_and_unrolls_with_the_reversal_in_its_edges(toy):
    report = validate(toy.graph)
    assert report.ok, report.errors
    assert report.node_axes["flip"] == report.node_axes["unflip"] == "words"
    assert report.shapes.outputs[("flip", "y")].vocabulary == 40  # token ids stay ids
    unrolled = unroll(toy.graph, 6)
    for t in range(6):
        reads = {k.t for k in unrolled.dag.predecessors(UnrolledKey("flip", t))}
        assert 5 - t in reads  # what a full sequence gives it
        assert reads == set(range(6 - t)) | {t}  # a shorter one's L−1−t, or its own padded t
    schedule = unrolled.schedule
    assert schedule.index(UnrolledKey("unflip", 0)) > schedule.index(UnrolledKey("tagger", 5))


def test_a_reverse_node_on_a_feedback_loop_is_refused_as_it_reads_later_steps():
    document = project_to_dict(new_project("encoder_decoder_feedback"))
    graph = document["graph"]
    graph["nodes"].append(
        {"id": "flip", "type": "reverse", "name": "flip", "params": {}, "position": [0.0, 0.0]}
    )
    graph["edges"].remove(["previous_digit", "y", "decoder", "x"])
    graph["edges"] += [["previous_digit", "y", "flip", "x"], ["flip", "y", "decoder", "x"]]
    report = validate(project_from_dict(document, toy_registry()).graph)
    (problem,) = [p for p in report.errors if p.node == "flip"]
    assert problem.code == "feedback_not_causal" and "reads later steps" in problem.message


def test_the_toy_graph_explains_both_types(toy):
    report = validate(toy.graph)
    assert explain_node(toy.graph, report, "flip") == [
        ("y_t = x_(L−1−t)", "step t is step L−1−t of a sequence L steps long")
    ]
    rows = explain_node(toy.graph, report, "tagger")
    assert rows[0][0].startswith("f_t") and rows[-1][0] == "shapes"


def test_reversing_reads_each_sequence_backwards_within_its_length(toy):
    executor = Executor(toy.graph, dtype=np.float64)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 2, 4])
    run = executor.forward(batch, train=False)
    words, flipped = batch.inputs["words"], run.values[("flip", "y")]
    for b, length in enumerate([5, 2, 4]):
        assert list(flipped[:length, b]) == list(words[:length, b][::-1])
        assert list(flipped[length:, b]) == list(words[length:, b])  # padding stays put
    tagged, back = run.values[("tagger", "y")], run.values[("unflip", "y")]
    np.testing.assert_array_equal(back[:2, 1], tagged[:2, 1][::-1])


def test_the_toy_graphs_gradients_are_exact_with_padding(toy):
    executor = Executor(toy.graph, dtype=np.float64, seed=1)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 2, 4])
    along, single = gradient_errors(executor, batch, entries=60)
    assert along < 1e-6 and single < 1e-6


def test_the_toy_graph_trains(toy):
    toy.dataset.options["sentences"] = 400
    executor = Executor(toy.graph, seed=0)
    losses = []
    trainer = Trainer(
        executor,
        load_dataset(toy),
        toy.training,
        lambda report: losses.append(report.loss) if report.kind == "step" else None,
        report_every=0.0,
        max_steps=40,
    )
    assert trainer.train().steps == 40
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_stepping_the_toy_graph_to_the_end_gives_the_whole_pass_and_back_undoes_it(toy):
    executor = Executor(toy.graph, seed=2)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 2, 4])
    whole = executor.forward(batch, train=False)
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    for key in (("flip", "y"), ("tagger", "y"), ("unflip", "y")):
        np.testing.assert_allclose(stepper.value(*key), whole.values[key], atol=1e-6)
    np.testing.assert_allclose(
        stepper.value("tags", "prediction"), whole.predictions["tags"], atol=1e-6
    )
    words = batch.inputs["words"]
    first = stepper.detail(UnrolledKey("flip", 0))["y"]
    assert first.tolist() == [words[4, 0], words[1, 1], words[3, 2]]  # each one's last word
    middle = next(i for i, step in enumerate(stepper.steps) if step.copies[0].node == "unflip")
    while stepper.position > middle + 1:  # back to just after unflip's first copy
        stepper.back()
    forward = Stepper(executor, batch)
    for _ in range(middle + 1):
        forward.step()
    assert stepper.values.keys() == forward.values.keys()
    for key, value in forward.values.items():
        np.testing.assert_array_equal(stepper.values[key], value, err_msg=str(key))


def test_the_toy_graph_exports_to_onnx_and_runs_as_our_executor_does(toy):
    pytest.importorskip("onnxruntime")
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.onnx_check import check_onnx

    toy.dataset.options["sentences"] = 60
    executor = Executor(toy.graph, seed=3)
    model = export_onnx(executor)
    kinds = {n.op_type for n in model.graph.node}
    assert "ReverseSequence" in kinds and "Loop" in kinds  # the MGU runs as a Loop of its step
    result = check_onnx(toy, model, executor)
    assert result.ok, result.summary()
    assert result.runtime == "ONNX Runtime" and len(result.batches) == 2


def test_the_toy_graph_exports_to_pytorch_and_its_weights_come_back(toy, tmp_path):
    from rnn_builder.export.pytorch import export_pytorch
    from rnn_builder.export.weights_import import load_weights

    toy.dataset.options["sentences"] = 60
    executor = Executor(toy.graph, seed=4)
    folder = export_pytorch(toy, executor, tmp_path / "toy")
    source = (folder / "model.py").read_text(encoding="utf-8")
    assert "class MinimalGatedUnit(nn.Module)" in source and "def reverse_steps(" in source
    assert "self.tagger = MinimalGatedUnit(16, 32)" in source
    other = Executor(toy.graph, seed=5)
    load_weights(other, folder / "weights.safetensors")
    for name, value in executor.parameters.items():
        np.testing.assert_array_equal(other.parameters[name], value, err_msg=name)
    pytest.importorskip("torch")
    from rnn_builder.export.pytorch_check import check_pytorch

    result = check_pytorch(toy, executor, folder)
    assert result.ok, result.summary()


def test_on_an_axis_no_input_sets_the_reverse_node_exports_to_both(tmp_path):
    """One-to-many: a Repeat's axis has no lengths (every sequence fills it), so both forms
    reverse the whole axis; the composer reads the chord's steps backwards."""
    pytest.importorskip("onnxruntime")
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.onnx_check import check_onnx

    document = project_to_dict(new_project("one_to_many"))
    graph = document["graph"]
    graph["nodes"].append(
        {"id": "flip", "type": "reverse", "name": "flip", "params": {}, "position": [0.0, 0.0]}
    )
    graph["edges"].remove(["composer", "y", "note_scores", "x"])
    graph["edges"] += [["composer", "y", "flip", "x"], ["flip", "y", "note_scores", "x"]]
    project = project_from_dict(document, toy_registry())
    executor = Executor(project.graph, seed=9)
    run = executor.forward(random_batch(executor, batch=2, steps=4), train=False)
    np.testing.assert_array_equal(run.values[("flip", "y")], run.values[("composer", "y")][::-1])
    result = check_onnx(project, export_onnx(executor), executor)
    assert result.ok, result.summary()
    pytest.importorskip("torch")
    from rnn_builder.export.pytorch import export_pytorch
    from rnn_builder.export.pytorch_check import check_pytorch

    folder = export_pytorch(project, executor, tmp_path / "notes")
    result = check_pytorch(project, executor, folder)
    assert result.ok, result.summary()


class RenamedMGU(MinimalGatedUnit):
    """The MGU with a PyTorch module whose tensors have names of its own."""

    type_name = "mgu_renamed"

    def pytorch_form(self) -> PytorchForm:
        renamed = lambda tensor, layered: f"cell_{tensor}"  # noqa: E731
        return dataclasses.replace(super().pytorch_form(), tensor_name=renamed)


def renamed_mgu_weights(folder) -> tuple:
    """The MGU project with a cell whose PyTorch form renames its tensors, and the executor
    whose weights were exported under those names to ``folder/weights.safetensors``."""
    from safetensors.numpy import save_file

    from rnn_builder.export.pytorch import torch_weights

    document = project_to_dict(mgu_project())
    for node in document["graph"]["nodes"]:
        if node["type"] == "mgu":
            node["type"] = "mgu_renamed"
    registry = toy_registry()
    registry.register(RenamedMGU)
    project = project_from_dict(document, registry)
    executor = Executor(project.graph, seed=7)
    exported = torch_weights(executor)
    assert "reader.cell_weight_hh" in exported and "reader.weight_hh" not in exported
    save_file(exported, str(folder / "weights.safetensors"))
    return project, executor


def test_weights_come_back_under_the_names_a_form_gives_its_tensors(tmp_path):
    from rnn_builder.export.weights_import import load_weights

    project, executor = renamed_mgu_weights(tmp_path)
    other = Executor(project.graph, seed=8)
    load_weights(other, tmp_path / "weights.safetensors")
    for name, value in executor.parameters.items():
        np.testing.assert_array_equal(other.parameters[name], value.astype(np.float32), name)


def test_the_mgu_in_a_feedback_loop_exports_to_both(tmp_path):
    """A generating decoder with the MGU on its feedback loop: the cell's step forms are what
    the ONNX Loop and the PyTorch loop run."""
    pytest.importorskip("onnxruntime")
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.onnx_check import check_onnx

    document = project_to_dict(new_project("encoder_decoder_feedback"))
    swapped = 0
    for node in document["graph"]["nodes"]:
        if node["type"] in ("gru", "lstm", "rnn"):
            node["type"] = "mgu"
            for extra in ("nonlinearity", "forget_bias"):
                node["params"].pop(extra, None)
            swapped += 1
    project = project_from_dict(document, toy_registry())
    assert swapped == 2 and validate(project.graph).ok
    executor = Executor(project.graph, seed=6)
    result = check_onnx(project, export_onnx(executor), executor)
    assert result.ok, result.summary()
    pytest.importorskip("torch")
    from rnn_builder.export.pytorch import export_pytorch
    from rnn_builder.export.pytorch_check import check_pytorch

    folder = export_pytorch(project, executor, tmp_path / "decoder")
    result = check_pytorch(project, executor, folder)
    assert result.ok, result.summary()


def test_the_textbook_kernel_runs_the_reference_gru_as_the_fast_kernel_does():
    """The adapter itself, held to a fast kernel: outputs, final state and every gradient."""
    rng = np.random.default_rng(3)
    steps, batch, features, hidden = 5, 3, 4, 6
    weights = reference.float64_weights(
        {
            "weight_ih": rng.standard_normal((3 * hidden, features)) * 0.4,
            "weight_hh": rng.standard_normal((3 * hidden, hidden)) * 0.4,
            "bias_ih": rng.standard_normal(3 * hidden) * 0.1,
            "bias_hh": rng.standard_normal(3 * hidden) * 0.1,
        }
    )
    from rnn_builder.engine.cells import CellWeights

    w = CellWeights(**weights)
    x = rng.standard_normal((steps, batch, features))
    h0 = rng.standard_normal((batch, hidden)) * 0.1
    mask = (np.arange(steps)[:, None] < np.array([5, 2, 4])[None, :]).astype(float)[..., None]
    dy = rng.standard_normal((steps, batch, hidden))
    dh_n = rng.standard_normal((batch, hidden))
    textbook = TextbookCell(3, ("h",), reference.gru_step, reference.gru_step_backward)
    y1, f1, c1 = textbook.forward(w, x, (h0,), mask)
    y2, f2, c2 = GRUCell().forward(w, x, (h0,), mask)
    np.testing.assert_allclose(y1, np.asarray(y2), atol=1e-12)
    np.testing.assert_allclose(f1[0], f2[0], atol=1e-12)
    g1 = textbook.backward(w, c1, dy, (dh_n,))
    g2 = GRUCell().backward(w, c2, dy, (dh_n,))
    np.testing.assert_allclose(g1[0], g2[0], atol=1e-12)  # x
    np.testing.assert_allclose(g1[1][0], g2[1][0], atol=1e-12)  # h_0
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(g1[2][name], g2[2][name], atol=1e-12, err_msg=name)
    np.testing.assert_allclose(g1[3], np.asarray(g2[3]), atol=1e-12)  # gradient at each h
