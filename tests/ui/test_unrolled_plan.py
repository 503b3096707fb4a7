"""The unrolled view draws the plan that runs: one labelled band per segment, behind its copies."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from rnn_builder.graph.plan import STEP_LOOP, WHOLE_SEQUENCE, plan_for
from ui.training.unrolled_items import BOX_H, BOX_W


def _box(item) -> QRectF:
    return QRectF(item.pos().x(), item.pos().y(), BOX_W, BOX_H)


def _bands_of(window):
    scene = window.unrolled_scene
    assert window.unrolled_action.isChecked() and scene.unrolled is not None
    plan = plan_for(window.document.graph, window.scene.report)  # what the executor runs
    assert [band.segment.segment for band in scene.bands] == list(plan.segments)
    assert [band.segment for band in scene.bands] == list(scene.unrolled.plan)
    for band in scene.bands:
        inside = [key for key, item in scene.copies.items() if band.rect.contains(_box(item))]
        assert set(band.segment.copies) <= set(inside), band.label  # around all its copies
        if not band.segment.is_loop:  # a whole-sequence band holds its own copies only
            assert set(inside) == set(band.segment.copies), band.label
        assert all(band.zValue() < scene.copies[key].zValue() for key in band.segment.copies)
    return scene.bands


def test_the_encoder_decoder_is_drawn_with_its_step_loop(make_window):
    window = make_window("encoder_decoder_feedback")
    window.set_unrolled(True, steps=5)
    bands = _bands_of(window)
    loops = [band for band in bands if band.segment.kind == STEP_LOOP]
    assert len(loops) == 1
    (loop,) = loops
    assert set(loop.segment.nodes) == {"previous_digit", "decoder", "digit_scores"}
    assert loop.label == "step loop · decoder → digit_scores ↻ previous_digit · 4 steps"
    assert "step by step" in loop.toolTip()
    encoder = next(band for band in bands if band.segment.nodes == ("encoder",))
    assert encoder.label == "whole sequence · encoder · 5 steps"
    # a new T lays the plan out again
    window.steps.setValue(3)
    assert "whole sequence · encoder · 3 steps" in [band.label for band in _bands_of(window)]


@pytest.mark.parametrize("template", ["many_to_many_equal", "bidirectional_tagger"])
def test_a_tagging_template_is_drawn_as_whole_sequence_bands(make_window, template):
    window = make_window(template)
    window.set_unrolled(True, steps=4)
    bands = _bands_of(window)
    assert bands and all(band.segment.kind == WHOLE_SEQUENCE for band in bands)
    assert all(band.label.startswith("whole sequence · ") for band in bands)
    assert len(bands) == len(window.document.graph.nodes)  # each node one call over 4 steps
    assert all(band.label.split(" · ")[2].startswith("4 steps") for band in bands)
