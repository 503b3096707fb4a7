"""Data options of every kind, changed as a person editing a project file would: values of
another type, at and past the table's edges, unknown names. A project file with them is
refused with the JSON path of the option, or loads, and then its data is made, or refused in
one line (issue 22, item 4: 11 of 50 such options gave exit 3)."""

from __future__ import annotations

import copy

import pytest

from rnn_builder.errors import MalformedProjectError, RNNBuilderError
from rnn_builder.files.data_options import OPTIONS, task_of_reference
from rnn_builder.files.data_paths import DataFolder
from rnn_builder.files.serialization import project_from_dict
from rnn_builder.training.tasks import check_data, make_dataset
from tests.fuzz.bases import data_folder, projects
from tests.fuzz.harness import batches, case, one_line, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=150, full=1_000, per_batch=100)


@pytest.fixture(scope="module")
def folder_and_bases(tmp_path_factory):
    folder = data_folder(tmp_path_factory.mktemp("options"))
    return folder, projects(folder)


def _edge_values(option) -> list:
    values = [option.default]
    if option.low is not None:
        values += [option.low, option.low - 1, option.low + 0.5]
    if option.high is not None:
        values += [option.high, option.high + 1, option.high - 0.5]
    values += list(option.choices) + [c.upper() for c in option.choices if c]
    return values


def _changed(mutator: Mutator, task: str | None, options: dict) -> dict:
    rng = mutator.rng
    options = copy.deepcopy(options)
    table = OPTIONS.get(task or "", {})
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if table and choice < 0.5:
            option = table[rng.choice(list(table))]
            options[option.name] = rng.choice(_edge_values(option))
        elif table and choice < 0.7:
            options[rng.choice(list(table))] = mutator.value()
        elif choice < 0.8:
            options[rng.choice(["path", "windw", "_keys", "colour", "format "])] = mutator.value()
        elif options:
            options = mutator.json(options)
            if not isinstance(options, dict):
                options = {}
    return options


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_changed_data_options(folder_and_bases, batch, count):
    folder, bases = folder_and_bases
    for seed in seeds("options", batch, count):
        mutator = Mutator(seed)
        document = copy.deepcopy(mutator.rng.choice(bases))
        dataset = document["dataset"]
        task = task_of_reference(dataset["kind"], dataset["name"])
        dataset["options"] = _changed(mutator, task, dataset["options"])
        with case("options", f"seed {seed} {task}: {str(dataset['options'])[:80]}") as figures:
            try:
                project = project_from_dict(document)
            except MalformedProjectError as error:
                one_line(str(error), f"seed {seed}")
                assert error.path.startswith("$.dataset"), (seed, str(error))
                figures.refused += 1
                continue
            check_data(project, DataFolder(folder))
            try:
                made = make_dataset(project, base=DataFolder(folder))
                assert len(made.train) > 0
                figures.deep += 1
            except RNNBuilderError as error:
                one_line(str(error), f"seed {seed}")
