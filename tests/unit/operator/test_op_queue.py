from datetime import timedelta

from op_factories import T0, merge_body

from videomerge_operator.queue import plan_queue
from videomerge_operator.views import merge_view


def merge(name, seconds=0, namespace="ns", **status):
    return merge_view(merge_body(name, namespace, T0 + timedelta(seconds=seconds), status=status or None))


def test_oldest_start_first_and_the_rest_get_positions():
    merges = [merge("c", 3), merge("a", 1), merge("b", 2), merge("d", 4)]
    plan = plan_queue(merges, started=set(), limit=2, scope="cluster")
    assert plan.start == [("ns", "a"), ("ns", "b")]
    assert plan.positions == {("ns", "c"): 1, ("ns", "d"): 2}


def test_names_break_ties_within_a_second():
    merges = [merge("z"), merge("y"), merge("x")]
    assert plan_queue(merges, set(), 1, "cluster").start == [("ns", "x")]


def test_running_merges_take_slots():
    merges = [merge("a", 0, phase="Processing", jobName="vm-a"), merge("b", 1), merge("c", 2)]
    plan = plan_queue(merges, started={("ns", "a")}, limit=2, scope="cluster")
    assert plan.start == [("ns", "b")]
    assert plan.positions == {("ns", "c"): 1}
    assert plan.running == 1


def test_finished_and_deleted_merges_free_their_slot():
    merges = [
        merge("a", 0, phase="Completed", jobName="vm-a"),
        merge("b", 1, phase="Failed", jobName="vm-b"),
        merge_view(merge_body("gone", created=T0, deleting=True)),
        merge("c", 2),
    ]
    plan = plan_queue(merges, started={("ns", "a"), ("ns", "b"), ("ns", "gone")}, limit=1, scope="cluster")
    assert plan.start == [("ns", "c")]


def test_a_merge_whose_recorded_job_vanished_is_not_requeued():
    merges = [merge("a", 0, phase="Pending", jobName="vm-a"), merge("b", 1)]
    plan = plan_queue(merges, started=set(), limit=1, scope="cluster")
    assert plan.start == [("ns", "b")]
    assert ("ns", "a") not in plan.positions


def test_zero_means_no_limit():
    merges = [merge(f"m{i}", i) for i in range(50)]
    plan = plan_queue(merges, set(), 0, "cluster")
    assert len(plan.start) == 50 and plan.positions == {}


def test_namespace_scope_gives_each_namespace_its_slots():
    merges = [merge("a1", 0, "a"), merge("a2", 1, "a"), merge("b1", 2, "b"), merge("b2", 3, "b")]
    plan = plan_queue(merges, started={("a", "a1")}, limit=1, scope="namespace")
    assert plan.start == [("b", "b1")]
    assert plan.positions == {("a", "a2"): 1, ("b", "b2"): 1}
    cluster = plan_queue(merges, started={("a", "a1")}, limit=1, scope="cluster")
    assert cluster.start == [] and cluster.positions[("b", "b2")] == 3
