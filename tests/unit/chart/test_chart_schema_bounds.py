"""values.schema.json refuses what the components would refuse at start: its bounds follow their settings.

A value the schema lets through but a component's settings reject becomes a crash-looping pod after a
"successful" helm install; this test keeps every bounded value's schema range inside the settings' range.
"""

import json
import math
from typing import Any

import annotated_types
import pytest
from pydantic_settings import BaseSettings
from support.tools import ROOT

from videomerge_api.settings import ApiSettings
from videomerge_operator.settings import OperatorSettings
from videomerge_worker.settings import WorkerSettings

SCHEMA = json.loads((ROOT / "charts" / "videomerge" / "values.schema.json").read_text())

# chart value → the settings fields it ends up in (the operator passes worker.* on to every worker pod).
BOUNDED: dict[str, list[tuple[type[BaseSettings], str]]] = {
    "api.maxClips": [(ApiSettings, "max_clips")],
    "api.syncTimeoutSeconds": [(ApiSettings, "sync_timeout_seconds")],
    "api.port": [(ApiSettings, "port")],
    "operator.httpPort": [(OperatorSettings, "http_port")],
    "operator.maxConcurrent": [(OperatorSettings, "max_concurrent")],
    "operator.retentionSeconds": [(OperatorSettings, "retention_seconds")],
    "worker.backoffLimit": [(OperatorSettings, "backoff_limit")],
    "worker.activeDeadlineSeconds": [(OperatorSettings, "active_deadline_seconds")],
    "worker.ttlSecondsAfterFinished": [(OperatorSettings, "ttl_seconds_after_finished")],
    "worker.maxClipBytes": [(OperatorSettings, "max_clip_bytes"), (WorkerSettings, "max_clip_bytes")],
    "worker.maxTotalDurationSeconds": [
        (OperatorSettings, "max_total_duration_seconds"),
        (WorkerSettings, "max_total_duration_seconds"),
    ],
    "worker.downloadConcurrency": [
        (OperatorSettings, "download_concurrency"),
        (WorkerSettings, "download_concurrency"),
    ],
    "s3.presignExpirySeconds": [
        (OperatorSettings, "presign_expiry_seconds"),
        (WorkerSettings, "presign_expiry_seconds"),
    ],
}


def schema_of(path: str) -> dict[str, Any]:
    node = SCHEMA
    for part in path.split("."):
        node = node["properties"][part]
    return node


def settings_range(cls: type[BaseSettings], field: str) -> tuple[float, bool, float, bool]:
    """(low, low exclusive, high, high exclusive) of a pydantic field."""
    low, low_ex, high, high_ex = -math.inf, False, math.inf, False
    for item in cls.model_fields[field].metadata:
        if isinstance(item, annotated_types.Ge):
            low, low_ex = max(low, item.ge), False
        elif isinstance(item, annotated_types.Gt):
            low, low_ex = max(low, item.gt), True
        elif isinstance(item, annotated_types.Le):
            high, high_ex = min(high, item.le), False
        elif isinstance(item, annotated_types.Lt):
            high, high_ex = min(high, item.lt), True
    return low, low_ex, high, high_ex


@pytest.mark.parametrize("path", BOUNDED)
def test_schema_range_lies_within_every_settings_range(path):
    schema = schema_of(path)
    s_low = schema.get("minimum", schema.get("exclusiveMinimum", -math.inf))
    s_low_ex = "exclusiveMinimum" in schema
    s_high = schema.get("maximum", schema.get("exclusiveMaximum", math.inf))
    s_high_ex = "exclusiveMaximum" in schema
    for cls, field in BOUNDED[path]:
        low, low_ex, high, high_ex = settings_range(cls, field)
        where = f"{path} vs {cls.__name__}.{field} ({low}..{high})"
        assert s_low > low or (s_low == low and (s_low_ex or not low_ex)), f"schema minimum too low: {where}"
        assert s_high < high or (s_high == high and (s_high_ex or not high_ex)), (
            f"schema maximum too high: {where}"
        )


def test_the_example_of_the_issue_fails_at_install():
    assert schema_of("api.syncTimeoutSeconds")["maximum"] == 3600
