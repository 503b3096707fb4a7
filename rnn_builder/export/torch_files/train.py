"""Train the exported model with the project's settings, on one process or many.

    python train.py                                  # one process (CPU, or --device cuda)
    torchrun --nproc_per_node=4 train.py             # four processes on this machine
    torchrun --nnodes=2 --nproc_per_node=4 --node_rank=0 \\
        --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 train.py   # and node_rank=1 on the other

Under torchrun every process trains a replica (DistributedDataParallel: gloo on CPU, nccl on
CUDA, the GPU from LOCAL_RANK) on its share of each epoch (DistributedSampler), so one step sees
``BATCH_SIZE`` examples per process. Rank 0 logs and writes ``checkpoint.safetensors`` after
every epoch: the weights under ``model.``, the optimizer's state, and in the metadata the epoch,
the step and the optimizer's settings. It holds no pickle, so RNN Builder reads it back:
``python -m rnn_builder import-weights PROJECT checkpoint.safetensors -o trained.npz``.
``--resume`` continues from it; ``--epochs N`` trains until epoch N.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from model import AXES, INPUTS, LOSS_TERMS, TARGETS, Model, step_mask  # noqa: E402

# --- the project's training settings (written by RNN Builder) ---
OPTIMIZER = "adam"
LEARNING_RATE = 0.01
SCHEDULE = "constant"
CLIP_NORM = 1.0
WEIGHT_DECAY = 0.0
BATCH_SIZE = 32
EPOCHS = 20
SEED = 0
METRIC_TARGET = ""
# --- end of settings ---

CHECKPOINT_FORMAT = "rnn-builder-checkpoint"


def make_optimizer(parameters) -> torch.optim.Optimizer:
    """RNN Builder's optimizers are torch.optim's, with its default momentum of 0.9."""
    if OPTIMIZER == "sgd":
        return torch.optim.SGD(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    if OPTIMIZER in ("momentum", "nesterov"):
        return torch.optim.SGD(
            parameters,
            lr=LEARNING_RATE,
            momentum=0.9,
            nesterov=OPTIMIZER == "nesterov",
            weight_decay=WEIGHT_DECAY,
        )
    if OPTIMIZER == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    return torch.optim.Adam(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)


def learning_rate(step: int, total: int) -> float:
    """The schedule: constant, step (halved at each third of training) or cosine (to zero)."""
    if SCHEDULE == "step":
        return LEARNING_RATE * 0.5 ** min(2, int(3 * step / max(total, 1)))
    if SCHEDULE == "cosine":
        return LEARNING_RATE * 0.5 * (1.0 + math.cos(math.pi * min(step / max(total, 1), 1.0)))
    return LEARNING_RATE


# --- data ---------------------------------------------------------------------------------------


def load_split(split: str) -> dict[str, dict[str, np.ndarray]]:
    """One split of data.npz: whole padded arrays, time-major, and each axis's lengths."""
    with np.load(HERE / "data.npz", allow_pickle=False) as data:
        found: dict[str, dict[str, np.ndarray]] = {"inputs": {}, "targets": {}, "lengths": {}}
        for key in data.files:
            part, _, rest = key.partition(".")
            if part == split:
                group, _, name = rest.partition(".")
                found[group][name] = data[key]
    return found


def split_size(split: dict[str, dict[str, np.ndarray]]) -> int:
    for name, value in split["inputs"].items():
        return int(value.shape[1] if INPUTS[name]["axis"] else value.shape[0])
    raise ValueError("data.npz holds no inputs")


def make_batch(split, indices: np.ndarray, device: torch.device):
    """Examples ``indices`` as (inputs, targets, lengths), cut to their longest sequence."""
    lengths = {axis: value[indices] for axis, value in split["lengths"].items()}
    steps = {axis: int(value.max()) for axis, value in lengths.items()}

    def take(value: np.ndarray, axis: str | None) -> torch.Tensor:
        if axis is None:
            return torch.from_numpy(value[indices]).to(device)
        cut = value[: steps.get(axis, value.shape[0]), indices]
        return torch.from_numpy(np.ascontiguousarray(cut)).to(device)

    inputs = {k: take(v, INPUTS[k]["axis"]) for k, v in split["inputs"].items()}
    targets = {k: take(v, TARGETS[k]["axis"]) for k, v in split["targets"].items()}
    lengths_t = {k: torch.from_numpy(v).to(device) for k, v in lengths.items() if k in AXES}
    return inputs, targets, lengths_t


# --- checkpoints --------------------------------------------------------------------------------


