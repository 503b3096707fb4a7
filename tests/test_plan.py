"""The plan: the unrolled DAG as ordered segments, the one order that runs, steps and is drawn."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.stepping import Stepper
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.plan import STEP_LOOP, WHOLE_SEQUENCE, feedback_outputs, plan_for
from rnn_builder.graph.unroll import UnrolledKey, unroll
from rnn_builder.graph.validation import validate

from .numerics import random_batch

TAGGING = ("many_to_many_equal", "stacked_lstm", "bidirectional_tagger")


def _forced_sets(graph):
    tied = frozenset(feedback_outputs(graph))
    return [frozenset(), tied] if tied else [frozenset()]


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_the_segments_partition_the_unrolled_dag_in_a_topological_order(name):
    graph = new_project(name).graph
    for forced in _forced_sets(graph):
        unrolled = unroll(graph, steps=3, forced=forced)
        copies = [key for segment in unrolled.plan for key in segment.copies]
        assert len(copies) == len(set(copies))  # no copy in two segments
        assert set(copies) == set(unrolled.dag.nodes)  # and none left out
        assert unrolled.schedule == copies
        position = {key: i for i, key in enumerate(copies)}
        for u, v in unrolled.dag.edges():
            if v.node in forced:
                continue  # a forced Delay reads its target, not its input
            assert position[u] < position[v], (u, v, forced)
        # each segment holds exactly the copies of its nodes
        for segment in unrolled.plan:
            assert {key.node for key in segment.copies} == set(segment.nodes)


@pytest.mark.parametrize("name", TAGGING)
def test_a_tagging_template_runs_only_whole_sequence_segments(name):
    graph = new_project(name).graph
    plan = plan_for(graph)
    assert all(segment.kind == WHOLE_SEQUENCE for segment in plan)
    assert sorted(node for segment in plan for node in segment.nodes) == sorted(graph.nodes)
    assert not feedback_outputs(graph)
    if name == "many_to_many_equal":
        assert [segment.node for segment in plan] == [
            "words",
            "embed",
            "tagger",
            "tag_scores",
            "tags",
        ]


def test_the_encoder_decoder_has_one_step_loop_that_teacher_forcing_breaks():
    graph = new_project("encoder_decoder_feedback").graph
    plan = plan_for(graph)
    loops = [segment for segment in plan if segment.is_loop]
    assert len(loops) == 1
    (loop,) = loops
    assert loop.kind == STEP_LOOP and loop.axis == "previous_digit"
    # the order within a step: the Delay first (it reads the step before), then what it feeds
    assert loop.nodes == ("previous_digit", "decoder", "digit_scores")
    assert loop.delays == ("previous_digit",)
    assert plan.loop_of("decoder") is loop and plan.loop_of("encoder") is None

    forced = frozenset(feedback_outputs(graph))
    assert forced == {"previous_digit"}
    teacher = plan_for(graph, forced=forced)
    assert teacher.forced == forced
    assert all(segment.kind == WHOLE_SEQUENCE for segment in teacher)
    assert {segment.node for segment in teacher} == set(graph.nodes)

    unrolled = unroll(graph, steps={"words": 5, "previous_digit": 3})
    (laid_out,) = [segment for segment in unrolled.plan if segment.is_loop]
    assert laid_out.steps == 3
    assert laid_out.copies[:3] == (  # step by step: every node of the loop at step 0 first
        UnrolledKey("previous_digit", 0),
        UnrolledKey("decoder", 0),
        UnrolledKey("digit_scores", 0),
    )
    assert laid_out.label(graph) == "step loop · decoder → digit_scores ↻ previous_digit · 3 steps"
    words = unrolled.segment_of(UnrolledKey("encoder", 2))
    assert words.label(graph) == "whole sequence · encoder · 5 steps"


def test_a_reverse_direction_is_laid_out_from_its_last_step():
    graph = new_project("bidirectional_tagger").graph
    unrolled = unroll(graph, steps=3)
    tagger = unrolled.segment_of(UnrolledKey("tagger", 0, "forward"))
    assert [(k.t, k.direction) for k in tagger.copies] == [
        (0, "forward"),
        (1, "forward"),
        (2, "forward"),
        (2, "reverse"),
        (1, "reverse"),
        (0, "reverse"),
    ]
    assert tagger.label(graph).endswith("3 steps, both ways")


def test_the_plan_is_built_once_per_checked_graph_and_forced_set():
    graph = new_project("encoder_decoder_feedback").graph
    report = validate(graph)
    free, forced = plan_for(graph, report), plan_for(graph, report, frozenset({"previous_digit"}))
    assert plan_for(graph, report) is free and plan_for(graph, report, {"previous_digit"}) is forced
    assert unroll(graph, report=report).plan[0].segment is free.segments[0]
    graph.set_param("decoder", "hidden_size", 12)  # an edit: a new report, a new plan
    assert validate(graph) is not report and plan_for(graph) is not free


def test_the_executor_runs_the_plan_for_the_delays_it_forces():
    executor = Executor(new_project("encoder_decoder_feedback").graph, dtype=np.float64)
    batch = random_batch(executor, lengths=None)
    executor.report.plans.clear()
    executor.forward(batch, train=False)
    assert set(executor.report.plans) == {frozenset()}
    executor.forward(batch, train=True)
    assert set(executor.report.plans) == {frozenset(), frozenset({"previous_digit"})}


@pytest.mark.parametrize("teacher", [False, True])
@pytest.mark.parametrize(
    "name", ["encoder_decoder_feedback", "bidirectional_tagger", "many_to_one", "stacked_lstm"]
)
def test_the_stepper_walks_the_plan_a_time_step_at_a_time(name, teacher):
    executor = Executor(new_project(name).graph, dtype=np.float64)
    stepper = Stepper(executor, random_batch(executor, lengths=None), teacher=teacher)
    unrolled = stepper.unrolled
    assert unrolled.forced == executor.forced_delays(stepper.batch, teacher)
    walk = [key for step in stepper.steps for key in step.copies]
    assert sorted(walk) == sorted(unrolled.schedule)  # every copy once
    done = set()
    for key in walk:  # each after every copy it reads (a forced Delay reads its target)
        if key.node not in unrolled.forced:
            assert set(unrolled.dag.predecessors(key)) <= done, key
        done.add(key)
    order = {segment: i for i, segment in enumerate(unrolled.plan)}
    for step in stepper.steps:
        assert {key.t for key in step.copies} == {step.t}  # one step of time
        assert set(step.segments) == {unrolled.segment_of(key) for key in step.copies}
        assert all(segment.axis == step.axis for segment in step.segments)
        assert [order[s] for s in step.segments] == sorted(order[s] for s in step.segments)
    for segment in unrolled.plan:
        if segment.is_loop:  # every node of the loop at each of its steps
            steps = [step for step in stepper.steps if segment in step.segments]
            assert [step.t for step in steps] == list(range(segment.steps))
            assert all(set(segment.nodes) <= {k.node for k in step.copies} for step in steps)
    if name in ("many_to_one", "stacked_lstm"):
        # nothing reads a later step: one step per time step walks every node at it
        lengths = stepper.run.lengths
        per_step = [step for step in stepper.steps if step.t is not None]
        assert len(per_step) == sum(lengths.values())
        first = per_step[0]
        assert {k.node for k in first.copies} == {k.node for k in unrolled.schedule if k.t == 0}
    loops = [segment for segment in unrolled.plan if segment.is_loop]
    assert bool(loops) == (name == "encoder_decoder_feedback" and not teacher)
