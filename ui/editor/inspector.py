"""The inspector: the selected node's name and parameters, edited with widgets that cannot hold
an invalid value (spin boxes bounded by the parameter's range, lists of the allowed choices).
Each change is one undo step. An input node or an Output also shows which field of the data
feeds it, in a list of the data's fields: choosing another binds it (one undo step). With
nothing selected it describes the whole network."""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.explain import explain_graph, explain_node
from rnn_builder.graph.nodes import ParamSpec
from rnn_builder.values import MAX_TEXT
from ui.editor.refusals import DoubleSpinBox, SpinBox
from ui.editor.undo_keys import UndoKeysToWindow
from ui.wheel import wheel_only_when_focused

INT_LIMIT = 2**31 - 1


class Inspector(QWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.document = document
        self.node_id: str | None = None
        self.report = None
        self.stepper = None  # in stepping mode: the numbers at the current step are shown
        self.data_check = None  # the data's fit to the graph (ui.editor.data_check)
        self.data_field: QComboBox | None = None  # the field that feeds the node, if any
        self.editors: dict[str, QWidget] = {}
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.details = QLabel()
        self.details.setObjectName("inspector_details")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.error = QLabel()
        self.error.setObjectName("inspector_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d0342c;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.details)
        layout.addStretch(1)
        self._subscribed = None
        self._project = None  # the project whose title and description events are followed
        self._undo_keys = UndoKeysToWindow(self)  # a typed value is the document's undo step
        self.show_node(None)

    # --- what is shown --------------------------------------------------------------------

    def show_node(self, node_id: str | None, count: int = 1) -> None:
        self._follow(self.document.graph)
        graph = self.document.graph
        self.node_id = node_id if node_id in graph else None
        self._clear_form()
        self.error.clear()
        if self.node_id is None:
            if count <= 1:
                self._project_form()
            self._describe_graph(count)
            return
        node = graph.node(self.node_id)
        node_type = graph.node_type(self.node_id)
        self.header.setText(
            f"<h3>{html.escape(node.name)}</h3><b>{node_type.title}</b> — "
            f"{html.escape(node_type.description)}"
        )
        name = QLineEdit(node.name)
        name.setObjectName("inspector_name")
        name.setToolTip("The node's name, shown on the canvas and in messages")
        name.editingFinished.connect(lambda: self._rename(name.text()))
        self.form.addRow("Name", name)
        self.editors["name"] = name
        for spec in node_type.params:
            editor = self._editor(spec, node.params[spec.name])
            editor.setObjectName(f"param_{spec.name}")
            editor.installEventFilter(self._undo_keys)
            wheel_only_when_focused(editor)  # the inspector scrolls: the wheel is its
            if isinstance(editor, SpinBox | DoubleSpinBox):  # a number out of range: why
                editor.why, editor.say = spec.range_problem, self.error.setText
            editor.setToolTip(spec.description)
            label = QLabel(spec.label)
            label.setToolTip(spec.description)
            self.form.addRow(label, editor)
            self.editors[spec.name] = editor
            problem = spec.range_problem(node.params[spec.name])
            if problem:
                self.error.setText(f"{problem}: choose a value in range.")
        self._data_field_row()
        self._describe_node()

    def show_step(self, stepper) -> None:
        """Stepping mode (a :class:`rnn_builder.engine.stepping.Stepper`), or None to leave it."""
        self.stepper = stepper
        if self.node_id is not None:
            self._describe_node()

    def set_data_check(self, check) -> None:
        """The project's data checked against the graph (None: no data, or the graph has
        problems first): the selected node's field and data problems follow it."""
        self.data_check = check
        if self.node_id is not None:
            self._show_data_field()

    # --- the data field that feeds an input or an Output ------------------------------------

    def _fields_for(self, node_id: str) -> list[str] | None:
        """The data's fields that can feed ``node_id``, or None when it takes none (not an
        input or an Output) or the data's fields are not known."""
        check, graph = self.data_check, self.document.graph
        if check is None or check.spec is None or node_id not in graph:
            return None
        if graph.node_type(node_id).is_input:
            return list(check.spec.inputs)
        if node_id in {n.id for n in graph.outputs()}:
            return list(check.spec.targets)
        return None

    def _data_field_row(self) -> None:
        fields = self._fields_for(self.node_id)
        self.data_field = None
        if fields is None:
            return
        combo = QComboBox()
        combo.setObjectName("inspector_data_field")
        combo.setToolTip(
            "The field of the data this node takes: choose another to bind it (one undo step); "
            "the field it had moves to the node the new one leaves"
        )
        combo.installEventFilter(self._undo_keys)
        wheel_only_when_focused(combo)
        combo.activated.connect(lambda _index: self._bind(combo.currentData()))
        self.form.addRow("Data field", combo)
        self.data_field = combo
        self._show_data_field()

    def _show_data_field(self) -> None:
        """The field that feeds the selected node now, in a list of those that could."""
        fields = self._fields_for(self.node_id)
        if (fields is None) != (self.data_field is None):
            self.show_node(self.node_id)  # it takes data now, or no longer
            return
        combo = self.data_field
        if combo is None:
            return
        current = self.data_check.binding.field_for(self.node_id)
        combo.blockSignals(True)
        combo.clear()
        if current is None:
            combo.addItem("— none —", None)
        for name in fields:
            combo.addItem(name, name)
        combo.setCurrentIndex(combo.findData(current))
        combo.blockSignals(False)

    def _bind(self, field: str | None) -> None:
        if field is None or self.node_id is None:
            return
        try:
            self.document.bind_field(field, self.node_id)
            self.error.clear()
        except RNNBuilderError as error:
            self.error.setText(str(error))
        self._show_data_field()  # refused or not: the binding as it is

    def set_report(self, report) -> None:
        self.report = report
        if self.node_id is not None:
            self._describe_node()
        else:
            self._describe_graph(0)

    def _describe_node(self) -> None:
        graph, report = self.document.graph, self.report
        if report is None or self.node_id not in graph:
            return
        node_type = graph.node_type(self.node_id)
        rows = []
        for port in node_type.inputs:
            shape = report.shapes.inputs.get((self.node_id, port.name))
            shown = shape.label() if shape and shape.kind else "not wired"
            rows.append(f"in <b>{port.name}</b>: {shown}")
        for port in node_type.outputs:
            shape = report.shapes.outputs.get((self.node_id, port.name))
            shown = shape.label() if shape and shape.kind else "?"
            rows.append(f"out <b>{port.name}</b>: {shown}")
        tensors = report.parameter_shapes.get(self.node_id, {})
        if tensors:
            count = sum(math.prod(s) for s in tensors.values())
            listed = ", ".join(f"{n} {tuple(s)}" for n, s in tensors.items())
            rows.append(f"<b>{count:,} weights</b>: {html.escape(listed)}")
        data = self.data_check.problems if self.data_check is not None else []
        for problem in report.problems_for(self.node_id) + [
            p for p in data if p.node == self.node_id
        ]:
            mark = "✖" if problem.severity == "error" else "⚠"
            rows.append(f"<span style='color:#d0342c'>{mark} {html.escape(problem.message)}</span>")
        rows.extend(self._step_rows())  # stepping: the numbers first, the equations after
        if report.ok:
            equations = explain_node(graph, report, self.node_id)
            if equations:
                rows.append("<br><b>What one step computes</b>")
                for formula, meaning in equations:
                    rows.append(
                        f"<code>{html.escape(formula)}</code><br>"
                        f"<small>&nbsp;&nbsp;{html.escape(meaning)}</small>"
                    )
        self.details.setText("<br>".join(rows))

    def _step_rows(self) -> list[str]:
        """In stepping mode, what the selected node computed at the latest step it reached."""
        stepper = self.stepper
        if stepper is None:
            return []
        latest = []
        for step in reversed(stepper.steps[: stepper.position]):
            latest = [k for k in step.copies if k.node == self.node_id]
            if latest:
                break
        if not latest:
            return ["<br><b>Stepping:</b> not computed yet"]
        rows = []
        for key in latest:
            where = "once" if key.t is None else f"t = {key.t}"
            if key.direction == "reverse":
                where += " (reverse)"
            rows.append(f"<br><b>At {where}</b>")
            for name, value in stepper.details[key].items():
                array = np.asarray(value).reshape(-1)
                shown = np.array2string(array[:8], precision=3, separator=" ", suppress_small=True)
                more = f" … ({array.size})" if array.size > 8 else ""
                rows.append(f"<code>{html.escape(name)} = {html.escape(shown)}{more}</code>")
        return rows

    def _project_form(self) -> None:
        """With nothing selected: the project's title and description, each edit one undo
        step (a title on leaving its line, a description on leaving its box)."""
        project = self.document.project
        title = QLineEdit(project.title)
        title.setObjectName("project_title")
        title.setMaxLength(MAX_TEXT)
        title.setToolTip("The project's name, shown in the window's title until it is saved")
        title.editingFinished.connect(lambda: self._set_project_text("title", title.text()))
        description = _DescriptionBox(project.description)
        description.setObjectName("project_description")
        description.setToolTip("What the network is for, shown to whoever opens the project")
        description.left.connect(
            lambda: self._set_project_text("description", description.toPlainText())
        )
        self.form.addRow("Title", title)
        self.form.addRow("Description", description)
        self.editors = {"title": title, "description": description}

    def _set_project_text(self, name: str, text: str) -> None:
        try:
            self.document.set_project_text(name, text)
            self.error.clear()
        except RNNBuilderError as error:
            self.error.setText(str(error))
            self._show_project_text(name)

    def _project_text_changed(self, *_args) -> None:
        if self.node_id is None and "title" in self.editors:
            self._show_project_text("title")
            self._show_project_text("description")

    def _show_project_text(self, name: str) -> None:
        """The project's text in its editor, unless the editor already holds it."""
        editor, text = self.editors[name], getattr(self.document.project, name)
        shown = editor.text() if isinstance(editor, QLineEdit) else editor.toPlainText()
        if shown != text:
            editor.blockSignals(True)
            if isinstance(editor, QLineEdit):
                editor.setText(text)
            else:
                editor.setPlainText(text)
            editor.blockSignals(False)

    def _describe_graph(self, count: int) -> None:
        if count > 1:
            self.header.setText(f"<h3>{count} nodes selected</h3>")
            self.details.setText("")
            return
        self.header.setText("<h3>This project</h3>")
        project = self.document.project
        if self.report is None or not self.report.ok:
            self.details.setText("Select a node to edit it.")
            return
        paragraphs = explain_graph(project.graph, self.report, _predicts_next_step(project))
        text = "<br><br>".join(
            f"<b>{html.escape(title)}</b><br>{html.escape(body)}" for title, body in paragraphs[:1]
        )
        if len(paragraphs) > 1:
            text += "<br><br><b>Limits to watch for</b><ul style='margin-left:-20px'>"
            text += "".join(
                f"<li><b>{html.escape(title)}</b>: {html.escape(body)}</li>"
                for title, body in paragraphs[1:]
            )
            text += "</ul>"
        self.details.setText(text + "<p>Select a node to edit it and see its equations.</p>")

    # --- editors --------------------------------------------------------------------------

    def _editor(self, spec: ParamSpec, value) -> QWidget:
        commit = self._committer(spec.name)
        if spec.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(commit)
            return box
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            if value in spec.choices:
                combo.setCurrentText(value)
            combo.currentTextChanged.connect(commit)
            return combo
        if spec.kind == "int":
            spin = SpinBox()
            spin.setRange(
                int(spec.minimum if spec.minimum is not None else -INT_LIMIT),
                int(min(spec.maximum if spec.maximum is not None else INT_LIMIT, INT_LIMIT)),
            )
            spin.setValue(int(value))
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(commit)
            return spin
        if spec.kind == "float":
            spin = DoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(
                spec.minimum if spec.minimum is not None else -1e9,
                spec.maximum if spec.maximum is not None else 1e9,
            )
            spin.setSingleStep(0.1)
            spin.setValue(float(value))
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(commit)
            return spin
        line = QLineEdit(str(value))
        line.setMaxLength(spec.max_length)
        line.editingFinished.connect(lambda: commit(line.text()))
        return line

    def _committer(self, name: str):
        def commit(value) -> None:
            if self.node_id is None:
                return
            try:
                if not self.document.set_param(self.node_id, name, value):
                    self._reload()  # refused (training runs): show the model's value again
                self.error.clear()
            except RNNBuilderError as error:
                self.error.setText(str(error))
                self._reload()

        return commit

    def _rename(self, text: str) -> None:
        if self.node_id is None:
            return
        try:
            self.document.rename(self.node_id, text)
            self.error.clear()
        except RNNBuilderError as error:
            self.error.setText(str(error))
            self._reload()

    # --- following the model --------------------------------------------------------------

    def _follow(self, graph) -> None:
        project = self.document.project
        if self._project is not project:
            if self._project is not None:
                self._project.title_changed.unsubscribe(self._project_text_changed)
                self._project.description_changed.unsubscribe(self._project_text_changed)
            project.title_changed.subscribe(self._project_text_changed)
            project.description_changed.subscribe(self._project_text_changed)
            self._project = project
        if self._subscribed is graph:
            return
        if self._subscribed is not None:
            self._subscribed.param_changed.unsubscribe(self._changed)
            self._subscribed.name_changed.unsubscribe(self._changed)
            self._subscribed.node_removed.unsubscribe(self._removed)
        graph.param_changed.subscribe(self._changed)
        graph.name_changed.subscribe(self._changed)
        graph.node_removed.subscribe(self._removed)
        self._subscribed = graph

    def _changed(self, node_id: str, *_args) -> None:
        if node_id == self.node_id:
            self._reload()

    def _removed(self, node) -> None:
        if node.id == self.node_id:
            self.show_node(None)

    def _reload(self) -> None:
        """Put the model's values back into the editors (after undo, or a refused edit)."""
        if self.node_id is None or self.node_id not in self.document.graph:
            return
        node = self.document.graph.node(self.node_id)
        for name, editor in self.editors.items():
            value = node.name if name == "name" else node.params[name]
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentText(str(value))
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                editor.setValue(value)
            else:
                editor.setText(str(value))
            editor.blockSignals(False)
        header = self.header.text()
        if "<h3>" in header:
            self.header.setText(f"<h3>{html.escape(node.name)}</h3>" + header.split("</h3>", 1)[1])
        self._describe_node()

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self.data_field = None


class _DescriptionBox(QPlainTextEdit):
    """A few lines of plain text that say when the person leaves them (then the edit is one
    undo step, not one per key)."""

    left = Signal()

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setTabChangesFocus(True)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.left.emit()


def _predicts_next_step(project) -> bool:
    """Whether the project's data asks for the next step of its input (then no read-ahead
    advice: it would read the answer)."""
    from rnn_builder.training.tasks import task_of

    try:
        task, _options = task_of(project)
    except RNNBuilderError:
        return False
    return task.predicts_next_step
