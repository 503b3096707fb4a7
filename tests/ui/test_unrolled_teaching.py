"""The unrolled view and the canvas as a lecturer shows them (issue 24 §3): wires with
arrowheads, a bidirectional cell's reverse direction as clear as its forward one, input copies
that say the token they read, output copies with the true label beside the prediction, and the
folded canvas's cells with their recurrence drawn as a loop."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from rnn_builder.files.project import DatasetReference
from rnn_builder.files.templates import new_project
from rnn_builder.training.tasks import entities, sentiment
from ui.training.unrolled_items import (
    EDGE_COLORS,
    RIGHT_COLOR,
    WRONG_COLOR,
    ArrowItem,
    CopyItem,
)


def _box(item) -> QRectF:
    return QRectF(item.pos(), item.boundingRect().adjusted(4, 4, -4, -4).size())


def test_every_wire_arrives_with_an_arrowhead_and_passes_under_no_box(make_window):
    window = make_window("bidirectional_tagger")
    window.set_unrolled(True, 4)
    scene = window.unrolled_scene
    assert scene.edge_items and all(isinstance(e, ArrowItem) for e in scene.edge_items)
    boxes = {key: _box(item) for key, item in scene.copies.items()}
    for edge in scene.edge_items:
        source, target = edge.ends
        tip = edge.arrowhead()[0]
        assert boxes[target].adjusted(-1.5, -1.5, 1.5, 1.5).contains(tip), (edge.ends, tip)
        for k in range(5, 96):  # along the wire: under no box but its own two
            point = edge.path().pointAtPercent(k / 100)
            under = [key for key, box in boxes.items() if box.contains(point)]
            assert set(under) <= {source, target}, (edge.ends, under)


def test_the_reverse_direction_is_drawn_as_clearly_as_the_forward_one(make_window):
    window = make_window("bidirectional_tagger")
    window.set_unrolled(True, 4)
    scene = window.unrolled_scene
    forward = [e for e in scene.edge_items if e.kind == "state"]
    reverse = [e for e in scene.edge_items if e.kind == "reverse"]
    assert len(forward) == len(reverse) == 3
    assert {e.pen().widthF() for e in reverse} == {e.pen().widthF() for e in forward}
    assert reverse[0].pen().color() == EDGE_COLORS["reverse"] != forward[0].pen().color()
    for edge in reverse:  # from step t+1 to t: the arrow points left
        tip, *back = edge.arrowhead()
        assert all(tip.x() < point.x() for point in back)
        assert edge.ends[0].t == edge.ends[1].t + 1
    labels = sorted(label.text() for label in scene.direction_labels)
    assert labels == ["← tagger reverse", "→ tagger forward"]


def test_stepping_labels_inputs_with_their_tokens_and_outputs_with_the_truth(window, qtbot):
    """On the sentiment template: a sentence in, one label out."""
    live = window.live
    with qtbot.waitActive(window):
        window.activateWindow()
    live.example.setValue(3)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    scene, example = window.unrolled_scene, live.context.example(3)
    words = [live.context.token_name(int(t)) for t in example["words"]]
    inputs = sorted((k for k in scene.copies if k.node == "words"), key=lambda k: k.t)
    assert [scene.copies[k].reads for k in inputs] == words  # 'paris', not 'words t=0'
    assert all(scene.copies[k].reads == "" for k in scene.copies if k.node != "words")
    while not live.stepper.done:
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    (output,) = [k for k in scene.annotations]
    truth = scene.truths[output]
    expected = live.context.class_name(int(np.asarray(example["sentiment"]).reshape(-1)[0]))
    predicted = scene.annotations[output].text().split(" p = ")[0]
    assert truth.text().endswith(f"true: {expected}")
    right = predicted == expected
    assert truth.brush().color() == (RIGHT_COLOR if right else WRONG_COLOR)
    assert truth.text().startswith("✓" if right else "✗")
    # beside the prediction: just above it, over the same copy
    label = scene.annotations[output]
    assert truth.y() + truth.boundingRect().height() <= label.y() + 1
    assert abs(truth.sceneBoundingRect().center().x() - label.sceneBoundingRect().center().x()) < 2
    # a walk that ends takes them down
    live.reset_action.trigger()
    assert not scene.truths and all(item.reads == "" for item in scene.copies.values())


def test_the_words_a_walk_shows_follow_the_data_they_come_from(window, monkeypatch):
    """The words for tokens and classes are worked out once per data source, not at every
    step; a vocabulary renamed (the data chosen again) shows at the next step, undone the old
    one again, and another project shows its own. The tokens stay under the inputs as the walk
    steps: no input copy is drawn blank and then again."""
    live, scene, document = window.live, window.unrolled_scene, window.document
    live.example.setValue(3)
    assert live.step_forward()
    inputs = sorted((k for k in scene.copies if k.node == "words"), key=lambda k: k.t)
    words = [scene.copies[k].reads for k in inputs]
    assert words and set(words) <= set(sentiment.VOCABULARY)
    changed = []
    set_reads = CopyItem.set_reads

    def recorded(item, text):
        if text != item.reads:
            changed.append(item.key)
        set_reads(item, text)

    monkeypatch.setattr(CopyItem, "set_reads", recorded)
    assert live.step_forward() and live.step_forward()
    assert changed == []  # what they read does not change as the walk steps: not drawn again
    renamed = ["<unk>", *(w.upper() for w in sentiment.VOCABULARY[1:])]
    options = {"vocabulary": renamed, "classes": ["bad", "good"]}
    assert document.set_dataset(DatasetReference("labelled", "reviews.csv", options))
    assert live.step_forward()
    index = {word: i for i, word in enumerate(sentiment.VOCABULARY)}
    assert [scene.copies[k].reads for k in inputs] == [renamed[index[w]] for w in words]
    while live.step_forward():
        pass
    (truth,) = scene.truths.values()
    assert truth.text().split("true: ")[1] in {"bad", "good"}
    document.undo_stack.undo()
    assert live.step_back()
    assert [scene.copies[k].reads for k in inputs] == words
    assert scene.annotations == {}  # the prediction is not computed at this step
    assert live.context.class_name(1) == "positive"
    document.replace(new_project("many_to_many_equal"), None)
    assert live.context.token_name(0) == entities.VOCABULARY[0] != words[0]
    assert live.context.class_name(1) == entities.TAGS[1]


def _ink_above(window, node_id: str, color: QColor) -> int:
    """Pixels of ``color`` (roughly) in the 40 px above a node's card, drawn as the canvas
    draws them."""
    item = window.scene.node_items[node_id]
    card = item.mapRectToScene(item.card_rect())
    source = QRectF(card.left() - 20, card.top() - 40, card.width() + 40, 40)
    image = QImage(int(source.width()) * 2, int(source.height()) * 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    window.scene.render(painter, QRectF(image.rect()), source)
    painter.end()
    found = 0
    for x in range(image.width()):
        for y in range(image.height()):
            pixel = image.pixelColor(x, y)
            if (
                max(
                    abs(pixel.red() - color.red()),
                    abs(pixel.green() - color.green()),
                    abs(pixel.blue() - color.blue()),
                )
                < 40
            ):
                found += 1
    return found


def test_the_folded_canvas_draws_each_cells_recurrence_as_a_loop(make_window):
    window = make_window("bidirectional_tagger")
    cell = window.scene.node_items["tagger"]
    assert not cell.loop_path().isEmpty() and cell.loop_directions == ("forward", "reverse")
    assert "h(t−1)" in cell.loop_label() and "h(t+1)" in cell.loop_label()
    assert "The loop" in cell.toolTip()
    assert window.scene.node_items["embed"].loop_path().isEmpty()
    blue = QColor("#4f6fd6").darker(115)
    assert _ink_above(window, "tagger", blue) > 60  # the loop is drawn
    assert _ink_above(window, "embed", blue) == 0
    # one direction: one arrowhead, into the card's left; the label says t−1 only
    window.document.set_param("tagger", "bidirectional", False)
    assert cell.loop_directions == ("",) and cell.loop_label() == "h(t−1)"
    start, end = cell.loop_path().pointAtPercent(0), cell.loop_path().pointAtPercent(1)
    assert end.x() < start.x() and end.y() == start.y() == 0.0  # out at the right, in at left
