"""One file to hand in and share (issue 24 §2): a bundle packs a project with its weights, runs
and own data file; every reading command opens it as it opens a project; a hostile bundle is
refused in one line before anything of it is trusted."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from rnn_builder.cli.main import main
from rnn_builder.files import bundle as bundles
from rnn_builder.files.bundle import BundleError, pack, unpack
from rnn_builder.files.serialization import dumps, load
from rnn_builder.files.templates import new_project

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    (folder / "reviews.csv").write_bytes((EXAMPLES / "reviews.csv").read_bytes())
    path = folder / "reviews.json"
    for argv in (
        ["new", "many_to_one", "-o", path],
        ["edit", path, "--data-file", "labelled", "reviews.csv", "--fit"],
        ["edit", path, "--setting", "epochs", "1"],
        ["train", path],
    ):
        assert main([str(a) for a in argv]) == 0, argv
    return path


def test_a_bundle_round_trip_evaluates_the_same_from_the_bundle_and_unpacked(
    trained, tmp_path, capsys
):
    bundle = tmp_path / "hand_in.rnnb"
    code, out, _ = run(capsys, "bundle", trained, "-o", bundle)
    assert code == 0 and "data/reviews.csv" in out
    with zipfile.ZipFile(bundle) as archive:
        names = sorted(archive.namelist())
    assert names == ["data/reviews.csv", "project.json", "project.npz", "project.runs.json"]
    code, beside, _ = run(capsys, "evaluate", trained, "--json")
    assert code == 0
    code, packed, _ = run(capsys, "evaluate", bundle, "--json")
    assert code == 0 and json.loads(packed) == json.loads(beside)
    code, out, _ = run(capsys, "unbundle", bundle, "-o", tmp_path / "unpacked")
    assert code == 0
    code, unpacked, _ = run(capsys, "evaluate", tmp_path / "unpacked" / "project.json", "--json")
    assert json.loads(unpacked) == json.loads(beside)
    assert load(tmp_path / "unpacked" / "project.json").dataset.name == "data/reviews.csv"
    # a bundle is read, not changed
    code, _, err = run(capsys, "train", bundle)
    assert code == 2 and "unpack the bundle first" in err


def _bundle_with(tmp_path, members: dict[str, bytes], name="bad.rnnb") -> Path:
    path = tmp_path / name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())
    return path


PROJECT = dumps(new_project("many_to_one")).encode()


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"project.json": PROJECT, "../evil.py": b"x"}, "which no bundle holds"),
        ({"project.json": PROJECT, "/etc/passwd": b"x"}, "which no bundle holds"),
        ({"project.json": PROJECT, "data/a.csv": b"x", "data/b.csv": b"y"}, "2 data files"),
        ({"project.npz": b"x"}, "holds no project.json"),
        ({"project.json": b"{broken"}, "project.json"),
        (
            {
                "project.json": dumps(new_project("many_to_one"))
                .replace('"kind": "builtin"', '"kind": "labelled"')
                .replace('"name": "sentiment"', '"name": "data/gone.csv"')
                .encode()
            },
            "does not hold",
        ),
    ],
)
def test_a_hostile_bundle_is_refused_in_one_line(tmp_path, members, words):
    path = _bundle_with(tmp_path, members)
    with pytest.raises(BundleError) as refused:
        unpack(path, tmp_path / "out")
    assert words in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "evil.py").exists()


def test_not_a_zip_and_a_member_that_unpacks_past_its_cap_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "plain.rnnb"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(BundleError, match="not a bundle RNN Builder can read"):
        unpack(path, tmp_path / "a")
    bomb = _bundle_with(tmp_path, {"project.json": PROJECT, "project.runs.json": b"0" * 5_000_000})
    monkeypatch.setattr(bundles, "MAX_RUNS_BYTES", 1_000_000)
    with pytest.raises(BundleError, match="larger than a bundle's 1,000,000 bytes"):
        unpack(bomb, tmp_path / "b")


def test_a_symlink_member_is_refused(tmp_path):
    path = tmp_path / "link.rnnb"
    info = zipfile.ZipInfo("data/link.csv")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.json", PROJECT)
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match="a folder or a link"):
        unpack(path, tmp_path / "out")


def test_pack_refuses_a_data_file_that_is_not_there(tmp_path):
    project = new_project("many_to_one")
    from rnn_builder.files.project import DatasetReference

    project.dataset = DatasetReference("labelled", "missing.csv", {})
    with pytest.raises(BundleError, match="is not there to pack"):
        pack(project, tmp_path / "x.rnnb", base=tmp_path)
    assert not (tmp_path / "x.rnnb").exists()
