"""kopf's readiness gate at linear cost.

kopf holds every handler until the initial listing of every indexed resource is indexed: one toggle per
listed object in a ``ToggleSet``, and every toggle added or dropped wakes every worker already waiting
for the gate. An operator starting on 10,000 VideoMerges made ~10^8 such wake-ups: minutes of CPU and
250 MB of waiting workers before its first Job (measured, ``bench/operator/bench_scale.py``). A waiter
only needs waking when what it waits for can have changed, whether all toggles are on: this set wakes
them then, and is otherwise kopf's own. kopf is pinned in pyproject.toml; the unit tests check the
internals this relies on.

The gate's opening is also what tells the operator that its caches hold every listed object: kopf calls
no handler when nothing is listed at all (every merge settled, no Job), and the operator must still
start then (its retention sweep lists the settled merges itself).
"""

import asyncio
from collections.abc import Callable, Iterable

from kopf._cogs.aiokits import aiotoggles

_gates: list["QuietToggleSet"] = []  # kopf's readiness gate(s) since the last install()


class QuietToggleSet(aiotoggles.ToggleSet):
    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        self.opened = asyncio.Event()  # all toggles on again, after there were some
        if fn is all:
            _gates.append(self)

    async def make_toggle(self, __val: bool = False, *, name: str | None = None) -> aiotoggles.Toggle:
        toggle = aiotoggles.Toggle(__val, name=name, condition=self._condition)
        async with self._condition:
            before = self.is_on()
            self._toggles.add(toggle)
            if self.is_on() != before:
                self._condition.notify_all()
        return toggle

    async def drop_toggle(self, toggle: aiotoggles.Toggle) -> None:
        await self.drop_toggles([toggle])

    async def drop_toggles(self, toggles: Iterable[aiotoggles.Toggle]) -> None:
        async with self._condition:
            before = self.is_on()
            self._toggles.difference_update(toggles)
            if self.is_on() != before:
                self._condition.notify_all()
                if self.is_on():
                    self.opened.set()


def install() -> None:
    """kopf builds its gate as ``aiotoggles.ToggleSet(all)`` when the operator starts."""
    _gates.clear()
    aiotoggles.ToggleSet = QuietToggleSet  # type: ignore[misc]


async def indexed() -> None:
    """Returns once kopf's gate (built after install()) has opened: every index holds its listing."""
    while not _gates:
        await asyncio.sleep(0.05)
    await _gates[0].opened.wait()
