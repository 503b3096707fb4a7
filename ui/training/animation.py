"""A stepping walk as an animated GIF, for slides (issue 24 §3): File → Export → Stepping
animation…, and ``python main.py PROJECT --unrolled T --animate OUT.gif``.

The walk is the one Step ▶ takes — the stepping toolbar's example, or the input typed into its
box — from its start: a first frame with nothing computed (the tokens the inputs will read
already under them), then one frame per step, each the unrolled view as stepping draws it (the
copies of the step lit, those not computed yet faded, predictions and true labels as they come)
with the toolbar's words for the step above it. Every frame shows the same part of the scene,
the whole walk's, so nothing jumps from one to the next.

Frames are drawn on the GUI thread, one per turn of the event loop (the window stays live, and
a progress dialog can cancel); a helper thread turns each into GIF's 255 colours as it comes,
and at the end writes them with Pillow's GIF encoder, looked at every 50 ms (no signal crosses
threads, as in :mod:`ui.editor.model_files`). Qt cannot write GIF; Pillow is imported only
here, when an animation is exported.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QProgressDialog

from rnn_builder.engine.threads import one_thread
from ui.canvas.export import scene_picture_rect
from ui.canvas.style import canvas_colors

if TYPE_CHECKING:
    import PIL.Image

FRAME_MS = 800  # each step's frame on screen
FIRST_MS, LAST_MS = 1500, 3000  # the walk's start and its end, held longer
WIDEST = 1920  # frames are drawn at up to 1.5× the scene's size, and no wider than this
CAPTION = 34  # pixels above the scene for the step's words
POLL_MS = 50
MAX_FRAMES = 2000  # a walk longer than this is refused: a GIF of it helps no one


def render_frame(scene, source: QRectF, scale: float, caption: str) -> QImage:
    """The unrolled scene's ``source`` rectangle at ``scale``, the step's words above it."""
    width = round(source.width() * scale)
    height = round(source.height() * scale) + CAPTION
    image = QImage(width, height, QImage.Format.Format_RGB32)
    colors = canvas_colors()
    image.fill(colors["background"])
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    font = QFont(painter.font())
    font.setPixelSize(18)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(colors["text"])
    painter.drawText(
        QRectF(12, 0, width - 24, CAPTION),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        caption,
    )
    scene.render(painter, QRectF(0, CAPTION, width, height - CAPTION), source)
    painter.end()
    return image


def _rgb_bytes(image: QImage) -> tuple[int, int, bytes]:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, line = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = bytes(rgb.constBits())
    if line != width * 3:  # rows padded to 4 bytes: take them out
        data = b"".join(data[y * line : y * line + width * 3] for y in range(height))
    return width, height, data


def palette_frame(width: int, height: int, data: bytes) -> PIL.Image.Image:
    """An RGB frame in GIF's own form, 255 colours and a byte a pixel, made on the helper
    thread as each frame is drawn. (Kept as RGB to the end, the 79 frames of the translation
    template's walk over 12 steps took the export's peak memory from 209 MB, the window's,
    to 428 MB; made as they come, to 308 MB, and the GIF written is the same, byte for byte.)"""
    from PIL import Image

    picture = Image.frombytes("RGB", (width, height), data)
    return picture.quantize(colors=255, method=Image.Quantize.MEDIANCUT)


def write_gif(frames: list[PIL.Image.Image], path: Path, durations: list[int]) -> Path:
    """Write palette frames as a looping animated GIF (run on the helper thread); a failed
    write leaves no file behind, and raises."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        frames[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
            disposal=1,
        )
        temporary.replace(path)  # whole or absent
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _write_when_made(frames: list[Future], path: Path, durations: list[int]) -> Path:
    # on the one helper thread, after every frame's palette_frame: each is done (or raises)
    return write_gif([frame.result() for frame in frames], path, durations)


