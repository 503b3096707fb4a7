"""PyTorch export: a project folder a PyTorch user recognises at a glance.

``export_pytorch`` writes

* ``model.py``: the graph as an ``nn.Module`` (:mod:`.pytorch_model`), with the loss;
* ``weights.safetensors``: the executor's weights under the module's ``state_dict`` names
  (:mod:`.torch_names`), written from NumPy, so exporting needs no torch;
* ``data.npz``: the project's training and validation data, padded, time-major, with each time
  axis's lengths (``<split>.inputs.<id>``, ``<split>.targets.<name>``, ``<split>.lengths.<axis>``);
* ``train.py``: the project's optimizer, schedule, clipping, batch size and epochs, for one process
  or torchrun (``torch_files/train.py`` with the settings filled in);
* ``README.md``: how to run it and how to bring the weights back.

The folder is written beside its final place under a temporary name, checked there if asked
(``--check``: the model it holds against our executor), and only then renamed into place, so a
failure, a failed check or a check that raises leaves nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import ExportFolderError
from rnn_builder.export.pytorch_forms import form_of
from rnn_builder.export.pytorch_model import layered_cells, model_source
from rnn_builder.export.torch_names import module_name
from rnn_builder.files.project import Project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset

FILES = Path(__file__).with_name("torch_files")


def export_pytorch(
    project: Project,
    executor: Executor,
    folder: Path,
    base: Path | None = None,
    check: Callable[[Path], object] | None = None,
) -> Path:
    """Write the PyTorch project folder ``folder`` for ``project`` with ``executor``'s current
    weights and return it. ``base`` resolves the project's data files (its folder). ``check``,
    if given, is called with the finished folder (under its temporary name) before it takes
    its place: whatever it raises (a disagreement, a model that fails, a cancel) leaves
    nothing behind and goes on to the caller.

    Raises :class:`ExportError` (one line) when the graph cannot be exported, and its subclass
    :class:`ExportFolderError` when the folder exists and is not empty or cannot be written;
    nothing is left behind then. Data problems raise
    the tasks' :class:`~rnn_builder.errors.DataError`."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExportFolderError(
            f"'{folder}' already exists and is not an empty folder: choose another"
        )
    source = model_source(executor, project.title, project.description)
    weights = _weights_bytes(executor)
    data = _data_bytes(project, executor, base)
    files = {
        "model.py": source.encode("utf-8"),
        "weights.safetensors": weights,
        "data.npz": data,
        "train.py": train_source(project).encode("utf-8"),
        "README.md": readme(project, folder.name).encode("utf-8"),
    }
    parent = folder.parent if str(folder.parent) else Path(".")
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as error:
        reason = error.strerror or error
        raise ExportFolderError(f"cannot write into '{parent}': {reason}") from None
    try:
        try:
            for name, content in files.items():
                with open(temporary / name, "wb") as stream:
                    stream.write(content)
                    stream.flush()
                    os.fsync(stream.fileno())
            os.chmod(temporary, 0o777 & ~_umask())
        except OSError as error:
            reason = error.strerror or error
            raise ExportFolderError(f"cannot write '{folder}': {reason}") from None
        if check is not None:
            check(temporary)
        try:
            if folder.exists():
                folder.rmdir()  # empty (checked above): replaced by the finished folder
            os.replace(temporary, folder)
        except OSError as error:
            reason = error.strerror or error
            raise ExportFolderError(f"cannot write '{folder}': {reason}") from None
    except BaseException:  # an interrupt too: the temporary folder is ours to remove
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary)
        raise
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def torch_weights(executor: Executor) -> dict[str, np.ndarray]:
    """The executor's weights by the exported module's ``state_dict`` names (float32): each
    node's tensors as its type's form names them (:mod:`.pytorch_forms`)."""
    graph, layered = executor.graph, layered_cells(executor)
    weights = {}
    for ours, value in executor.parameters.items():
        node_id, _, tensor = ours.partition(".")
        name = form_of(graph, graph.node(node_id)).tensor_name(tensor, node_id in layered)
        weights[f"{module_name(node_id)}.{name}"] = np.ascontiguousarray(value, dtype=np.float32)
    return weights


def _weights_bytes(executor: Executor) -> bytes:
    from safetensors.numpy import save

    return save(torch_weights(executor), metadata={"format": "rnn-builder-weights"})


