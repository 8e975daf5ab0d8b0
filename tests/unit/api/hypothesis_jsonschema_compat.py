"""hypothesis-jsonschema 0.23.1 (which schemathesis 3 uses) calls ``many(...).more()``, an API that
Hypothesis 6.170 replaced with ``with many(...) as elements: for _ in elements``. This adapter restores
``more()`` on top of the new API, for the fuzz tests only; drop it once either side is updated (or pin
``hypothesis`` below the change in the dev group)."""

from collections.abc import Iterator
from typing import Any

from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema


class _LegacyMany:
    def __init__(self, data: Any, min_size: int, max_size: float, average_size: float) -> None:
        inner = conjecture_utils.many(data, min_size, max_size, average_size)
        self._inner = inner.__enter__()
        self._steps: Iterator[None] = iter(inner)

    def more(self) -> bool:
        try:
            next(self._steps)
        except StopIteration:
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._inner.reject(why)


class _CompatUtils:
    many = _LegacyMany

    def __getattr__(self, name: str) -> Any:
        return getattr(conjecture_utils, name)


def install() -> None:
    if not hasattr(conjecture_utils.many, "more"):
        _from_schema.cu = _CompatUtils()  # type: ignore[assignment]
