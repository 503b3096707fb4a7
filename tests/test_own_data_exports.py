"""A person's own data through both exports (issue 21): a sentence with a word training never saw
gets the same answer from predict (and so the app's probe box, which reads typed input with the
same ``read_input``), from the exported ONNX model and from the exported PyTorch model; and each
export checks on the own data as it does on a built-in task."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rnn_builder.cli.main import main
from rnn_builder.engine.executor import Executor
from rnn_builder.export.onnx import export_onnx
from rnn_builder.export.pytorch import export_pytorch
from rnn_builder.files.serialization import load
from rnn_builder.training.data import make_batch
from rnn_builder.training.predict import predict, prediction, read_input
from rnn_builder.training.tasks import load_dataset

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SENTENCE = "the qwzx was not good"  # 'qwzx' is no word of the reviews


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    path = folder / "reviews.json"
    # the data in the project's folder: a file outside it is read only when allowed
    shutil.copy(EXAMPLES / "reviews.csv", folder / "reviews.csv")
    for argv in (
        ["new", "many_to_one", "-o", path],
        ["edit", path, "--data-file", "labelled", folder / "reviews.csv", "--fit"],
        ["edit", path, "--setting", "epochs", "2"],
        ["train", path],
    ):
        assert main([str(a) for a in argv]) in (0,), argv
    project = load(path)
    executor = Executor(project.graph)
    from rnn_builder.export.weights_import import load_weights

    load_weights(executor, path.with_suffix(".npz"))
    load_dataset(project, base=folder)  # what the data worked out, as predict does
    return project, executor, folder


def test_predict_and_both_exports_give_the_same_answer_for_an_unknown_word(trained, tmp_path):
    project, executor, folder = trained
    typed = read_input(project, SENTENCE, folder)
    ids = typed.example["words"]
    assert ids[1] == 0 and "read as <unk>: 'qwzx'" in predict(executor, typed)
    ours, output = prediction(executor, typed.example)

    onnxruntime = pytest.importorskip("onnxruntime")
    model = export_onnx(executor)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    feeds = {
        "words": ids[:, None].astype(np.int64),
        "words_lengths": np.array([len(ids)], np.int32),
    }
    (onnx_probabilities,) = session.run([output], feeds)
    np.testing.assert_allclose(onnx_probabilities[0], ours, atol=1e-5)

    pytest.importorskip("torch")
    import torch

    from rnn_builder.export.pytorch_check import load_model, torch_batch

    export_pytorch(project, executor, tmp_path / "torch", base=folder)
    _module, torch_model = load_model(tmp_path / "torch")
    torch_model.eval()
    batch = make_batch([typed.example], executor.report, executor.graph)
    with torch.no_grad():
        got = torch_model.predictions(torch_model(**torch_batch(batch)))[output]
    np.testing.assert_allclose(got.double().numpy()[0], ours, atol=1e-5)
    assert int(np.argmax(ours)) == int(np.argmax(onnx_probabilities[0]))


@pytest.mark.parametrize("to", ["onnx", "pytorch"])
def test_both_exports_check_on_own_data(trained, tmp_path, capsys, to):
    pytest.importorskip("onnxruntime" if to == "onnx" else "torch")
    _project, _executor, folder = trained
    path = folder / "reviews.json"
    target = tmp_path / ("m.onnx" if to == "onnx" else "m")
    argv = ["export", path, "--to", to, "-o", target, "--check", "--weights"]
    code = main([str(a) for a in [*argv, path.with_suffix(".npz")]])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "largest difference" in out and target.exists()
