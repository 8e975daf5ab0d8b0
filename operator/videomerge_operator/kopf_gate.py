"""kopf's readiness gate at linear cost.

kopf holds every handler until the initial listing of every indexed resource is indexed: one toggle per
listed object in a ``ToggleSet``, and every toggle added or dropped wakes every worker already waiting
for the gate. An operator starting on 10,000 VideoMerges made ~10^8 such wake-ups: minutes of CPU and
250 MB of waiting workers before its first Job (measured, ``bench/operator/bench_scale.py``). A waiter
only needs waking when what it waits for can have changed, whether all toggles are on: this set wakes
them then, and is otherwise kopf's own. kopf is pinned in pyproject.toml; the unit tests check the
internals this relies on.
"""

from collections.abc import Iterable

from kopf._cogs.aiokits import aiotoggles


class QuietToggleSet(aiotoggles.ToggleSet):
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


def install() -> None:
    """kopf builds its gate as ``aiotoggles.ToggleSet(all)`` when the operator starts."""
    aiotoggles.ToggleSet = QuietToggleSet  # type: ignore[misc]
