"""Marks every test with its layer from its folder: tests/unit → unit, tests/integration → integration..."""

from pathlib import Path

import pytest

LAYERS = ("unit", "integration", "e2e", "kind")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that restart shared infrastructure (the cluster) go last, so they disturb no other test.
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
    for item in items:
        parts = Path(str(item.fspath)).parts
        for layer in LAYERS:
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))
