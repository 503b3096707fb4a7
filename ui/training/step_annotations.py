"""What a stepping walk shows on the unrolled view, worked out from the stepper: the token each
input copy reads, the values each computed copy holds (in its tooltip), each output's prediction
with the true label above it, and the step in words for the stepping toolbar.

Plain functions of the stepper and the scene: :class:`ui.training.live.Live` walks the example
and calls them to say where the walk is.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np

from rnn_builder.graph.unroll import UnrolledKey


def input_reads(stepper, names, keys) -> dict[UnrolledKey, str]:
    """What each input copy among ``keys`` reads of the walk's example: its token (``paris``,
    not ``words t=0``, in the words of ``names``), or its first values; nothing for a padded
    step."""
    found: dict[UnrolledKey, str] = {}
    for key in keys:
        value = stepper.batch.inputs.get(key.node)
        if value is None:
            continue
        value = np.asarray(value)
        if key.t is not None and value.ndim >= 2 and key.t < value.shape[0]:
            at = value[key.t, 0]
        elif key.t is None and value.ndim == 2:
            at = value[0]
        else:
            continue
        if value.dtype.kind in "iu" and np.ndim(at) == 0:
            if int(at) >= 0:
                found[key] = names.token_name(int(at))
        else:
            numbers = np.asarray(at, dtype=float).reshape(-1)
            more = "…" if numbers.size > 3 else ""
            found[key] = ", ".join(f"{v:.2f}" for v in numbers[:3]) + more
    return found


def show_values(copies: dict, details: dict) -> None:
    """Each copy's tooltip with the values it computed (``details``, by copy), or that it is
    not computed yet."""
    for key, item in copies.items():
        detail = details.get(key)
        if detail is not None and detail is item.values:
            # computed at an earlier step (a step back drops it, a step forward makes a
            # new one): its tip stands. Written again at every step, the tips took 2.5 s
            # of the 3.5 s of stepping in the translation template's 79-frame animation.
            continue
        item.values = detail
        if detail is not None:
            item.setToolTip(item.base_tip + "<br>" + values_html(detail))
        else:
            item.setToolTip(item.base_tip + "<br><i>not computed yet</i>")


def forget_values(copies: dict) -> None:
    """The walk ended: each copy's tooltip says only what the copy is."""
    for item in copies.values():
        item.values = None
        item.setToolTip(item.base_tip)


def annotate_outputs(scene, stepper, graph, class_name: Callable[[int], str]) -> None:
    """Over each output copy computed so far, its prediction, and its true label above it."""
    for key, detail in stepper.details.items():
        if "prediction" in detail and key in scene.copies:
            truth, right = true_label(stepper, graph, key, detail["prediction"], class_name)
            text = prediction_text(graph, key, detail["prediction"], class_name)
            scene.annotate(key, text, truth, right)


def true_label(
    stepper, graph, key: UnrolledKey, prediction, class_name: Callable[[int], str]
) -> tuple[str, bool | None]:
    """The true label of an output copy, and whether the prediction is it ("" when the
    example has none: a typed input, a padded step)."""
    node = graph.node(key.node)
    target = stepper.batch.targets.get(node.params["target"])
    if target is None:
        return "", None
    target = np.asarray(target)
    if key.t is not None:
        if key.t >= target.shape[0]:
            return "", None
        target = target[key.t]
    target = target[0]
    if node.params["loss"] == "cross_entropy":
        truth = int(target)
        if truth < 0:  # a position the loss ignores
            return "", None
        chosen = int(np.asarray(prediction).reshape(-1).argmax())
        right = truth == chosen
        return f"{'✓' if right else '✗'} true: {class_name(truth)}", right
    values = np.asarray(target, dtype=float).reshape(-1)
    return "true: " + np.array2string(values[:3], precision=2), None


def prediction_text(graph, key: UnrolledKey, prediction, class_name: Callable[[int], str]) -> str:
    node = graph.node(key.node)
    values = np.asarray(prediction).reshape(-1)
    if node.params["loss"] == "cross_entropy":
        chosen = int(values.argmax())
        # p as the rest of the app says it: the network's probability, not "71 % sure"
        return f"{class_name(chosen)} p = {values[chosen]:.2f}"
    return np.array2string(values[:3], precision=2)


def step_caption(stepper) -> str:
    """Where the walk is, for the stepping toolbar: how far, what runs, at which t."""
    where = stepper.steps[stepper.position - 1] if stepper.position else None
    if where is None:
        return "  step 0: nothing computed"
    # the segments of the plan being walked, as the unrolled view labels their bands
    segment = step_words(where, stepper.executor.graph)
    step = "" if where.t is None else f" · t = {where.t}"
    return f"  {stepper.position}/{len(stepper.steps)} · {segment}{step}"


def step_words(step, graph) -> str:
    """A step in words: its segment's label, or, for a time step across several segments,
    their nodes in the order they run."""
    if len(step.segments) == 1:
        return step.segments[0].label(graph)
    names = " → ".join(graph.node(n).name for s in step.segments for n in s.nodes)
    return f"{len(step.segments)} segments · {names}"


def values_html(detail: dict) -> str:
    rows = []
    for name, value in detail.items():
        array = np.asarray(value).reshape(-1)
        shown = np.array2string(array[:8], precision=3, separator=" ")
        more = f" … ({array.size} values)" if array.size > 8 else ""
        rows.append(f"<b>{html.escape(name)}</b> = {html.escape(shown)}{more}")
    return "<br>".join(rows)
