"""Hostile weights files stay small: an ``.npz`` is checked from its ``.npy`` headers (names,
shapes, dtypes, sizes) before any array is read, so a zip bomb is refused at once."""

from __future__ import annotations

import pytest

from rnn_builder.cli import main
from rnn_builder.executor import Executor, WeightsFileError
from rnn_builder.serialization import save
from rnn_builder.templates import new_project
from tests.bombs import measured, write_bomb


@pytest.fixture
def executor() -> Executor:
    return Executor(new_project("many_to_one").graph, seed=1)


def bomb_for(executor: Executor, path, gigabytes: float = 6.0):
    """A weights file that fits ``executor`` but for ``reader.weight_ih``, which declares
    ``gigabytes`` GB of zeros."""
    others = {k: v for k, v in executor.parameters.items() if k != "reader.weight_ih"}
    return write_bomb(path, "reader.weight_ih", gigabytes, others)


def test_a_six_gigabyte_zip_bomb_is_refused_at_once(executor, tmp_path):
    bomb = bomb_for(executor, tmp_path / "bomb.npz")
    assert bomb.stat().st_size < 10e6  # small on disk
    expected = executor.parameters["reader.weight_ih"].shape
    with measured() as cost, pytest.raises(WeightsFileError) as refused:
        executor.load_weights(bomb)
    print(cost)
    assert cost.seconds < 1.0, cost
    assert cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    message = str(refused.value)
    assert message.startswith(f"'{bomb}': 'reader.weight_ih' declares shape (1500000000,), 6.0 GB")
    assert message.endswith(f"the graph expects {expected}")


def test_evaluate_refuses_a_zip_bomb_at_once(executor, tmp_path, capsys):
    project = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    bomb = bomb_for(executor, tmp_path / "bomb.npz")
    with measured() as cost:
        code = main(["evaluate", str(project), "--weights", str(bomb)])
    print(cost)
    assert cost.seconds < 1.0 and cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    err = capsys.readouterr().err
    assert code == 2 and "'reader.weight_ih' declares shape (1500000000,), 6.0 GB" in err
