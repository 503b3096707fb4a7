"""Damaged project files through every command that reads one: ``validate``, ``info``,
``unroll``, ``explain``, and ``train --steps 1`` for those that are valid (issue 22: at full
count ≥ 3,000 files). Each is refused in one line, or read and run; never an internal error."""

from __future__ import annotations

import pytest

from tests.fuzz.bases import data_folder, projects
from tests.fuzz.harness import batches, case, cli, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=120, full=3_000, per_batch=60)


@pytest.fixture(scope="module")
def folder_and_bases(tmp_path_factory):
    folder = data_folder(tmp_path_factory.mktemp("projects"))
    return folder, projects(folder)


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_damaged_project_files(folder_and_bases, batch, count):
    folder, bases = folder_and_bases
    for seed in seeds("projects", batch, count):
        mutator = Mutator(seed)
        base = mutator.rng.choice(bases)
        path = folder / f"case{seed}.json"
        path.write_bytes(mutator.json_text(base))
        with case("projects", f"seed {seed}") as figures:
            what = f"seed {seed}"
            valid = cli("validate", path, what=what)
            for command in ("info", "unroll", "explain"):
                cli(command, path, what=what)
            if valid.code == 0:
                trained = cli("train", path, "--steps", "1", "--weights", folder / "w.npz")
                figures.deep += trained.code == 0
            figures.refused += valid.code == 2
        path.unlink()
