"""kopf's readiness gate: the same gate as kopf's own, without waking every waiter per listed object."""

import asyncio
import inspect

import pytest
from kopf._cogs.aiokits import aiotoggles
from kopf._core.reactor import orchestration

from videomerge_operator.kopf_gate import QuietToggleSet

pytestmark = pytest.mark.unit
ORIGINAL = aiotoggles.ToggleSet


async def listing(gate_class: type, objects: int, waiters: int) -> tuple[int, bool]:
    """kopf's start as its watcher and workers drive the gate: a toggle per listed object, workers
    waiting for all, each object's toggle dropped once indexed. Returns (gate evaluations, opened)."""
    gate = gate_class(all)
    evaluations = 0
    is_on = gate.is_on

    def counted() -> bool:
        nonlocal evaluations
        evaluations += 1
        return is_on()

    gate.is_on = counted
    resource = await gate.make_toggle(name="resource listed")
    toggles = [await gate.make_toggle(name=f"object {i}") for i in range(objects)]
    waiting = [asyncio.create_task(gate.wait_for(True)) for _ in range(waiters)]
    await asyncio.sleep(0)
    await gate.drop_toggle(resource)
    for toggle in toggles[:-1]:
        await gate.drop_toggle(toggle)
        await asyncio.sleep(0)  # the woken waiters run
    assert not any(w.done() for w in waiting), "the gate opened before every object was indexed"
    await gate.drop_toggles(toggles[-1:])
    await asyncio.wait_for(asyncio.gather(*waiting), 5)
    return evaluations, gate.is_on()


async def test_the_gate_opens_only_when_every_object_is_indexed_and_wakes_its_waiters_once():
    quiet, opened = await listing(QuietToggleSet, objects=2000, waiters=200)
    kopfs, kopf_opened = await listing(ORIGINAL, objects=2000, waiters=200)
    assert opened and kopf_opened
    assert quiet < 10 * 2200, quiet  # linear: a few per toggle and per waiter
    assert kopfs > 20 * quiet, (kopfs, quiet)  # kopf's own wakes every waiter per toggle: 400,000


async def test_a_toggle_turned_on_still_wakes_the_waiters():
    gate = QuietToggleSet(all)
    toggle = await gate.make_toggle(name="one")
    waiter = asyncio.create_task(gate.wait_for(True))
    await asyncio.sleep(0)
    assert not waiter.done()
    await toggle.turn_to(True)
    await asyncio.wait_for(waiter, 5)


def test_kopf_still_builds_its_gate_where_install_replaces_it():
    assert "aiotoggles.ToggleSet(all)" in inspect.getsource(orchestration.orchestrator)
    assert issubclass(QuietToggleSet, ORIGINAL)


async def test_the_gate_says_when_it_opens_after_kopf_built_it():
    """What opens the operator when nothing at all is listed (no handler is ever called then)."""
    from videomerge_operator import kopf_gate

    kopf_gate.install()
    try:
        waiting = asyncio.create_task(kopf_gate.indexed())
        await asyncio.sleep(0.1)
        gate = aiotoggles.ToggleSet(all)  # as kopf's orchestrator builds it
        blocker = await gate.make_toggle(name="orchestration blocker")
        resource = await gate.make_toggle(name="videomerges listed")
        await gate.drop_toggle(blocker)
        await asyncio.sleep(0.1)
        assert not waiting.done(), "a resource still lists"
        await gate.drop_toggle(resource)
        await asyncio.wait_for(waiting, 5)
    finally:
        aiotoggles.ToggleSet = ORIGINAL