def save_checkpoint(path: Path, model, optimizer, epoch: int, step: int) -> None:
    """Weights and optimizer state as safetensors (no pickle), written atomically."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state = optimizer.state_dict()
    scalars: dict[str, dict[str, float]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if value is None:
                continue
            if torch.is_tensor(value) and value.dim() > 0:
                tensors[f"optimizer.state.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = float(value)
    metadata = {
        "format": CHECKPOINT_FORMAT,
        "version": "1",
        "epoch": str(epoch),
        "step": str(step),
        "optimizer": OPTIMIZER,
        "param_groups": json.dumps(state["param_groups"]),
        "optimizer_scalars": json.dumps(scalars),
    }
    temporary = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    os.replace(temporary, path)


def load_checkpoint(path: Path, model, optimizer, device: torch.device) -> tuple[int, int]:
    """Restore what :func:`save_checkpoint` wrote; returns (epoch, step)."""
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise SystemExit(f"{path} is not a checkpoint of this training script")
    tensors = load_file(str(path), device=str(device))
    model.load_state_dict(
        {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True
    )
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer.state."):
            index, name = key[len("optimizer.state.") :].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    for index, values in json.loads(metadata["optimizer_scalars"]).items():
        for name, value in values.items():
            state.setdefault(int(index), {})[name] = torch.tensor(value)
    groups = json.loads(metadata["param_groups"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    return int(metadata["epoch"]), int(metadata["step"])


# --- training -----------------------------------------------------------------------------------


def evaluate(model, split, device, batch_size: int) -> tuple[float, float | None]:
    """The loss over the whole split, and accuracy on the metric's target if it has classes.

    The loss is RNN Builder's (its ``evaluate`` gives the same figure): each output's mean over
    every real target of the split, padding excluded, summed over the outputs. Each batch's sums
    and counts are added up before dividing, so the batch size does not change it (a mean of
    per-batch means would: a batch of short sentences would weigh as much as one of long)."""
    model.eval()
    size = split_size(split)
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    correct, counted = 0, 0
    with torch.no_grad():
        for start in range(0, size, batch_size):
            inputs, targets, lengths = make_batch(
                split, np.arange(start, min(size, start + batch_size)), device
            )
            outputs = model(inputs, targets, lengths)
            for name, target in targets.items():
                spec = TARGETS[name]
                scores = outputs[spec["output"]]
                mask = (
                    step_mask(lengths.get(spec["axis"]), scores.shape[0]) if spec["axis"] else None
                )
                total, count = LOSS_TERMS[spec["loss"]](scores, target, mask)
                sums[name] = sums.get(name, 0.0) + float(total)
                counts[name] = counts.get(name, 0.0) + float(count)
            spec = TARGETS.get(METRIC_TARGET)
            if spec is not None and spec["loss"] == "cross_entropy":
                target = targets[METRIC_TARGET]
                hits = (outputs[spec["output"]].argmax(-1) == target) & (target >= 0)
                if spec["axis"] in lengths:
                    mask = (
                        torch.arange(target.shape[0], device=device)[:, None]
                        < lengths[spec["axis"]][None]
                    )
                    hits, valid = hits & mask, (target >= 0) & mask
                else:
                    valid = target >= 0
                correct += int(hits.sum())
                counted += int(valid.sum())
    model.train()
    loss = sum(sums[name] / counts[name] for name in sums if counts[name] > 0)
    return loss, (correct / counted if counted else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="train until this epoch")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--checkpoint", type=Path, default=HERE / "checkpoint.safetensors")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device(args.device)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    torch.manual_seed(SEED)

    model = Model().to(device)
    model.load_state_dict(load_file(str(HERE / "weights.safetensors"), device=str(device)))
    optimizer = make_optimizer(model.parameters())
    epoch, step = 0, 0
    if args.resume:
        epoch, step = load_checkpoint(args.checkpoint, model, optimizer, device)
    trained = (
        DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        if distributed
        else model
    )

    train, validation = load_split("train"), load_split("validation")
    sampler = DistributedSampler(
        range(split_size(train)), num_replicas=world, rank=rank, shuffle=True, seed=SEED
    )
    per_epoch = math.ceil(len(sampler) / BATCH_SIZE)
    total = per_epoch * args.epochs
    if rank == 0:
        print(
            f"{world} process(es) on {device.type}, {split_size(train)} examples, "
            f"epochs {epoch + 1} to {args.epochs}",
            flush=True,
        )
        if epoch == 0:
            val_loss, val_accuracy = evaluate(model, validation, device, BATCH_SIZE)
            print(
                f"epoch 0 val_loss {val_loss:.6f}"
                + (f" val_accuracy {val_accuracy:.4f}" if val_accuracy is not None else ""),
                flush=True,
            )
    while epoch < args.epochs:
        epoch += 1
        sampler.set_epoch(epoch)
        order = np.fromiter(iter(sampler), dtype=np.int64)
        loss_sum = torch.zeros(2, device=device)
        for start in range(0, len(order), BATCH_SIZE):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total)
            inputs, targets, lengths = make_batch(train, order[start : start + BATCH_SIZE], device)
            loss = trained(inputs, targets, lengths)["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if CLIP_NORM:
                torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            optimizer.step()
            step += 1
            loss_sum += torch.stack([loss.detach(), torch.ones((), device=device)])
        if distributed:
            dist.all_reduce(loss_sum)
        if rank == 0:  # every rank holds the same weights: one evaluates
            val_loss, val_accuracy = evaluate(model, validation, device, BATCH_SIZE)
            line = (
                f"epoch {epoch} loss {float(loss_sum[0] / loss_sum[1]):.6f} val_loss {val_loss:.6f}"
            )
            if val_accuracy is not None:
                line += f" val_accuracy {val_accuracy:.4f}"
            print(line, flush=True)
            save_checkpoint(args.checkpoint, model, optimizer, epoch, step)
    if distributed:
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        first = flat.clone()
        dist.broadcast(first, 0)
        difference = (flat - first).abs().max()
        dist.all_reduce(difference, op=dist.ReduceOp.MAX)
        if rank == 0:
            verdict = "ranks agree" if float(difference) == 0.0 else "RANKS DIFFER"
            print(
                f"{verdict} (largest difference between ranks' weights {float(difference):.3g})",
                flush=True,
            )
        # Every rank is done talking (the barrier), the checkpoint is written and closed:
        # end here, without the process group's and the interpreter's teardown. Under gloo a
        # rank was seen to abort in that teardown ("terminate called without an active
        # exception", SIGABRT) after all its work, which torchrun reports as a failed run.
        dist.barrier()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
