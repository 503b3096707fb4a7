"""The desktop application (PySide6). The model lives in ``rnn_builder``; this package draws it
and turns user gestures into model edits."""
