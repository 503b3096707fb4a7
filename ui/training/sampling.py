"""Sampling: the network generates from the training panel's prime and temperature (Train →
Sample, or the panel's Sample button), and the result is shown where the user is looking.

The panel's sample box asks and shows (:mod:`ui.training.sample_box`); this runs the network
the explaining views run (``AnalysisContext.executor``: the running training's latest weights
when the views have them, else the document's).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QDockWidget, QScrollArea

from rnn_builder.errors import RNNBuilderError
from rnn_builder.training.tasks import task_of
from ui.editor.data_trust import data_folder


def sample(window, context, sample_box) -> None:
    """Generate from the panel's prime and temperature, and show the result where the
    user is looking (the status bar) as well as in the panel, brought to the front: from
    the Train menu, a result only in a tab behind the inspector looked like nothing."""
    document = window.document
    try:
        context.dataset()  # works out what the task needs (a text's alphabet)
        task, options = task_of(document.project, data_folder(document))
        drawn = []  # what each step was drawn from, to show what the temperature does
        text = task.sample(
            context.executor(),
            sample_box.prime(),
            120,
            sample_box.temperature_value(),
            np.random.default_rng(),
            options,
            drawn=drawn,
        )
    except RNNBuilderError as error:
        window.show_error("Cannot sample", str(error))
        return
    sample_box.show_sample(text, task.sample_note, drawn)
    dock = window.findChild(QDockWidget, "training_dock")
    dock.show()
    dock.raise_()
    # the bars and the entropy in view, and the sample's line just above them, once the
    # panel is laid out with them (they were hidden until now)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    dock.findChild(QScrollArea).ensureWidgetVisible(sample_box.drawn_view, 0, 26)
    untrained = context.live_weights is None and document.weights_if_they_fit() is None
    said = "Sampled from the untrained network" if untrained else "Sampled"
    line = " ".join(text.split())  # the status bar holds one line
    window.statusBar().showMessage(f"{said}: {line[:90]}{'…' if len(line) > 90 else ''}", 20000)
