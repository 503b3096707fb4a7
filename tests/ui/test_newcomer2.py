"""What a newcomer meets (issue 15), the rest: Sample answers where the user looks and starts
from the user's chord or text; plots and texts that name the right metric and can be read;
probabilities that do not pass for confidence; and a start that imports no plotting.

Waits end on conditions (``qtbot.waitUntil``), never on fixed sleeps.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from rnn_builder.tasks import music


def _dock(window, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def _in_front(window, name: str) -> bool:
    """Whether a dock can be seen (a tab behind another stays "visible" to Qt)."""
    return not _dock(window, name).visibleRegion().isEmpty()


# --- 7. Sample -------------------------------------------------------------------------------


def test_sample_from_the_menu_shows_its_result_and_brings_the_panel_forward(make_window, qtbot):
    window = make_window("one_to_many")
    _dock(window, "inspector_dock").raise_()  # the training tab is behind the inspector
    qtbot.waitUntil(lambda: not _in_front(window, "training_dock"))
    window.live.sample_action.trigger()
    qtbot.waitUntil(lambda: _in_front(window, "training_dock"))
    notes = window.live.panel.sample_output.text()
    assert len(notes.split()) == 4, notes
    status = window.statusBar().currentMessage()
    assert notes in status and "untrained" in status, status
    panel_box = window.live.panel.sample_box
    assert not panel_box.visibleRegion().isEmpty()  # scrolled to, not below the fold
    assert not window.errors


def test_music_samples_the_chord_the_user_picks(make_window, qtbot, monkeypatch):
    window = make_window("one_to_many")
    panel = window.live.panel
    choice = panel.prime_choice
    assert choice.isVisibleTo(panel) and not panel.prime_text.isVisibleTo(panel)
    chords = [choice.itemText(i) for i in range(choice.count())]
    assert len(chords) == 36 and "A minor" in chords and "F# diminished" in chords
    assert choice.currentText() == "C major"  # what `sample` uses without --prime
    encoded = []
    encode = music.Arpeggio.encode

    def spy(self, text, options):
        encoded.append(text)
        return encode(self, text, options)

    monkeypatch.setattr(music.Arpeggio, "encode", spy)
    choice.setCurrentText("A minor")
    qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    assert encoded == ["A minor"]
    assert panel.sample_output.text()


def test_a_language_model_samples_after_the_users_text(make_window, qtbot):
    window = make_window("stacked_lstm")
    panel = window.live.panel
    assert panel.prime_text.isVisibleTo(panel) and not panel.prime_choice.isVisibleTo(panel)
    assert panel.prime_text.placeholderText() == "the "
    qtbot.keyClicks(panel.prime_text, "humpty ")
    qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    text = panel.sample_output.text()
    assert text.startswith("humpty ") and len(text) > len("humpty "), text
