"""One file to hand in and share: a project with its weights, its runs and its own data file.

A bundle (``NAME.rnnb``) is a zip of exactly these members, stored under fixed names:

* ``project.json`` — the project (its data file, if one of the user's, named ``data/FILE``);
* ``project.npz`` and ``project.runs.json`` — its trained weights and runs, when it has them;
* ``data/FILE`` — the data file it trains on, when it is the user's (a built-in task has none).

:func:`pack` writes one atomically. :func:`unpack` reads one as untrusted, as every other file
the app reads: the zip's members are listed from its central directory and checked before a byte
of them is read — only the names above, no folders, no links, no path that leaves the bundle,
each member's size under its cap (declared and then as read, so a zip bomb stops at the cap) —
and the files are written into a folder of their own, where the project opens as if it had been
saved there. Every refusal is one line (:class:`BundleError`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from rnn_builder.errors import ProjectFileError
from rnn_builder.files.data_paths import DataFolder, data_folder
from rnn_builder.files.data_readers import MAX_DATA_BYTES
from rnn_builder.files.disk import atomic_write
from rnn_builder.files.project import FILE_KINDS, DatasetReference, Project
from rnn_builder.files.serialization import MAX_FILE_BYTES, dumps, load

SUFFIX = ".rnnb"
PROJECT, WEIGHTS, RUNS = "project.json", "project.npz", "project.runs.json"
MAX_WEIGHTS_BYTES = 2 * 1024**3
MAX_RUNS_BYTES = 64_000_000
MAX_BUNDLE_BYTES = MAX_FILE_BYTES + MAX_WEIGHTS_BYTES + MAX_RUNS_BYTES + MAX_DATA_BYTES
DATA_NAME = re.compile(r"^data/[A-Za-z0-9._ -]{1,200}$")


class BundleError(ProjectFileError):
    """A bundle that cannot be written or read; the message says which and why."""


def is_bundle(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() == SUFFIX


def pack(
    project: Project,
    target: str | os.PathLike[str],
    weights: Path | bytes | None = None,
    runs: Path | bytes | None = None,
    base: Path | DataFolder | None = None,
) -> list[str]:
    """Write ``project`` (and its weights and runs — a file's path, or the bytes the app holds
    — and its own data file, found
    relative to ``base``, the project's folder: a file outside it only if ``base`` allows it,
    ``files.data_paths``) as a bundle at ``target``; returns the members written."""
    target = Path(target)
    project = project.copy()
    members: dict[str, bytes] = {}
    reference = project.dataset
    if reference is not None and reference.kind in FILE_KINDS and reference.name:
        folder = data_folder(base)  # a file outside it would leave in the bundle: refused
        source = Path(reference.name) if folder is None else folder.check(reference.name).path
        name = "data/" + re.sub(r"[^A-Za-z0-9._ -]", "_", source.name)[:200]
        members[name] = _read(source, MAX_DATA_BYTES, "the data file")
        project.dataset = DatasetReference(
            reference.kind, name, dict(reference.options), dict(reference.binding)
        )
    project.companions = {}  # the bundle is the set: nothing beside it to claim
    members[PROJECT] = dumps(project).encode("utf-8")
    for name, given, cap, what in (
        (WEIGHTS, weights, MAX_WEIGHTS_BYTES, "the weights"),
        (RUNS, runs, MAX_RUNS_BYTES, "the runs"),
    ):
        if isinstance(given, bytes):
            members[name] = given
        elif given is not None and given.exists():
            members[name] = _read(given, cap, what)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (PROJECT, WEIGHTS, RUNS, *sorted(n for n in members if n.startswith("data/"))):
            if name in members:
                archive.writestr(name, members[name])
    atomic_write(target, buffer.getvalue())
    return [n for n in (PROJECT, WEIGHTS, RUNS) if n in members] + sorted(
        n for n in members if n.startswith("data/")
    )


def unpack(bundle: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None) -> Path:
    """The bundle's files, checked, written into ``folder`` (a new temporary folder when None,
    removed when the process ends); returns the path of its project file there."""
    bundle = Path(bundle)
    try:
        info = bundle.stat()
    except FileNotFoundError:
        raise BundleError(f"there is no file '{bundle}'") from None
    except OSError as error:
        raise BundleError(f"'{bundle}' cannot be read: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(f"'{bundle}' is not a file")
    if info.st_size > MAX_BUNDLE_BYTES:
        raise BundleError(f"'{bundle}' is {info.st_size / 1e9:.1f} GB, more than a bundle holds")
    target = Path(folder) if folder is not None else _temporary_folder()
    target.mkdir(parents=True, exist_ok=True)
    try:
        with open(bundle, "rb") as stream, zipfile.ZipFile(stream) as archive:
            members = _checked_members(bundle, archive)
            for member, cap in members:
                _extract(bundle, archive, member, cap, target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise BundleError(f"'{bundle}' is not a bundle RNN Builder can read ({error})") from None
    project_path = target / PROJECT
    if not project_path.exists():
        raise BundleError(f"'{bundle}' holds no {PROJECT}: not a bundle of a project")
    try:
        project = load(project_path)  # checked as any project file
    except BundleError:
        raise
    except ProjectFileError as error:
        raise BundleError(f"'{bundle}': its {PROJECT} cannot be opened: {error}") from None
    reference = project.dataset
    own_data = reference is not None and reference.kind in FILE_KINDS and reference.name
    if own_data and (
        not DATA_NAME.match(reference.name) or not (target / reference.name).is_file()
    ):
        raise BundleError(
            f"'{bundle}': its project reads data the bundle does not hold "
            f"({reference.name[:60]!r}): a bundle carries its own data file"
        )
    return project_path


def _checked_members(bundle: Path, archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, int]]:
    infos = archive.infolist()
    if len(infos) > 8:
        raise BundleError(f"'{bundle}' holds {len(infos)} files; a bundle holds at most 4")
    caps = {PROJECT: MAX_FILE_BYTES, WEIGHTS: MAX_WEIGHTS_BYTES, RUNS: MAX_RUNS_BYTES}
    checked, data = [], 0
    for info in infos:
        name = info.filename
        if name in caps:
            cap = caps[name]
        elif DATA_NAME.match(name) and ".." not in name:
            cap, data = MAX_DATA_BYTES, data + 1
        else:
            raise BundleError(
                f"'{bundle}' holds {name[:60]!r}, which no bundle holds: only {PROJECT}, "
                f"{WEIGHTS}, {RUNS} and one data/FILE"
            )
        mode = info.external_attr >> 16
        if info.is_dir() or stat.S_ISLNK(mode):
            raise BundleError(f"'{bundle}' holds a folder or a link ({name[:60]!r})")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"'{bundle}': {name[:60]!r} is compressed in a way it cannot read")
        if info.file_size > cap:
            raise BundleError(f"'{bundle}': {name[:60]!r} is larger than a bundle's {cap:,} bytes")
        checked.append((info, cap))
    if data > 1:
        raise BundleError(f"'{bundle}' holds {data} data files; a bundle carries one")
    return checked


def _extract(bundle: Path, archive: zipfile.ZipFile, info, cap: int, folder: Path) -> None:
    """One member, read in blocks and stopped at its cap whatever its header says."""
    destination = folder / info.filename
    destination.parent.mkdir(exist_ok=True)
    written = 0
    with archive.open(info) as source, open(destination, "wb") as sink:
        while block := source.read(1 << 20):
            written += len(block)
            if written > cap:
                raise BundleError(
                    f"'{bundle}': {info.filename[:60]!r} unpacks to more than {cap:,} bytes"
                )
            sink.write(block)


def _read(path: Path, cap: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > cap:
            raise BundleError(f"{what} '{path}' is larger than a bundle holds ({cap:,} bytes)")
        return path.read_bytes()
    except FileNotFoundError:
        raise BundleError(f"{what} '{path}' is not there to pack") from None
    except OSError as error:
        raise BundleError(f"{what} '{path}' cannot be read: {error.strerror or error}") from None


_folders: list[Path] = []


def _temporary_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rnn-builder-bundle-"))
    if not _folders:
        import atexit

        atexit.register(_remove_folders)
    _folders.append(folder)
    return folder


def _remove_folders() -> None:
    for folder in _folders:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
