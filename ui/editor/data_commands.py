"""The window's side of the data binding: the data's problems shown with the graph's, and the
graph fitted to the data as one undo step.

A mixin of :class:`~ui.main_window.MainWindow`, as :class:`~ui.editor.projects.ProjectCommands`
is: the window validates the graph, then asks :meth:`show_data_problems` for what its data
says, and the Problems panel, the node outlines and tooltips, the inspector and the status bar
show both. A message the status bar still shows about the data that was chosen before (a
refused Start) goes when the data changes.
"""

from __future__ import annotations

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.validation import ValidationReport
from rnn_builder.training.binding import DataCheck
from ui.editor.data_check import DataChecker, problems_by_node


class DataCommands:
    def _make_data_checker(self) -> None:
        self.data_checker = DataChecker(self.document, self)
        self.data_check: DataCheck | None = None
        self._data_outlined: set[str] = set()  # nodes outlined for a data problem
        self.data_checker.changed.connect(self._data_changed)
        self.problems.fit_requested.connect(self.fit_to_data)

    def show_data_problems(self, report: ValidationReport) -> DataCheck | None:
        """Check the data against the graph as ``report`` found it, and show what it says
        everywhere the graph's problems show (the panel is filled by the caller)."""
        check = self.data_checker.check() if report.ok else None
        self.data_check = check
        by_node = problems_by_node(check)
        items = self.scene.node_items
        for node_id in set(by_node) | self._data_outlined:
            if node_id in items:
                items[node_id].set_problems(report.problems_for(node_id) + by_node.get(node_id, []))
        self._data_outlined = set(by_node)
        self.inspector.set_data_check(check)
        return check

    @staticmethod
    def data_words(check: DataCheck | None) -> str:
        """The data's errors in the status bar's few words ("" when it fits)."""
        errors = check.errors if check is not None else []
        if not errors:
            return ""
        count = len(errors)
        return f" — the data does not fit: {count} problem{'s' if count != 1 else ''} to fix"

    def _data_changed(self) -> None:
        last = self.errors[-1][1] if self.errors else None
        if last is not None and self.statusBar().currentMessage() == last:
            self.statusBar().clearMessage()  # said about the data that was chosen before
        self._show_report(self.scene.report)

    def fit_to_data(self) -> bool:
        """Fit the graph to the project's data, as one undo step, and say what changed."""
        try:
            changes = self.document.fit_to_data()
        except RNNBuilderError as error:
            self.statusBar().showMessage(f"Cannot fit the graph to the data: {error}", 10000)
            return False
        if changes is None:  # refused (training runs)
            return False
        self.statusBar().showMessage(fit_words(self.document.graph, changes), 10000)
        return True


def fit_words(graph, changes) -> str:
    """What a fit did, in one line."""
    if not changes:
        return "The graph fits the data already (its binding is kept in the project)."
    said = ", ".join(
        f"{graph.node(c.node).name}.{c.name} = {c.value}" for c in changes if c.node in graph
    )
    return f"Fitted the graph to the data: {said}"