def _data_bytes(project: Project, executor: Executor, base: Path | None) -> bytes:
    """Both splits as whole padded batches (our ``make_batch``), with lengths per time axis."""
    dataset = make_dataset(project, project.training.seed, base)
    arrays: dict[str, np.ndarray] = {}
    for split_name, split in (("train", dataset.train), ("validation", dataset.validation)):
        if not split.examples:
            continue
        batch = make_batch(split.examples, executor.report, executor.graph)
        for name, value in batch.inputs.items():
            arrays[f"{split_name}.inputs.{name}"] = _plain(value)
        for name, value in batch.targets.items():
            arrays[f"{split_name}.targets.{name}"] = _plain(value)
        size = len(split.examples)
        for axis in executor.report.axes.values():
            mask = batch.masks.get(axis.id)
            if mask is not None:
                lengths = np.asarray(mask).sum(axis=0).astype(np.int64)
            elif axis.kind == "input":
                lengths = np.full(size, np.asarray(batch.inputs[axis.id]).shape[0], np.int64)
            else:
                continue  # its length comes from the targets or the default
            arrays[f"{split_name}.lengths.{axis.id}"] = lengths
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # compressing took 0.75 s of 0.8 (adding problem) to halve 8 MB
    return buffer.getvalue()


def _plain(value) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind == "f":
        return value.astype(np.float32)
    return value.astype(np.int64)


def train_source(project: Project) -> str:
    """``train.py`` with the project's settings in its settings block."""
    text = (FILES / "train.py").read_text(encoding="utf-8")
    settings = project.training
    metric_target = _metric_target(project)
    block = "\n".join(
        [
            "# --- the project's training settings (written by RNN Builder) ---",
            f"OPTIMIZER = {settings.optimizer!r}",
            f"LEARNING_RATE = {settings.learning_rate!r}",
            f"SCHEDULE = {settings.schedule!r}",
            f"CLIP_NORM = {settings.clip_norm!r}  # global norm; 0: no clipping",
            f"WEIGHT_DECAY = {settings.weight_decay!r}",
            f"BATCH_SIZE = {settings.batch_size!r}  # per process",
            f"EPOCHS = {settings.epochs!r}",
            f"SEED = {settings.seed!r}",
            f"METRIC_TARGET = {metric_target!r}",
            "# --- end of settings ---",
        ]
    )
    pattern = re.compile(r"# --- the project's training settings.*?# --- end of settings ---", re.S)
    return pattern.sub(lambda _: block, text, count=1)


def _metric_target(project: Project) -> str:
    for node in project.graph.outputs():
        if node.params["loss"] == "cross_entropy":
            return node.params["target"]
    return ""


def readme(project: Project, folder_name: str) -> str:
    """The folder's README: what is in it and the commands to run."""
    settings = project.training
    notes = ""
    if settings.truncated_bptt:
        notes = (
            "\nThe project trains with truncated backpropagation through time "
            f"({settings.truncated_bptt} steps); train.py backpropagates through whole "
            "sequences.\n"
        )
    if settings.patience:
        notes += "\nEarly stopping (patience) is not part of train.py: pick the best checkpoint.\n"
    return f"""# {project.title} — PyTorch

Exported by RNN Builder. {project.description}

| file | what |
|---|---|
| `model.py` | the network as an `nn.Module` (`Model`), its loss, and shape notes in `forward` |
| `weights.safetensors` | the weights at export, by `Model().state_dict()` names |
| `data.npz` | training and validation data, time-major and padded, with sequence lengths |
| `train.py` | {settings.optimizer}, learning rate {settings.learning_rate:g} \
({settings.schedule}), clipping at {settings.clip_norm:g}, \
batch {settings.batch_size} per process, \
{settings.epochs} epochs |

```python
import torch
from safetensors.torch import load_file
from model import Model

model = Model()
model.load_state_dict(load_file("weights.safetensors"), strict=True)
```

## Train

One process (add `--device cuda` on a GPU):

    python train.py

N processes on this machine (DistributedDataParallel; gloo on CPU, nccl on GPUs):

    torchrun --nproc_per_node=N train.py

N machines (run on each, with its own `--node_rank`, 0 to N-1; HOST is machine 0):

    torchrun --nnodes=N --nproc_per_node=4 --node_rank=0 \\
        --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 train.py

Rank 0 writes `checkpoint.safetensors` after every epoch; `--resume` continues from it and
`--epochs E` trains until epoch E. On several machines every one reads the checkpoint when
resuming: keep the folder on a shared disk, or copy the file to each. `BATCH_SIZE` in train.py
is per process, so N processes step with N times as many examples.
{notes}
## Bring the weights back

    python -m rnn_builder import-weights PROJECT.json \
        {folder_name}/checkpoint.safetensors -o trained.npz

or use the `.safetensors` file directly: `python -m rnn_builder predict PROJECT.json \
--weights {folder_name}/checkpoint.safetensors --input "..."`.
"""
