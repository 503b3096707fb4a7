"""The project's own exceptions. Every message is written for the person using the app.

Everything the core raises on bad input derives from :class:`RNNBuilderError`, so a caller
(the GUI, the CLI) can turn any of them into words without a traceback.
"""

from __future__ import annotations

from rnn_builder.values import one_line


class RNNBuilderError(Exception):
    """Base of every error the core raises on purpose. Its message is one line whatever it
    quotes (a column's name, a cell or a label of a person's file can hold a line break): what
    would break the line is written as an escape (:func:`~rnn_builder.values.one_line`)."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (one_line(args[0]), *args[1:])
        super().__init__(*args)


# --- registry -------------------------------------------------------------------------------


class NodeRegistrationError(RNNBuilderError):
    """A node type could not be registered (for example its name is taken)."""


class UnknownNodeTypeError(RNNBuilderError):
    """A node type name that the registry does not know."""


# --- graph editing --------------------------------------------------------------------------


class GraphError(RNNBuilderError):
    """An edit to the graph was refused."""


class UnknownNodeError(GraphError):
    """A node id that is not in the graph."""


class DuplicateNodeError(GraphError):
    """A node id that is already in the graph."""


class InvalidParameterError(GraphError):
    """A parameter value of the wrong type, out of range, or a parameter the node lacks."""


class WiringError(GraphError):
    """Base of the reasons a wire cannot be made; the subclasses name the reason."""


class UnknownPortError(WiringError):
    """A port name that the node does not have."""


class WrongDirectionError(WiringError):
    """A wire must run from an output port to an input port."""


class PortKindMismatchError(WiringError):
    """A sequence wired to a vector port or the other way round."""


class PortAlreadyConnectedError(WiringError):
    """An input port takes exactly one wire."""


class SelfConnectionError(WiringError):
    """A node wired to itself: a loop needs at least a Delay in between."""


class DuplicateEdgeError(WiringError):
    """The same wire already exists."""


class UnknownEdgeError(GraphError):
    """A wire that is not in the graph."""


class GraphInvalidError(RNNBuilderError):
    """An operation needs a valid graph (unrolling, running) and this one has problems."""

    def __init__(self, message: str, problems: tuple = ()) -> None:
        super().__init__(message)
        self.problems = problems


class DataError(RNNBuilderError):
    """Data that cannot be read, or that does not fit the graph (a width, a vocabulary, a
    missing input); the message says which and what to change. ``quotes_file``: whether the
    message may quote what a data file holds (a line, a cell, a column's name), which is not
    said of a file outside the project's folder (``files.data_paths``)."""

    def __init__(self, message: str = "", quotes_file: bool = True) -> None:
        super().__init__(message)
        self.quotes_file = quotes_file


class UnrollError(RNNBuilderError):
    """Unrolling was asked for impossible lengths or unknown time axes."""


class InvalidSettingError(RNNBuilderError):
    """A project's training setting, data source or title that cannot take the value given;
    the message names the setting and what it takes."""


# --- files ----------------------------------------------------------------------------------


class ProjectFileError(RNNBuilderError):
    """A project file could not be read or written."""


class MalformedProjectError(ProjectFileError):
    """The file is not a well-formed project. The message says where in it in words (``graph
    → nodes → 3 → params``, :func:`place_in_words`); :attr:`path` is the JSON path."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(f"{place_in_words(path)}: {message}" if path else message)
        self.path = path
        self.detail = message


class DamagedProjectError(MalformedProjectError):
    """A project file that cannot be read as one: the message names the file, says where in
    it and what is wrong, and what to do (issue 23: "$: 'graph' is missing" named none)."""

    ADVICE = (
        "The file was left as it is. Open its recovery copy if RNN Builder offers one, or "
        "the last good save of it (a backup, or an earlier version)."
    )

    def __init__(self, file: str, error: MalformedProjectError) -> None:
        self.file = file
        where = f"{place_in_words(error.path)}: " if error.path else ""
        message = f"'{file}' is damaged: {where}{error.detail}. {self.ADVICE}"
        ProjectFileError.__init__(self, message)
        self.path = error.path
        self.detail = error.detail


def place_in_words(json_path: str) -> str:
    """A JSON path as a person reads it: ``$.graph.nodes[3].params`` → ``graph → nodes → 3 →
    params`` (the whole file, ``$``: "the file's top level")."""
    import re

    parts = [key or index for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", json_path)]
    return " → ".join(parts) if parts else "the file's top level"


class UnsupportedVersionError(ProjectFileError):
    """The file's format version is newer (or older) than this program can read."""


class WeightsFileError(RNNBuilderError):
    """A weights file that cannot be read, or that does not fit the graph."""


class ProjectSaveError(ProjectFileError):
    """Saving failed; the previous file on disk is unchanged."""


class TemplateNotFoundError(RNNBuilderError):
    """A template name that does not exist."""


class ExportError(RNNBuilderError):
    """A graph (or an export setting) that cannot be written in another format; the message
    names the node and the reason."""


class ExportFolderError(ExportError):
    """An export's output that cannot be written: the folder exists and is not empty, or its
    place is not writable (the CLI's exit status 2, as for any unwritable output)."""
