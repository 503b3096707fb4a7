"""Hostile weights files stay small: an ``.npz`` is checked from its ``.npy`` headers (names,
shapes, dtypes, sizes) before any array is read, so a zip bomb is refused at once."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import numpy as np
import pytest

from rnn_builder.cli.main import main
from rnn_builder.engine.executor import Executor, WeightsFileError
from rnn_builder.export.weights_import import load_weights
from rnn_builder.files import weights_file
from rnn_builder.files.disk import read_bounded
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import read_weights, save_weights
from tests.bombs import measured, npy_header, write_bomb


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
        load_weights(executor, bomb)
    print(cost)
    assert cost.seconds < 1.0, cost
    assert cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    message = str(refused.value)
    assert message.startswith(f"'{bomb}': 'reader.weight_ih' declares shape (1500000000,), 6.0 GB")
    assert message.endswith(f"the graph expects {expected}")


def test_good_weights_cost_no_more_than_twice_the_model_to_load(tmp_path):
    graph = new_project("many_to_one").graph
    graph.set_param("reader", "hidden_size", 1024)  # a model of 17 MB, above fixed costs
    executor = Executor(graph, seed=1)
    model_bytes = executor.store.flat.nbytes
    assert model_bytes > 16e6
    path = save_weights(executor, tmp_path / "w.npz")
    other = Executor(graph, seed=2)
    with measured() as cost:
        load_weights(other, path)
    print(cost)
    assert cost.traced_peak < 2 * model_bytes, cost
    np.testing.assert_array_equal(other.store.flat, executor.store.flat)


def test_evaluate_refuses_a_zip_bomb_at_once(executor, tmp_path, capsys):
    project = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    bomb = bomb_for(executor, tmp_path / "bomb.npz")
    with measured() as cost:
        code = main(["evaluate", str(project), "--weights", str(bomb)])
    print(cost)
    assert cost.seconds < 1.0 and cost.traced_peak < 100e6 and cost.rss_growth < 100e6, cost
    err = capsys.readouterr().err
    assert code == 2 and "'reader.weight_ih' declares shape (1500000000,), 6.0 GB" in err


def npz_of(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names asked for
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def npy_bytes(value) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value))
    return buffer.getvalue()


def refusal(path, *args, **kwargs) -> str:
    with pytest.raises(WeightsFileError) as refused:
        read_weights(path, *args, **kwargs)
    return str(refused.value)


def test_round_trips_stored_and_compressed_and_keeps_stale_weights_within_a_budget(tmp_path):
    values = {"a.weight": np.arange(6.0).reshape(2, 3), "a.bias": np.arange(3, dtype=np.int32)}
    for save_npz in (np.savez, np.savez_compressed):
        save_npz(tmp_path / "w.npz", **values)
        read = read_weights(tmp_path / "w.npz", {"a.weight": (2, 3), "a.bias": (3,)})
        assert set(read) == set(values)
        for name, value in values.items():
            np.testing.assert_array_equal(read[name], value)
            assert read[name].dtype == value.dtype
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "f.npz", w=fortran)
    np.testing.assert_array_equal(read_weights(tmp_path / "f.npz")["w"], fortran)
    # Not strict: an older shape and an unknown name are read, as the app keeps them.
    read = read_weights(tmp_path / "w.npz", {"a.weight": (4, 3)}, strict=False)
    assert set(read) == {"a.weight", "a.bias"}
    assert "do not fit this graph: missing b.bias; unknown a.bias" in refusal(
        tmp_path / "w.npz", {"a.weight": (2, 3), "b.bias": (3,)}
    )


def test_stale_or_graphless_weights_over_their_budget_are_refused(tmp_path, monkeypatch):
    np.savez(tmp_path / "w.npz", big=np.zeros(1000), small=np.zeros(10))
    monkeypatch.setattr(weights_file, "MAX_OTHER_BYTES", 7999)
    assert set(read_weights(tmp_path / "w.npz", {"big": (1000,)}, strict=False)) == {
        "big",
        "small",
    }  # what fits the graph does not count
    message = refusal(tmp_path / "w.npz")
    assert message.endswith("weights read without a graph may take at most 8.0 KB")
    message = refusal(tmp_path / "w.npz", {"big": (10,), "small": (10,)}, strict=False)
    assert "'big' declares shape (1000,), 8.0 KB (the graph expects (10,))" in message


def test_a_huge_listing_is_refused_before_zipfile_parses_it(tmp_path, monkeypatch):
    members = [(f"p{k}.npy", b"") for k in range(weights_file.MAX_MEMBERS + 1)]
    path = npz_of(tmp_path / "many.npz", members)

    def never(*_args, **_kwargs):
        raise AssertionError("zipfile parsed the listing")

    monkeypatch.setattr(weights_file.zipfile, "ZipFile", never)
    message = refusal(path)
    assert "lists 10,001 arrays in" in message and message.endswith("holds at most 10,000")


def test_what_is_not_a_plain_array_of_numbers_is_refused_by_name(tmp_path):
    header_only = npy_bytes(np.zeros((128, 16), np.float32))[:128]
    cases = {
        "objects": ([("w.npy", npy_bytes(np.array([{"a": 1}], dtype=object)))], "holds object"),
        "text": ([("w.npy", npy_bytes(np.array(["a"])))], "holds <U1 values, not numbers"),
        "complex": ([("w.npy", npy_bytes(np.zeros(2, complex)))], "not numbers"),
        "named": ([("readme.txt", b"hello")], "'readme.txt' is not a .npy array"),
        "twice": ([("w.npy", npy_bytes(1.0)), ("w.npy", npy_bytes(2.0))], "holds 'w' twice"),
        "short": ([("w.npy", header_only + bytes(10))], "but the zip holds 10 bytes for it"),
        "negative": (
            [("w.npy", npy_header((-1, -1)) + bytes(4))],
            "'w' declares an impossible shape (-1, -1)",
        ),
        "magic": ([("w.npy", b"not an array at all")], "not a readable .npz"),
    }
    for name, (members, expected) in cases.items():
        message = refusal(npz_of(tmp_path / f"{name}.npz", members))
        assert message.startswith(f"'{tmp_path / name}.npz'") and expected in message, name
    lzma = npz_of(tmp_path / "lzma.npz", [("w.npy", npy_bytes(1.0))], zipfile.ZIP_LZMA)
    assert "compressed in a way numpy never writes" in refusal(lzma)


def test_a_file_far_larger_than_its_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "w.npz", w=np.zeros(10))
    padded = tmp_path / "padded.npz"
    padded.write_bytes(bytes(2_000_000) + (tmp_path / "w.npz").read_bytes())  # zip allows it
    assert "is 2.0 MB, far more than the 80 bytes of weights it declares" in refusal(padded)


def test_bounded_reads_ask_for_what_the_file_holds_and_stop_at_the_limit(tmp_path):
    path = tmp_path / "grown.txt"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, 100, 1000) == b"x" * 100
    assert read_bounded(path, 10, 50) == b"x" * 51  # grew since its size was taken
    with measured() as cost:
        read_bounded(path, 100, 500_000_000)
    assert cost.traced_peak < 1e6, cost  # not the limit's 500 MB, allocated before reading


def test_a_header_that_changes_between_check_and_read_is_refused(tmp_path, monkeypatch):
    np.savez(tmp_path / "w.npz", w=np.zeros(10))
    real_header, seen = weights_file._header, []

    def rewritten(path, stream, name):  # as if the file were rewritten between the passes
        header = real_header(path, stream, name)
        seen.append(name)
        return header if len(seen) == 1 else header._replace(shape=(10**9,), size=8 * 10**9)

    monkeypatch.setattr(weights_file, "_header", rewritten)
    with measured() as cost:
        message = refusal(tmp_path / "w.npz")
    assert message.endswith("changed while it was read") and seen == ["w", "w"]
    assert cost.traced_peak < 1e6, cost


def npy_header_text(text: str, version: int = 1) -> bytes:
    """A ``.npy`` header holding ``text`` as its dictionary, padded as numpy pads it."""
    prefix = b"\x93NUMPY" + bytes([version, 0])
    length_format = "<H" if version == 1 else "<I"
    encoded = text.encode("latin1")
    padding = 64 - (len(prefix) + struct.calcsize(length_format) + len(encoded) + 1) % 64
    encoded += b" " * padding + b"\n"
    return prefix + struct.pack(length_format, len(encoded)) + encoded


DAMAGED_HEADERS = {
    "unclosed": "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
    "no dictionary": "['descr', '<f4']",
    "wrong keys": "{'descr': '<f4', 'shape': (2,)}",
    "expression": "{'descr': '<f4', 'fortran_order': False, 'shape': (2 ** 400,)}",
    "too complex": "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "-" * 9000 + "1,)}",
    "not a dtype": "{'descr': 5, 'fortran_order': False, 'shape': (2,)}",
    "trailing garbage": "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n 1\n",
}


@pytest.mark.parametrize("name", list(DAMAGED_HEADERS))
def test_a_damaged_npy_header_is_refused_in_one_line(tmp_path, name):
    path = npz_of(tmp_path / "w.npz", [("w.npy", npy_header_text(DAMAGED_HEADERS[name]))])
    message = refusal(path)
    assert message == f"'{path}': 'w' has a damaged .npy header (not the dictionary numpy writes)"


def test_evaluate_refuses_weights_with_a_damaged_header_as_unreadable(tmp_path, capsys):
    project = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    header = npy_header_text(DAMAGED_HEADERS["unclosed"])
    weights = npz_of(tmp_path / "w.npz", [("reader.weight_ih.npy", header)])
    code = main(["evaluate", str(project), "--weights", str(weights)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert err.endswith(
        "'reader.weight_ih' has a damaged .npy header (not the dictionary numpy writes)"
    )


def test_an_oversized_npy_header_is_refused_in_one_short_line(tmp_path):
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), " + " " * 12_000 + "}"
    for version in (1, 2):
        header = npy_header_text(text, version)
        length = len(header) - 8 - (2 if version == 1 else 4)
        path = npz_of(tmp_path / f"v{version}.npz", [("w.npy", header)])
        assert refusal(path) == (
            f"'{path}': 'w' has a .npy header of {length:,} bytes; a weights file's headers "
            "hold at most 10,000"
        )


def test_impossible_shapes_are_refused_by_name_without_printing_them_whole(tmp_path):
    shapes = {"huge": "(" + "9" * 400 + ",)", "true": "(True, 2)", "negative": "(-3, 2)"}
    for name, shape in shapes.items():
        text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}}}"
        path = npz_of(tmp_path / f"{name}.npz", [("w.npy", npy_header_text(text) + bytes(8))])
        message = refusal(path)
        assert message.startswith(f"'{path}': 'w' declares an impossible shape ("), message
        assert len(message) < len(str(path)) + 120, message


def test_a_header_numpy_parses_only_after_mending_is_read_without_a_warning(tmp_path):
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}"  # as Python 2 wrote it
    path = npz_of(tmp_path / "w.npz", [("w.npy", npy_header_text(text) + bytes(8))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read = read_weights(path)
    np.testing.assert_array_equal(read["w"], np.zeros(2, np.float32))


def test_float64_weights_beyond_float32_are_refused_without_warnings(executor, tmp_path, capsys):
    project = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    values = {k: v.astype(np.float64) for k, v in executor.parameters.items()}
    values["embed.weight"][0, 0] = 1e300
    np.savez(tmp_path / "w.npz", **values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would print lines before the error
        code = main(["evaluate", str(project), "--weights", str(tmp_path / "w.npz")])
        with pytest.raises(WeightsFileError) as refused:
            executor.set_parameters(values)
    err = capsys.readouterr().err.strip()
    expected = "'embed.weight' holds values beyond float32's range (up to 1e+300)"
    assert code == 2 and err.endswith(expected) and "\n" not in err, err
    assert str(refused.value) == expected