class SteppingAnimation(QObject):
    """One export: walks, draws, writes. ``finished`` says the file written, or None (with
    :attr:`error` saying why, or cancelled)."""

    finished = Signal(object)

    def __init__(self, window, path: str | Path, show_progress: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.path = Path(path)
        self.error = ""
        self.frames: list[Future] = []  # each frame's palette picture, made on the helper
        self.frame_count = 0
        self._source = QRectF()
        self._scale = 1.0
        self._job: Future | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(0)
        self._tick.timeout.connect(self._next_frame)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._look)
        self._progress: QProgressDialog | None = None
        self._show_progress = show_progress
        self._cancelled = False

    def start(self) -> bool:
        """Start the walk from its beginning; False (with :attr:`error`) when it cannot."""
        live = self.window.live
        live.stop_stepping()
        if not live.step_forward():  # the walk starts (and takes its first step)
            self.error = "the network cannot be stepped through (see the Problems panel)"
            return False
        stepper = live.stepper
        if len(stepper.steps) + 1 > MAX_FRAMES:
            live.stop_stepping()
            self.error = (
                f"this walk has {len(stepper.steps):,} steps: an animation holds at most "
                f"{MAX_FRAMES:,} frames"
            )
            return False
        scene = self.window.unrolled_scene
        # the part of the scene every frame shows: the whole walk's, its predictions included
        while not stepper.done:
            live.step_forward()
        source = scene_picture_rect(scene)
        while stepper.position > 0:
            live.step_back()
        self._source = source.united(scene_picture_rect(scene))
        self._scale = min(1.5, WIDEST / max(self._source.width(), 1.0))
        self.frame_count = len(stepper.steps) + 1
        for item in scene.selectedItems():  # a picture shows the network, not the selection
            item.setSelected(False)
        if self._show_progress:
            self._progress = QProgressDialog(
                "Drawing the walk's frames…", "Cancel", 0, self.frame_count, self.window
            )
            self._progress.setWindowTitle("Stepping animation")
            self._progress.setWindowModality(Qt.WindowModality.WindowModal)
            self._progress.setMinimumDuration(400)
            self._progress.canceled.connect(self.cancel)
        self._draw()  # step 0: nothing computed yet
        self._tick.start()
        return True

    def cancel(self) -> None:
        self._cancelled = True

    def _draw(self) -> None:
        live = self.window.live
        caption = live.step_label.text().strip() or "step 0: nothing computed"
        image = render_frame(self.window.unrolled_scene, self._source, self._scale, caption)
        self.frames.append(one_thread("export").submit(palette_frame, *_rgb_bytes(image)))
        if self._progress is not None:
            self._progress.setValue(len(self.frames))

    def _next_frame(self) -> None:
        live = self.window.live
        if self._cancelled or live.stepper is None:  # cancelled, or the walk was ended
            self._tick.stop()
            self._end(None, "" if self._cancelled else "the walk was ended before its last step")
            return
        if live.stepper.done:
            self._tick.stop()
            durations = [FRAME_MS] * len(self.frames)
            durations[0], durations[-1] = FIRST_MS, LAST_MS
            self._job = one_thread("export").submit(
                _write_when_made, self.frames, self.path, durations
            )
            if self._progress is not None:
                self._progress.setLabelText("Writing the GIF…")
                self._progress.setRange(0, 0)
            self._poll.start()
            return
        live.step_forward()
        self._draw()

    def _look(self) -> None:
        job = self._job
        if job is None or not job.done():
            return
        self._poll.stop()
        try:
            written = job.result()
        except OSError as error:
            self._end(None, f"could not write '{self.path}': {error.strerror or error}")
            return
        except Exception as error:  # Pillow's own: said in one line, not raised from a slot
            self._end(None, f"could not write '{self.path}': {type(error).__name__}: {error}")
            return
        if self._cancelled:
            written.unlink(missing_ok=True)
            self._end(None, "")
            return
        self._end(written, "")

    def _end(self, written: Path | None, error: str) -> None:
        self.error = error
        for frame in self.frames:  # cancelled: the frames not yet made are not made
            frame.cancel()
        self.frames = []
        if self._progress is not None:
            self._progress.reset()
            self._progress.deleteLater()
            self._progress = None
        self.finished.emit(written)


def export_animation(
    window, path: str | Path, done: Callable[[Path | None], None], show_progress: bool = True
) -> bool:
    """Start exporting ``window``'s stepping walk to ``path``; ``done`` gets the file (or
    None). False, with the reason shown, when the walk cannot start."""
    animation = SteppingAnimation(window, path, show_progress)
    animation.finished.connect(done)
    if not animation.start():
        window.show_error("Cannot export the animation", animation.error)
        animation.deleteLater()
        return False
    window.animation = animation
    return True
