"""``edit`` with operations and arguments drawn at random — ids that are there and are not,
ports, parameters, values of every type and size, settings, data, bindings — (issue 22: at full
count ≥ 700 cases). Each run saves every operation or none: exit 0 or 1 with a file that reads
back, or exit 2 in one line with the file as it was."""

from __future__ import annotations

import shutil

import pytest

from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project
from rnn_builder.training.tasks import TASKS
from tests.fuzz.bases import OWN_DATA, data_folder
from tests.fuzz.harness import batches, case, cli, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=150, full=800, per_batch=100)
TEMPLATES = ("many_to_one", "encoder_decoder_feedback", "one_to_many", "forecast")
OPERATIONS = {
    "add": (1, 2),
    "remove": (1, 1),
    "connect": (2, 2),
    "disconnect": (2, 2),
    "set": (3, 3),
    "rename": (2, 2),
    "move": (3, 3),
    "setting": (2, 2),
    "data": (1, 1),
    "data-file": (2, 2),
    "data-option": (1, 1),
    "bind": (2, 2),
    "fit": (0, 0),
    "title": (1, 1),
    "description": (1, 1),
}
TEXTS = [
    "",
    " ",
    "x",
    "-1",
    "0",
    "1e400",
    "9" * 400,
    "nan",
    "Infinity",
    "true",
    "null",
    "[1, 2]",
    '{"a": 1}',
    "line\nbreak",
    "tab\there",
    "é漢🙂",
    "\x1b[31mred",
    "a.b.c",
    ".",
    "..",
    "--add",
    "-o",
    "=",
    "window=5",
    "window=x",
    "path=/etc/passwd",
    "text_column=",
    "../../etc/passwd",
    "/proc/self/maps",
    "x" * 5000,
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = data_folder(tmp_path_factory.mktemp("edit"))
    for template in TEMPLATES:
        save(new_project(template), folder / f"{template}.json")
    return folder


def _argument(mutator: Mutator, names: list[str], role: str) -> str:
    rng = mutator.rng
    choice = rng.random()
    if role in ("node", "port") and choice < 0.85:
        name = rng.choice(names)
        if role == "port" or rng.random() < 0.3:
            name += "." + rng.choice(["x", "y", "h_0", "h_n", "c_n", "nope", ""])
        return name
    if role == "type" and choice < 0.85:
        return rng.choice(["lstm", "gru", "rnn", "dense", "output", "embedding", "repeat", "nope"])
    if role == "param" and choice < 0.85:
        return rng.choice(["hidden_size", "units", "vocabulary", "steps", "loss", "name", "bias"])
    if role == "setting" and choice < 0.85:
        return rng.choice(["epochs", "learning_rate", "batch_size", "optimizer", "seed", "x"])
    if role == "number" and choice < 0.85:
        return str(rng.choice([1, 2, 0, -5, 3.5, 10**6, 10**20, 1e300, 2**63]))
    if role == "kind" and choice < 0.85:
        return rng.choice(["labelled", "tagged", "pairs", "sequences", "csv", "text", "builtin"])
    if role == "file" and choice < 0.85:
        return rng.choice([name for _t, _k, name in OWN_DATA] + ["nothing.csv", "."])
    if role == "task" and choice < 0.85:
        return rng.choice([*TASKS, "nope"])
    if role == "option" and choice < 0.85:
        key = rng.choice(["text_column", "min_count", "tokens", "window", "validation", "x"])
        return f"{key}={rng.choice(['1', '0', 'words', 'review', '0.5', '[]', 'null', '{'])}"
    return rng.choice(TEXTS)


ROLES = {
    "add": ("type", "node"),
    "remove": ("node",),
    "connect": ("port", "port"),
    "disconnect": ("port", "port"),
    "set": ("node", "param", "number"),
    "rename": ("node", "text"),
    "move": ("node", "number", "number"),
    "setting": ("setting", "number"),
    "data": ("task",),
    "data-file": ("kind", "file"),
    "data-option": ("option",),
    "bind": ("text", "node"),
    "fit": (),
    "title": ("text",),
    "description": ("text",),
}


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_random_edits(folder, batch, count):
    for seed in seeds("edit", batch, count):
        mutator = Mutator(seed)
        rng = mutator.rng
        template = rng.choice(TEMPLATES)
        path = folder / f"case{seed}.json"
        shutil.copy(folder / f"{template}.json", path)
        names = [node.id for node in load(path).graph]
        argv: list[str] = []
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(list(OPERATIONS))
            roles = list(ROLES[name])
            if rng.random() < 0.05:  # a value too few or too many
                roles = roles[:-1] if roles and rng.random() < 0.5 else [*roles, "text"]
            argv += [f"--{name}", *(_argument(mutator, names, role) for role in roles)]
        if rng.random() < 0.2:
            argv.append("--dry-run")
        before = path.read_bytes()
        with case("edit", f"seed {seed}: {' '.join(argv)[:100]}") as figures:
            result = cli("edit", path, *argv, what=f"seed {seed}")
            if result.code == 2:
                figures.refused += 1
                assert path.read_bytes() == before, f"seed {seed}: changed, though refused"
            else:
                assert result.code in (0, 1), (seed, result)
                load(path)  # what was saved reads back
                figures.deep += 1
        path.unlink()
