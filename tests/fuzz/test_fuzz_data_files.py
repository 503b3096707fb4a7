"""Damaged data files of every kind — labelled, tagged, pairs, sequences (the readers of
``files.data_readers``), a CSV series and a text — read as training reads them, and by the
``data`` command (issue 22: at full count ≥ 150 files): each is read, or refused in one line
that names the file."""

from __future__ import annotations

import pytest

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.data_options import options_problem
from rnn_builder.training.summary import read_data
from rnn_builder.values import is_plain_value
from tests.fuzz.bases import OWN_DATA, data_folder
from tests.fuzz.harness import batches, case, cli, one_line, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=80, full=600, per_batch=60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return data_folder(tmp_path_factory.mktemp("data"))


def _shortened(mutator: Mutator, data: bytes) -> bytes:
    """Most cases on a few hundred lines (a case is read whole), some on the whole file."""
    if mutator.rng.random() < 0.2:
        return data
    lines = data.splitlines(keepends=True)
    return b"".join(lines[: mutator.rng.randint(2, 200)])


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_damaged_data_files(folder, batch, count):
    for seed in seeds("data", batch, count):
        mutator = Mutator(seed)
        _template, kind, name = mutator.rng.choice(OWN_DATA)
        damaged = _shortened(mutator, (folder / name).read_bytes())
        damaged = mutator.lines(damaged) if mutator.rng.random() < 0.5 else mutator.bytes(damaged)
        path = folder / f"case{seed}{''.join((folder / name).suffixes)}"
        path.write_bytes(damaged)
        with case("data files", f"seed {seed} {kind}") as figures:
            try:
                task, dataset = read_data(kind, path)
                figures.deep += 1
                # what reading worked out is kept with the project: it must read back
                learned = {
                    k: v for k, v in dataset.info["options"].items() if k != "path" and k[:1] != "_"
                }
                assert all(is_plain_value(v) for v in learned.values()), f"seed {seed}"
                assert options_problem(task.name, learned) is None, f"seed {seed}"
            except RNNBuilderError as error:
                one_line(str(error), f"seed {seed}")
                figures.refused += 1
            if seed % 4 == 0:
                result = cli("data", path, "--kind", kind, what=f"seed {seed}")
                assert result.code in (0, 1), result.err
                if result.code == 1:
                    assert result.err.count("\n") == 1, result.err
        path.unlink()
