"""Damaged weights files — ``.npz``, the PyTorch export's ``.safetensors`` and ``train.py``'s
checkpoints — through ``load_weights`` and ``import-weights`` (issue 22: at full count ≥ 1,000
files): each is loaded, or refused in one line with the weights as they were."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import RNNBuilderError
from rnn_builder.export.pytorch import torch_weights
from rnn_builder.export.weights_import import load_weights
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import save_weights
from tests.fuzz.harness import batches, case, cli, one_line, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=300, full=1_200, per_batch=200)
TEMPLATES = ("one_to_one", "many_to_one", "encoder_decoder_feedback")


def _npz(executor, folder) -> bytes:
    path = folder / "w.npz"
    save_weights(executor, path)
    return path.read_bytes()


def _safetensors(executor) -> bytes:
    return save_safetensors(torch_weights(executor), metadata={"format": "rnn-builder-weights"})


def _checkpoint(executor) -> bytes:
    tensors = {f"model.{k}": v for k, v in torch_weights(executor).items()}
    tensors["optimizer.state.0.exp_avg"] = np.zeros(3, np.float32)
    return save_safetensors(tensors, metadata={"format": "rnn-builder-checkpoint"})


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    made = []
    for template in TEMPLATES:
        project = new_project(template)
        path = save(project, folder / f"{template}.json")
        executor = Executor(project.graph, seed=3)
        for suffix, data in (
            (".npz", _npz(executor, folder)),
            (".safetensors", _safetensors(executor)),
            (".safetensors", _checkpoint(executor)),
        ):
            made.append((template, path, suffix, data))
    return folder, made


def _mutated_npz(mutator: Mutator, data: bytes) -> bytes:
    """An archive whose members are damaged inside (a .npy header, a name, a size), rewritten
    as a good zip, so that what is damaged is what the reader must check itself."""
    rng = mutator.rng
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    name, content = members[rng.randrange(len(members))]
    index = [m[0] for m in members].index(name)
    choice = rng.random()
    if choice < 0.5:  # the .npy header, where numpy's own parser looks
        length = min(len(content), 10 + struct.unpack_from("<H", content, 8)[0])
        content = mutator.bytes(content[:length]) + content[length:]
    elif choice < 0.7:
        content = mutator.bytes(content)
    elif choice < 0.85:
        name = rng.choice(["x", "x.npy", name + name, "../evil.npy", name.upper(), "a/" + name])
    else:
        members.append((name, content))  # the same name twice
    members[index] = (name, content)
    out = io.BytesIO()
    compression = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression) as archive:
        warnings.simplefilter("ignore")  # a name twice, on purpose
        for member, body in members:
            archive.writestr(member, body)
    return out.getvalue()


def _mutated_safetensors(mutator: Mutator, data: bytes) -> bytes:
    """The JSON header changed as JSON (offsets, shapes, dtypes, metadata), its length right
    or wrong; the tensors' bytes as they were."""
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8 : 8 + length])
    changed = json.dumps(mutator.json(header), allow_nan=True).encode("utf-8")
    size = len(changed) if mutator.rng.random() < 0.9 else mutator.rng.choice([0, 7, 2**40])
    return struct.pack("<Q", size) + changed + data[8 + length :]


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_damaged_weights_files(bases, batch, count):
    folder, made = bases
    for seed in seeds("weights", batch, count):
        mutator = Mutator(seed)
        template, project_path, suffix, data = mutator.rng.choice(made)
        choice = mutator.rng.random()
        if choice < 0.4:
            damaged = mutator.bytes(data)
        elif suffix == ".npz":
            damaged = _mutated_npz(mutator, data)
        else:
            damaged = _mutated_safetensors(mutator, data)
        path = folder / f"case{seed}{suffix}"
        path.write_bytes(damaged)
        executor = Executor(new_project(template).graph, seed=1)
        before = executor.store.flat.copy()
        with case("weights", f"seed {seed} {template}{suffix}") as figures:
            try:
                load_weights(executor, path)
                figures.deep += 1
            except RNNBuilderError as error:
                one_line(str(error), f"seed {seed}")
                np.testing.assert_array_equal(executor.store.flat, before)
                figures.refused += 1
            if seed % 5 == 0:
                cli("import-weights", project_path, path, "-o", folder / "out.npz")
        path.unlink()
